test_that("the log-likelihood never decreases across EM iterations", {
  set.seed(21)
  x <- rbind(matrix(rnorm(300), 150), matrix(rnorm(300, 2.5), 150))
  for (model in gmm_models(d = 2)$model) {
    # Run long with a tight tolerance; the trace is checked whether or not it converged.
    f <- suppressWarnings(gmm(x, k = 3, model = model,
                              control = gmm_control(tol = 1e-12, max_iter = 300)))
    tr <- f$loglik_trace
    expect_gt(length(tr), 3)
    expect_true(all(diff(tr) >= -1e-9 * abs(tr[-1])), label = model)
    expect_equal(tail(tr, 1), f$loglik)
  }
  f <- gmm(faithful$waiting, k = 2, model = "V")
  expect_true(all(diff(f$loglik_trace) >= -1e-9 * abs(f$loglik)))
})

test_that("accelerated EM (SQUAREM) reaches plain EM's fixed point in fewer iterations", {
  set.seed(5)
  n <- 1500
  cl <- sample(3, n, replace = TRUE)
  x <- cbind(rnorm(n, c(0, 1.2, 2.4)[cl]), rnorm(n, c(0, 0.8, -0.5)[cl], c(1, 1.4, 0.8)[cl]))
  for (model in c("VVV", "EEV", "VEV", "EVE", "VVI")) {
    a <- gmm(x, k = 3, model = model, control = gmm_control(tol = 1e-14, max_iter = 1e5))
    b <- gmm(x, k = 3, model = model,
             control = gmm_control(tol = 1e-14, max_iter = 1e5, accelerate = FALSE))
    expect_true(a$converged && b$converged, label = model)
    expect_gte(a$loglik, b$loglik - 1e-12 * abs(b$loglik), label = model)
    expect_equal(a$loglik, b$loglik, tolerance = 1e-11, label = model)
    expect_equal(unlist(a$parameters), unlist(b$parameters), tolerance = 1e-4, label = model)
    expect_lt(a$iterations, b$iterations / 2)
    tr <- a$loglik_trace
    expect_true(all(diff(tr) >= -1e-9 * abs(tr[-1])), label = model)
  }
  # In 1-D too, and a prior turns it off (the same iterates either way).
  h <- c(rnorm(300, 0, 1), rnorm(200, 1.5, 1.3))
  a <- gmm(h, k = 2, model = "V", control = gmm_control(tol = 1e-14, max_iter = 1e5))
  b <- gmm(h, k = 2, model = "V", control = gmm_control(tol = 1e-14, max_iter = 1e5, accelerate = FALSE))
  expect_equal(a$loglik, b$loglik, tolerance = 1e-11)
  expect_equal(unlist(a$parameters), unlist(b$parameters), tolerance = 1e-4)
  expect_lt(a$iterations, b$iterations / 2)
  pr <- gmm_control(prior = gmm_prior(), tol = 1e-10)
  expect_identical(gmm(h, k = 2, model = "V", control = pr)$loglik_trace,
                   gmm(h, k = 2, model = "V", control = modifyList(pr, list(accelerate = FALSE)))$loglik_trace)
  expect_error(gmm_control(accelerate = NA), "`accelerate` must be TRUE or FALSE")
})

# A start that obeys the model: the fit's means moved, its covariances all rotated by
# one orthogonal matrix (except for the axis-aligned models) and scaled by one factor.
perturbed_start <- function(fit, model, r) {
  d <- fit$d
  mu <- fit$parameters$mean + 0.2 * r * matrix(rnorm(d * fit$k), d) * sqrt(diag(cov(fit$data)))
  S <- fit$parameters$sigma * exp(0.3 * r)
  if (substr(model, 3, 3) != "I") {
    Q <- qr.Q(qr(diag(d) + 0.2 * r * matrix(rnorm(d * d), d)))
    for (j in seq_len(fit$k)) S[, , j] <- Q %*% S[, , j] %*% t(Q)
  }
  list(mean = mu, sigma = S, pro = as.vector(fit$parameters$pro))
}

