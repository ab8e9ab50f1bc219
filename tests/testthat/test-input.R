test_that("bad data gets an error naming the argument and the problem", {
  expect_error(gmm(NULL), "`x` must be a numeric vector, matrix or data frame, not NULL")
  expect_error(gmm(numeric(0)), "`x` is empty")
  expect_error(gmm(matrix(numeric(0), 0, 2)), "`x` is empty")
  expect_error(gmm(c(1, 2, NA, 4), k = 1), "missing values .* row 3")
  expect_error(gmm(c(1, 2, NaN, 4), k = 1), "missing values")
  expect_error(gmm(c(1, Inf, 3), k = 1), "infinite values")
  expect_error(gmm(letters), "`x` must be a numeric vector.*not character")
  expect_error(gmm(factor(1:5)), "`x` must be a numeric vector")
  expect_error(gmm(c(TRUE, FALSE, TRUE)), "`x` must be a numeric vector")
  expect_error(gmm(list(1, 2)), "`x` must be a numeric vector")
  expect_error(gmm(iris), "'Species' is factor")
  expect_error(gmm(data.frame(a = 1:5, b = letters[1:5])), "'b' is character")
  expect_error(gmm(5, k = 1), "at least 2 rows")
  expect_error(gmm(c(3, 3, 3), k = 1), "constant")
  expect_error(gmm(Sys.Date() + 1:20), "not Date of length 20")
  expect_error(gmm(complex(real = 1:10, imaginary = 1)), "not complex")
  expect_error(gmm(matrix(TRUE, 5, 2)), "not logical matrix")
  expect_error(gmm(data.frame(a = rnorm(20), b = Sys.Date() + 1:20)), "'b' is Date")
  expect_error(gmm(cbind(a = rnorm(9), b = 1, c = 2)), "columns 'b', 'c' are constant.*drop them")
  # A time series is a numeric vector like any other.
  set.seed(1)
  y <- c(rnorm(50), rnorm(50, 5))
  expect_equal(gmm(ts(y), k = 2, model = "E")$loglik, gmm(y, k = 2, model = "E")$loglik)
  expect_error(gmm(as.matrix(faithful) * 1e300), "columns 'eruptions', 'waiting' are outside 1e-250 to 1e250 in variance \\(Inf, Inf\\).*rescale")
  expect_error(gmm(faithful$waiting * 1e-300), "column 'x' is outside 1e-250")
})

test_that("the default k stops at the number of rows; an explicit k does not", {
  f <- gmm(c(1, 1.5, 2, 7, 8, 8.5))
  expect_equal(rownames(f$bic_table), as.character(1:6))
  expect_error(gmm(c(1, 1.5, 2, 7, 8, 8.5), k = 1:9), "at most the number of rows")
})

test_that("bad k gets a clear error", {
  x <- faithful
  expect_error(gmm(x, k = 0), "`k` must be whole number")
  expect_error(gmm(x, k = -1), "`k` must be whole number")
  expect_error(gmm(x, k = 1.5), "`k` must be whole number")
  expect_error(gmm(x, k = NA), "`k` must be whole number")
  expect_error(gmm(x, k = "2"), "`k` must be whole number")
  expect_error(gmm(x[1:5, ], k = 6), "at most the number of rows with positive weight \\(5\\)")
})

test_that("bad weights get a clear error", {
  x <- faithful
  expect_error(gmm(x, k = 2, weights = 1:3), "one weight per row \\(272\\)")
  expect_error(gmm(x, k = 2, weights = c(-1, rep(1, 271))), "non-negative")
  expect_error(gmm(x, k = 2, weights = c(NA, rep(1, 271))), "non-negative")
  expect_error(gmm(x, k = 2, weights = rep(0, 272)), "all zero")
  expect_error(gmm(x, k = 2, weights = rep("a", 272)), "numeric vector")
})