test_that("from perturbed starts the trace never decreases, for all 14 models", {
  sets <- list(faithful = faithful, iris = iris[1:4], swiss = swiss[, 1:4], trees = trees)
  fitted <- 0
  for (nm in names(sets)) {
    x <- as.matrix(sets[[nm]])
    for (model in gmm_models(d = ncol(x))$model) for (k in 2:3) {
      f0 <- tryCatch(suppressWarnings(gmm(x, k = k, model = model)), error = function(e) NULL)
      if (is.null(f0)) next
      for (r in 1:2) {
        set.seed(r)
        f <- tryCatch(suppressWarnings(gmm(x, k = k, model = model,
                                           init = perturbed_start(f0, model, r))),
                      error = function(e) NULL)
        if (is.null(f)) next
        fitted <- fitted + 1
        tr <- f$loglik_trace
        expect_true(all(diff(tr) >= -1e-10 * abs(tr[-1])), label = paste(nm, model, k, r))
      }
    }
  }
  expect_gt(fitted, 200)   # of 224 starts (213 when written); the others end as spurious
})

test_that("started from mclust's converged fit, the first M-step does not lower the likelihood", {
  skip_if_not_installed("mclust")
  # Cells where a first M-step that ignored the current parameters lowered the
  # log-likelihood (the orientation of EVE restarted from the pooled scatter; VEI's
  # volumes from the traces).
  data(banknote, package = "mclust", envir = environment())
  cells <- list(list(iris[1:4], "EVE", 2), list(iris[1:4], "VEI", 2),
                list(banknote[-1], "EVE", 2), list(banknote[-1], "EVE", 3))
  for (cell in cells) {
    x <- as.matrix(cell[[1]])
    m <- mclust_fit(x, G = cell[[3]], modelNames = cell[[2]])
    p <- m$parameters
    f <- gmm(x, k = cell[[3]], model = cell[[2]],
             init = list(mean = p$mean, sigma = p$variance$sigma, pro = p$pro))
    tr <- f$loglik_trace
    expect_true(all(diff(tr) >= -1e-10 * abs(tr[-1])), label = paste(cell[[2]], cell[[3]]))
    expect_gte(f$loglik, m$loglik - 1e-8 * abs(m$loglik))
  }
})

test_that("the fitted log-likelihood is that of the returned parameters", {
  f <- gmm(faithful, k = 3, model = "VVV", control = gmm_control(tol = 1e-13))
  p <- f$parameters
  r <- ref_estep(as.matrix(faithful), p$pro, p$mean, p$sigma)
  expect_equal(f$loglik, r$loglik, tolerance = 1e-10)
  expect_equal(unname(f$z), r$z, tolerance = 1e-8)
  expect_equal(f$bic, -2 * r$loglik + f$df * log(nrow(faithful)), tolerance = 1e-10)
  # A fixed point of EM: one more M-step from z reproduces the parameters.
  m <- ref_mstep(as.matrix(faithful), r$z, "VVV")
  expect_equal(unname(p$mean), m$mean, tolerance = 1e-5)
})

test_that("the entropy behind ICL, summed in the E-step, is -sum w z log z of the returned z", {
  # Well separated groups, so that many responsibilities are exactly 0 or 1.
  set.seed(12)
  x <- rbind(matrix(rnorm(60), 30), matrix(rnorm(60, 8), 30), matrix(rnorm(60, 1.5), 30))
  w <- rep(c(1, 2, 0.5), 30)
  for (model in c("EII", "VVV")) {
    f <- .Call(gaussmix:::C_gmm_fit, x, w, model, diag(3)[rep(1:3, each = 30), ], NULL,
               gaussmix:::control_vector(gmm_control(), 1L), NULL)
    zl <- ifelse(f$z > 0, f$z * log(f$z), 0)
    expect_equal(f$entropy, -sum(w * zl), tolerance = 1e-12)
    g <- gmm(x, k = 3, model = model, weights = w)
    expect_equal(g$icl, g$bic - 2 * sum(w * ifelse(g$z > 0, g$z * log(g$z), 0)),
                 tolerance = 1e-12)
    expect_equal(unname(g$icl_table["3", model]), g$icl, tolerance = 1e-12)
  }  # A component whose log term is -Inf for a row (eps = 0 lets the squared distance
  # overflow) adds 0 to the entropy, as 0 log 0 = 0, not NaN.
  cv0 <- gaussmix:::control_vector(gmm_control(max_iter = 0, eps = 0, keep_degenerate = TRUE), 1L)
  f <- .Call(gaussmix:::C_gmm_fit, matrix(c(0, 1, 2e5, 1e5)), rep(1, 4), "V", NULL,
             list(c(0.5, 0.5), matrix(c(0.5, 1e5), 1), array(c(1, 1e-300), c(1, 1, 2))),
             cv0, NULL)
  expect_identical(f$status, 0L)
  expect_equal(f$entropy, -sum(ifelse(f$z > 0, f$z * log(f$z), 0)))
})