test_that("bad models, init and control get a clear error", {
  expect_error(gmm(faithful, model = "XYZ"), "unknown name\\(s\\) \"XYZ\"")
  expect_error(gmm(faithful, model = "V"), "\"V\" is not defined for 2-dimensional data")
  expect_error(gmm(faithful$waiting, model = "VVV"), "not defined for 1-D data")
  expect_error(gmm(faithful, model = 3), "`model` must be NULL or a character vector")
  expect_equal(gmm(faithful, k = 2, model = "full")$model, "VVV")
  expect_equal(gmm(faithful$waiting, k = 2, model = "tied")$model, "E")
  expect_error(gmm(faithful, init = "ward"), "`init` must be one or more of")
  expect_error(gmm(faithful, init = 3), "`init` must be")
  expect_error(gmm(faithful$waiting, init = list(mean = c(50, 80))), "must give `sigma`")
  expect_error(gmm(faithful$waiting, init = list(mean = c(50, 80), sd = c(5, -1))),
               "positive standard deviations")
  expect_error(gmm(faithful$waiting, init = list(mean = c(50, 80), sd = 5, pro = c(0.2, 0.2))),
               "summing to 1")
  expect_error(gmm(faithful$waiting, init = list(mean = c(50, 80), sd = 5, foo = 1)),
               "unknown: \"foo\"")
  expect_error(gmm(faithful$waiting, k = 3, init = list(mean = c(50, 80), sd = 5)),
               "must equal the number of components given in `init` \\(2\\)")
  expect_error(gmm(faithful, init = list(mean = c(50, 80), sigma = diag(2))), "2 x K matrix")
  expect_error(gmm(faithful, init = list(mean = matrix(1:4, 2), sigma = -diag(2))),
               "not a symmetric positive definite")
  expect_error(gmm(faithful, n_init = 0), "`n_init`")
  expect_error(gmm(faithful, control = 1), "`control` must be made by gmm_control")
  expect_error(gmm_control(tol = -1), "`tol` must be a single finite number >= 0")
  expect_error(gmm_control(max_iter = 2.5), "`max_iter`")
  expect_error(gmm_control(reg = NA), "`reg`")
  expect_equal(gmm(faithful, k = 2, model = "EEE", control = list(tol = 1e-6))$control$tol, 1e-6)
})

test_that("the C entry points reject malformed arguments with an R error", {
  call_fit <- function(...) .Call(gaussmix:::C_gmm_fit, ..., NULL)
  x <- as.matrix(faithful)
  w <- rep(1, 272)
  cv <- c(1e-8, 100, 0, 1e-12, 1e-8, 100, 1, 1e-8, 1, 1e-5)
  z <- matrix(1, 272, 1)
  expect_error(call_fit(1:3, w, "VVV", z, NULL, cv), "'x' must be a double matrix")
  expect_error(call_fit(x, 1, "VVV", z, NULL, cv), "'w' must have length 272")
  expect_error(call_fit(x, w, "ABC", z, NULL, cv), "unknown model")
  expect_error(call_fit(x, w, NA_character_, z, NULL, cv), "single string")
  expect_error(call_fit(x, w, "V", z, NULL, cv), "not defined for 2-dimensional")
  expect_error(call_fit(x, w, "VVV", NULL, NULL, cv), "exactly one")
  expect_error(call_fit(x, w, "VVV", z, NULL, 1), "'control' must have length 10")
  expect_error(call_fit(x, w, "VVV", matrix(1, 3, 1), NULL, cv), "'z0' must have 272 rows")
  expect_error(call_fit(x, w, "VVV", NULL, list(1, 2), cv), "list\\(pro, mean, sigma\\)")
  expect_error(call_fit(x, w, "VVV", NULL, list(1, c(1, 2), 3), cv), "'par0\\$sigma' must have length 4")
  expect_error(call_fit(x, w, "VVV", z, NULL, c(1e-8, NaN, 0, 1e-12, 1e-8, 100, 1, 1e-8, 1, 1e-5)), "'control' must hold")
  expect_error(call_fit(x, w, "VVV", z, NULL, c(1e-8, 2.5, 0, 1e-12, 1e-8, 100, 1, 1e-8, 1, 1e-5)), "'control' must hold")
  expect_error(call_fit(x, w, "VVV", z, NULL, c(1e-8, 100, 0, 1e-12, 1e-8, 100, 1, 1e-8, 1, 2)), "0 <= accel <= 1")
  expect_error(call_fit(replace(x, 3, NaN), w, "VVV", z, NULL, cv), "'x' must be finite")
  p0 <- list(c(0.5, 0.5), c(1, 2, 3, 4), c(1, 0.5, 0, 1, 1, 0, 0, 1))
  expect_error(call_fit(x, w, "VVV", NULL, p0, cv), "'par0\\$sigma' must be symmetric")
  p0[[1]] <- c(5, 5)
  expect_error(call_fit(x, w, "VVV", NULL, p0, cv), "'par0\\$pro' must sum to 1")
  expect_error(.Call(gaussmix:::C_gmm_kmeans, x, w, 0L, 5L), "1 <= k")
  expect_error(.Call(gaussmix:::C_gmm_kmeans, x, c(1, 1, rep(0, 270)), 3L, 5L), "positive weight")
  expect_error(.Call(gaussmix:::C_gmm_estep, x, "a", c(1, 2), diag(2)), "'pro' must be a double")
  expect_error(.Call(gaussmix:::C_gmm_estep, x, 1, c(1, 2, 3), diag(2)), "'mean' must have length 2")
  expect_error(.Call(gaussmix:::C_gmm_estep, x, 1, c(1, 2), -diag(2)), "not positive definite")
  expect_error(.Call(gaussmix:::C_gmm_estep, x, 1, c(NA, 2), diag(2)), "'mean' must be finite")
  expect_error(.Call(gaussmix:::C_gmm_estep, replace(x, 1, Inf), 1, c(1, 2), diag(2)),
               "'x' must be finite")
  # A failed fit returns NA parameters, never uninitialised memory.
  bad <- call_fit(x, w, "VVV", cbind(rep(1, 272), 0), NULL, cv)
  expect_equal(bad$status, 2L)
  expect_true(all(is.na(c(bad$pro, bad$mean, bad$sigma, bad$z))))
  expect_equal(gmm_models(d = 2000, k = 1000)$df[gmm_models()$model[-(1:2)] == "VVV"],
               1000 * 2000 * 2001 / 2 + 1000 * 2000 + 999)
})