test_that("a start from sufficient statistics is the start from the responsibilities", {
  set.seed(13)
  x <- rbind(matrix(rnorm(80), 40), matrix(rnorm(80, 2.5), 40))
  w <- rep(c(1, 3), 40)
  z <- matrix(runif(160), 80)
  z <- z / rowSums(z)
  s <- .Call(gaussmix:::C_gmm_suff, x, w, z, NULL)
  # Explicit weighted sums in R.
  for (j in 1:2) {
    g <- w * z[, j]
    mu <- colSums(g * x) / sum(g)
    xc <- sweep(x, 2, mu)
    expect_equal(s$nk[j], sum(g), tolerance = 1e-13)
    expect_equal(s$mean[, j], mu, tolerance = 1e-13)
    expect_equal(s$scatter[, , j], crossprod(xc * sqrt(g)), tolerance = 1e-12)
  }
  # A partition given as groups is its matrix of 0/1 indicators (summed group by
  # group, so to rounding), and its statistics are the explicit ones.
  cl <- max.col(z)
  sp <- .Call(gaussmix:::C_gmm_suff, x, w, cl, 2L)
  expect_equal(sp, list(.Call(gaussmix:::C_gmm_suff, x, w, diag(2)[cl, ], NULL)), tolerance = 1e-13)
  for (j in 1:2) {
    g <- w * (cl == j)
    mu <- colSums(g * x) / sum(g)
    expect_equal(sp[[1]]$nk[j], sum(g), tolerance = 1e-14)
    expect_equal(sp[[1]]$mean[, j], mu, tolerance = 1e-14)
    expect_equal(sp[[1]]$scatter[, , j], crossprod(sweep(x, 2, mu) * sqrt(g)), tolerance = 1e-13)
  }
  # Several partitions (the cuts of a tree) in one call: each as on its own.
  cl3 <- rep(1:3, length.out = 80)
  expect_identical(.Call(gaussmix:::C_gmm_suff, x, w, cbind(cl, cl3, 1L), c(2L, 3L, 1L)),
                   c(sp, .Call(gaussmix:::C_gmm_suff, x, w, cl3, 3L),
                     .Call(gaussmix:::C_gmm_suff, x, w, rep(1L, 80), 1L)))
  expect_equal(.Call(gaussmix:::C_gmm_suff, x, w, rep(1L, 80), 1L),
               list(.Call(gaussmix:::C_gmm_suff, x, w, matrix(1, 80), NULL)), tolerance = 1e-13)
  expect_error(.Call(gaussmix:::C_gmm_suff, x, w, replace(cl, 3, 3L), 2L), "1 .. 2")
  expect_error(.Call(gaussmix:::C_gmm_suff, x, w, cbind(cl, cl3), c(2L, 2L)), "1 .. 2")
  expect_error(.Call(gaussmix:::C_gmm_suff, x, w, cl[-1], 2L), "80 rows and 1 columns")
  expect_error(.Call(gaussmix:::C_gmm_suff, x, w, cl, 0L), "positive integers")
  cv <- gaussmix:::control_vector(gmm_control(), 1L)
  for (model in c("VII", "EVE", "VVV")) {
    a <- .Call(gaussmix:::C_gmm_fit, x, w, model, z, NULL, cv, NULL)
    b <- .Call(gaussmix:::C_gmm_fit, x, w, model, s, NULL, cv, NULL)
    expect_equal(b$loglik, a$loglik, tolerance = 1e-10)
    expect_equal(b$mean, a$mean, tolerance = 1e-8)
    expect_identical(b$iterations, a$iterations)
    # What a fit returns is the statistics of its final responsibilities.
    expect_equal(b$suff, .Call(gaussmix:::C_gmm_suff, x, w, b$z, NULL), tolerance = 1e-10)
  }
  bad <- s
  bad$nk[1] <- -1
  expect_error(.Call(gaussmix:::C_gmm_fit, x, w, "VVV", bad, NULL, cv, NULL), "non-negative")
  bad <- s
  bad$scatter <- bad$scatter[, , 1]
  expect_error(.Call(gaussmix:::C_gmm_fit, x, w, "VVV", bad, NULL, cv, NULL), "scatter")
  # An empty component fails the fit at the start with its reason.
  s0 <- .Call(gaussmix:::C_gmm_suff, x, w, cbind(z, 0), NULL)
  f <- .Call(gaussmix:::C_gmm_fit, x, w, "VVV", s0, NULL, cv, NULL)
  expect_identical(c(f$status, f$bad, f$iterations), c(2L, 3L, 0L))
})

test_that("frequency weights of 2 give the same fit as duplicated rows", {
  set.seed(8)
  x <- rbind(matrix(rnorm(80), 40), matrix(rnorm(80, 3), 40))
  dup <- c(1:10, 50:55)
  w <- rep(1, 80)
  w[dup] <- 2
  start <- list(mean = matrix(c(0, 0, 3, 3), 2), sigma = diag(2), pro = c(0.5, 0.5))
  for (model in c("VII", "EEE", "VVV")) {
    a <- gmm(x, k = 2, model = model, weights = w, init = start)
    b <- gmm(rbind(x, x[dup, ]), k = 2, model = model, init = start)
    expect_equal(a$loglik, b$loglik, tolerance = 1e-10)
    expect_equal(a$parameters, b$parameters, tolerance = 1e-8)
    expect_equal(a$bic, b$bic, tolerance = 1e-10)
    expect_equal(nobs(a), nrow(x) + length(dup))
  }
  # Rows of weight 0 are as good as absent.
  w0 <- c(rep(1, 80), rep(0, 5))
  a <- gmm(rbind(x, matrix(100, 5, 2)), k = 2, model = "VVV", weights = w0, init = start)
  b <- gmm(x, k = 2, model = "VVV", init = start)
  expect_equal(a$loglik, b$loglik, tolerance = 1e-10)
})

test_that("permuting the rows does not change the fit, and components are in canonical order", {
  start <- list(mean = matrix(c(2, 55, 4.5, 80), 2), sigma = diag(c(1, 50)))
  a <- gmm(faithful, k = 2, model = "VVV", init = start)
  perm <- sample(nrow(faithful))
  b <- gmm(faithful[perm, ], k = 2, model = "VVV", init = start)
  expect_equal(a$loglik, b$loglik, tolerance = 1e-10)
  expect_equal(a$parameters, b$parameters, tolerance = 1e-7)
  expect_equal(a$classification[perm], b$classification)
  # Started with the components the other way round, the result is the same.
  c2 <- gmm(faithful, k = 2, model = "VVV", init = list(mean = start$mean[, 2:1], sigma = start$sigma))
  expect_equal(c2$parameters, a$parameters, tolerance = 1e-7)
  expect_true(all(diff(a$parameters$mean[1, ]) > 0))
})

test_that("set.seed() reproduces a fit with random starts", {
  set.seed(42)
  a <- gmm(iris[1:4], k = 2:4, model = c("VII", "VVV"), init = "kmeans++", n_init = 2)
  set.seed(42)
  b <- gmm(iris[1:4], k = 2:4, model = c("VII", "VVV"), init = "kmeans++", n_init = 2)
  expect_identical(a$parameters, b$parameters)
  expect_identical(a$bic_table, b$bic_table)
  set.seed(1)
  r <- gmm(iris[1:4], k = 3, model = "VVV", init = "random", n_init = 3)
  expect_s3_class(r, "gmm")
})

test_that("more restarts never give a worse log-likelihood for the first seed", {
  set.seed(9)
  one <- gmm(iris[1:4], k = 4, model = "VVV", init = "kmeans++", n_init = 1)
  set.seed(9)
  five <- gmm(iris[1:4], k = 4, model = "VVV", init = "kmeans++", n_init = 5)
  expect_gte(five$loglik, one$loglik - 1e-8)
})

test_that("reaching max_iter warns and is recorded", {
  expect_warning(f <- gmm(faithful, k = 3, model = "VVV", control = gmm_control(max_iter = 2)),
                 "did not converge")
  expect_false(f$converged)
  expect_equal(f$iterations, 2L)
  expect_length(f$loglik_trace, 3L)
})