test_that("column names: duplicates are refused; missing ones are named by position, and predict() agrees", {
  x <- as.matrix(faithful)
  dd <- data.frame(a = faithful$eruptions, a = faithful$waiting, check.names = FALSE)
  expect_error(gmm(dd, k = 2), "duplicated column names: 'a' \\(columns 1, 2\\)")
  for (nm in list(c(NA, "waiting"), c("", "waiting"), c(NA, NA), c("", NA), NULL)) {
    y <- x
    colnames(y) <- nm
    f <- gmm(y, k = 2, model = "VVV")
    expect_identical(rownames(f$parameters$mean),
                     if (is.null(nm)) c("x1", "x2") else ifelse(is.na(nm) | nm == "", c("x1", "x2"), nm))
    expect_identical(f$data, y)   # kept as given, not renamed in a copy
    expect_equal(predict(f, y, type = "prob"), f$z, tolerance = 1e-12)
    expect_equal(predict(f, type = "prob"), f$z, tolerance = 1e-12)
  }
  # A name that collides with a position's name is a duplicate too.
  y <- x
  colnames(y) <- c(NA, "x1")
  expect_error(gmm(y, k = 2), "'x1' \\(columns 1, 2\\).*x<column number>")
  # Swapped named columns in newdata are matched by name.
  f <- gmm(x, k = 2, model = "VVV")
  expect_equal(predict(f, x[, 2:1], type = "prob"), f$z, tolerance = 1e-12)
  dd2 <- data.frame(eruptions = 1:3, eruptions = 4:6, waiting = 60:62, check.names = FALSE)
  expect_error(predict(f, dd2), "`newdata` has duplicated column names: 'eruptions'")
  # Duplicated names among columns the fit does not use are no matter.
  extra <- cbind(x, a = 1, a = 2)
  expect_equal(predict(f, extra, type = "prob"), f$z, tolerance = 1e-12)
})

test_that("a double matrix is not copied, and the object holds x, z and no per-row extras", {
  set.seed(3)
  x <- matrix(rnorm(4000), ncol = 2)   # no column names: the fit names them, not x
  x[1:1000, ] <- x[1:1000, ] + 4
  if (capabilities("profmem")) {
    tracemem(x)
    expect_output(f <- gmm(x, k = 2, model = "VVV"), NA)   # tracemem prints on a copy
    untracemem(x)
  } else {
    f <- gmm(x, k = 2, model = "VVV")
  }
  expect_identical(f$data, x)
  expect_null(f[["weights"]])
  expect_identical(weights(f), rep(1, 2000))
  expect_identical(nobs(f), 2000)
  stored <- vapply(unclass(f), function(e) length(e) >= 2000, logical(1))
  expect_identical(names(stored)[stored], c("data", "z"))
  # the derived per-row results, against the responsibilities by explicit algebra
  expect_identical(f$classification, max.col(f$z, ties.method = "first"))
  expect_identical(f[["uncertainty"]], 1 - apply(f$z, 1, max))
  expect_identical(f$class, f$classification)   # `$` still matches partially
})