test_that("degenerate cells fail with a reason, never NaN", {
  set.seed(4)
  x <- rbind(matrix(rnorm(20), 10), matrix(c(5, 5), 10, 2, byrow = TRUE))
  f <- expect_silent(gmm(x, k = 1:4, model = c("VVV", "EEE", "VII")))
  expect_null(f$degenerate)
  reasons <- attr(f$bic_table, "reasons")
  expect_true(any(!is.na(reasons)))
  expect_true(all(is.na(f$bic_table) == !is.na(reasons)))
  expect_match(reasons[!is.na(reasons)], "singular|lost its weight|spurious")
  expect_equal(reasons["4", "VVV"], "23 free parameters, not fewer than the 11 distinct rows (a fit would be spurious)")
  expect_false(anyNA(unlist(f[c("loglik", "bic", "icl", "z", "uncertainty")])))
  expect_true(all(is.finite(unlist(f$parameters))))
  # Kept on request, the spurious VVV fit with K = 2 wins and is flagged.
  expect_warning(g <- gmm(x, k = 1:4, model = c("VVV", "EEE", "VII"),
                          control = gmm_control(keep_degenerate = TRUE)),
                 "14 free parameters but the data only 11 distinct rows")
  # Too few points for VVV with 4 components on 5 rows: every cell fails -> clear error.
  expect_error(gmm(x[c(1:4, 11), ], k = 4, model = "VVV"), "no \\(K, model\\) combination")
})

test_that("a ridge keeps fits defined on a constant column", {
  x <- cbind(a = faithful$eruptions, b = 1)
  expect_error(gmm(x, k = 2), "column 'b' is constant")
  expect_error(gmm(cbind(x, c = 2), k = 2), "columns 'b', 'c' are constant")
  f <- gmm(x, k = 2, model = "VVV", control = gmm_control(reg = 1e-4))
  expect_equal(unname(f$parameters$sigma[2, 2, ]), c(1e-4, 1e-4))
  expect_true(is.finite(f$loglik))
})

test_that("screening at screen_tol then refining gives the chosen fit at full precision", {
  full <- suppressWarnings(gmm(faithful, control = gmm_control(screen_tol = 0)))
  fast <- suppressWarnings(gmm(faithful))
  expect_equal(fast$model, full$model)
  expect_equal(fast$k, full$k)
  expect_equal(fast$loglik, full$loglik, tolerance = 1e-8)
  expect_true(fast$converged)
  # The chosen cell's entry in the table is the refined value.
  expect_equal(unclass(fast$bic_table)[as.character(fast$k), fast$model], fast$bic)
  # Its trace runs on through both stages and never goes down.
  expect_true(all(diff(fast$loglik_trace) >= -1e-9 * abs(fast$loglik)))
  # One entry per M-step without acceleration; with it, a SQUAREM cycle's M-step
  # to the point it extrapolates from has no log-likelihood of its own.
  expect_lte(length(fast$loglik_trace), fast$iterations + 1L)
  plain <- suppressWarnings(gmm(faithful, control = gmm_control(accelerate = FALSE)))
  expect_equal(length(plain$loglik_trace), plain$iterations + 1L)
})

test_that("SQUAREM cycles stay within max_iter and count every M-step's inner loop", {
  x <- as.matrix(faithful)
  # A cycle takes two M-steps: it starts only when both fit within max_iter.
  for (mi in 50:60) {
    f <- suppressWarnings(gmm(x, k = 3, model = "VVV", threads = 1,
                              control = gmm_control(max_iter = mi, screen_tol = 1e-8)))
    expect_lte(f$iterations, mi)
  }
  # With inner_max_iter = 1 every VEI M-step stops its inner loop at the cap, so
  # inner_fail counts every M-step (and the initial one), with or without cycles.
  for (a in c(TRUE, FALSE)) {
    f <- suppressWarnings(gmm(x, k = 3, model = "VEI", control = gmm_control(
      inner_max_iter = 1, screen_tol = 1e-8, accelerate = a)))
    expect_equal(f$inner_fail, f$iterations + 1L, label = paste("accelerate", a))
  }
})

test_that("a cell whose refinement breaks down keeps its screened fit", {
  skip_if_not_installed("mclust")
  e <- new.env()
  utils::data("diabetes", package = "mclust", envir = e)
  # With the default screening, one near-best cell of this grid collapses while
  # being refined; the sweep must carry on with the screened values.
  f <- suppressWarnings(gmm(e$diabetes[-1]))
  expect_s3_class(f, "gmm")
  expect_true(all(is.finite(unclass(f$icl_table)[!is.na(unclass(f$bic_table))])))
})

test_that("review fixes: refinement that breaks down fails its cell; it keeps to max_iter", {
  skip_if_not_installed("mclust")
  e <- new.env()
  utils::data("acidity", package = "mclust", envir = e)
  # K = 5 with V collapses on the way to tol, alone or beside K = 6.
  expect_error(gmm(e$acidity, k = 5, model = "V"), "singular")
  expect_error(gmm(e$acidity, k = 5:6, model = "V"), "while refining to tol")
  f <- suppressWarnings(gmm(faithful, control = gmm_control(max_iter = 10)))
  expect_lte(f$iterations, 10)
})

test_that("weights of any scale give the same estimates; the log-likelihood and BIC use them", {
  x <- as.matrix(faithful)
  ref <- gmm(x, k = 2, model = "VVV")
  set.seed(9)
  refk <- gmm(x, k = 3, model = "VVI", init = "kmeans++")
  for (cc in c(1e-300, 1e-154, 1, 1e154, 1e300)) {
    f <- gmm(x, k = 2, model = "VVV", weights = rep(cc, 272))
    expect_equal(f$parameters, ref$parameters, tolerance = 1e-8)
    expect_equal(f$loglik, cc * ref$loglik, tolerance = 1e-8)
    expect_equal(f$bic, -2 * cc * ref$loglik + f$df * (log(cc) + log(272)), tolerance = 1e-8)
    expect_equal(nobs(f), 272 * cc)
    expect_equal(f$z, ref$z, tolerance = 1e-8)
    set.seed(9)
    g <- gmm(x, k = 3, model = "VVI", init = "kmeans++", weights = rep(cc, 272))
    expect_equal(g$parameters, refk$parameters, tolerance = 1e-8)
    s <- expect_silent(summary(g))
    expect_false(anyNA(s$table))
  }
  # The whole default sweep runs at the extreme scales too.
  expect_s3_class(gmm(x, weights = rep(1e300, 272)), "gmm")
  expect_s3_class(gmm(x, weights = rep(1e-300, 272)), "gmm")
  # Sums beyond the largest double are refused, naming the weights.
  expect_error(gmm(x, k = 2, weights = rep(1e307, 272)), "`weights` sum to more than the largest double")
  # One row carrying nearly all the weight is, as frequency weights say, nearly all
  # the data: a finite fit concentrated there.
  r <- gmm(x, weights = c(1e200, rep(1, 271)))
  expect_true(all(is.finite(unlist(r[c("loglik", "bic", "icl", "z", "parameters")]))))
  expect_equal(unname(r$parameters$mean[, which.max(r$parameters$pro)]), unname(x[1, ]),
               tolerance = 1e-6)
})

test_that("review fixes: rows of weight 0 sit out", {
  set.seed(5)
  y <- c(rnorm(50), 40)
  a <- gmm(y, k = 1:2, weights = c(rep(1, 50), 0))
  b <- gmm(y[1:50], k = 1:2)
  expect_equal(a$loglik, b$loglik)
  expect_length(a$classification, 51)
  expect_equal(sum(a$z[51, ]), 1)
  expect_error(gmm(c(rnorm(50), 1e300), weights = c(rep(1, 50), 0)), "rows of weight 0")
})

test_that("review fixes: the hierarchical start copes with constant data and a small hc_max_n", {
  # One distinct value: any fit is spurious, unless asked for.
  expect_error(gmm(rep(3, 20), k = 1:2, control = gmm_control(reg = 0.01)), "1 distinct rows")
  f <- suppressWarnings(gmm(rep(3, 20), k = 1:2,
                            control = gmm_control(reg = 0.01, keep_degenerate = TRUE)))
  expect_true(is.finite(f$loglik))
  g <- gmm(faithful, k = 1:5, control = gmm_control(hc_max_n = 3))
  expect_s3_class(g, "gmm")
})
