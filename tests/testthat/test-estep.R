test_that("E-step matches an explicit normal density computation", {
  set.seed(11)
  for (d in c(1, 2, 3, 4, 7, 10)) for (k in c(1, 3)) {
    p <- random_params(d, k)
    x <- matrix(rnorm(40 * d, sd = 3), ncol = d)
    e <- c_estep(x, p)
    r <- ref_estep(x, p$pro, p$mean, p$sigma)
    expect_equal(e$z, r$z, tolerance = 1e-10)
    dens <- sapply(seq_len(k), function(j) {
      p$pro[j] * exp(ref_logdnorm(x, p$mean[, j], matrix(p$sigma[, , j], d, d)))
    })
    expect_equal(e$logdens, log(rowSums(matrix(dens, ncol = k))), tolerance = 1e-10)
  }
})

test_that("1-D E-step agrees with dnorm()", {
  p <- list(pro = c(0.3, 0.7), mean = matrix(c(0, 5), 1), sigma = array(c(1, 4), c(1, 1, 2)))
  x <- matrix(c(-1, 0, 2.5, 7))
  e <- c_estep(x, p)
  num <- cbind(0.3 * dnorm(x, 0, 1), 0.7 * dnorm(x, 5, 2))
  expect_equal(e$z, num / rowSums(num), tolerance = 1e-12)
  expect_equal(e$logdens, log(rowSums(num)), tolerance = 1e-12)
})

test_that("the E-step's own exp() and log() agree with R's to a few ulp across their range", {
  # Two unit-variance components at 0 and 10 with equal weights: at x the log odds of
  # the second are t = 10 x - 50, which runs over [-50, 0] for x in [0, 5], the range
  # where the E-step evaluates exp() itself.
  x <- matrix(c(seq(0, 5, length.out = 2001), -1e-3, -1))
  p <- list(pro = c(0.5, 0.5), mean = matrix(c(0, 10), 1), sigma = array(1, c(1, 1, 2)))
  e <- c_estep(x, p)
  l1 <- log(0.5) + dnorm(x, 0, 1, log = TRUE)
  l2 <- log(0.5) + dnorm(x, 10, 1, log = TRUE)
  inside <- seq_len(2001)
  ref <- exp(l2 - l1)[inside] / (1 + exp(l2 - l1)[inside])
  expect_lt(max(abs(e$z[inside, 2] / ref - 1)), 1e-13)
  expect_lt(max(abs(e$logdens[inside] / (l1 + log1p(exp(l2 - l1)))[inside] - 1)), 1e-14)
  # Beyond 50 nats below the largest term a responsibility is exactly 0.
  expect_identical(e$z[2002:2003, 2], c(0, 0))
  # K identical components: the sum of the shifted terms is exactly K, so the log
  # density is log(K) + log(1/K) + log dnorm; this covers log() on [1, 9].
  for (k in 1:9) {
    pk <- list(pro = rep(1 / k, k), mean = matrix(0, 1, k), sigma = array(1, c(1, 1, k)))
    ek <- c_estep(x[inside, , drop = FALSE], pk)
    expect_lt(max(abs(ek$logdens / dnorm(x[inside], log = TRUE) - 1)), 1e-14)
    expect_lt(max(abs(ek$z - 1 / k)), 1e-16)
  }
})

test_that("exp() gives the same bits row by row as sixteen rows at a time", {
  # Rows go through exp() sixteen at a time where the processor has AVX-512 (the
  # table read by a permutation) and one at a time in a block's last rows or
  # elsewhere (the table read as an array): a row alone takes the second path.
  # 413 rows are a block of 256 and one of 157 = 9 x 16 + 13, so both paths run
  # within a block.
  set.seed(11)
  x <- matrix(c(seq(0, 5, length.out = 203), runif(208, -2, 7), -1e-3, -1))
  p <- list(pro = c(0.2, 0.5, 0.3), mean = matrix(c(0, 10, 4), 1), sigma = array(c(1, 1, 0.5), c(1, 1, 3)))
  all_rows <- c_estep(x, p)
  one_by_one <- lapply(seq_len(nrow(x)), function(i) c_estep(x[i, , drop = FALSE], p))
  expect_identical(all_rows$z, do.call(rbind, lapply(one_by_one, `[[`, "z")))
  expect_identical(all_rows$logdens, vapply(one_by_one, `[[`, 0, "logdens"))
})

test_that("a point 1e4 standard deviations from every component gets finite responsibilities", {
  p <- list(pro = c(0.5, 0.5), mean = matrix(c(0, 0, 3, 3), 2),
            sigma = array(diag(2), c(2, 2, 2)))
  x <- rbind(c(1, 1), c(1e4, 1e4), c(-2e4, 5e3))
  e <- c_estep(x, p)
  expect_true(all(is.finite(e$z)))
  expect_equal(rowSums(e$z), rep(1, 3), tolerance = 1e-14)
  # Closed form for the far point: the log-density of each component is
  # -log(2 pi) - |x - mu|^2 / 2, so the log odds are the difference of the two.
  q <- c(sum((x[2, ] - 0)^2), sum((x[2, ] - 3)^2)) / 2
  expect_equal(e$logdens[2], log(0.5) - log(2 * pi) - min(q) + log1p(exp(-abs(diff(q)))),
               tolerance = 1e-12)
  expect_equal(e$z[2, 2], 1)  # component 2 is nearer, by a margin of e^-59994
  # Exponentiating first underflows to 0/0 here: that is what log space avoids.
  expect_true(is.nan(ref_estep(x[2, , drop = FALSE], p$pro, p$mean, p$sigma)$z[1, 1]))
})

test_that("log densities give the same bits row by row as sixteen rows at a time", {
  # With AVX-512, blocks of sixteen rows of 3 to 10 columns keep their whitened
  # residuals in registers; a row alone takes the loops along the rows. 41 rows are
  # two groups of sixteen and nine rows left.
  set.seed(12)
  for (d in 3:11) {
    p <- random_params(d, 3)
    x <- matrix(rnorm(41 * d, sd = 2), ncol = d)
    all_rows <- c_estep(x, p)
    one_by_one <- lapply(seq_len(nrow(x)), function(i) c_estep(x[i, , drop = FALSE], p))
    expect_identical(all_rows$logdens, vapply(one_by_one, `[[`, 0, "logdens"))
    expect_identical(all_rows$z, do.call(rbind, lapply(one_by_one, `[[`, "z")))
  }
})

# A screening pass in single precision (estep.c) against the E-step and sums written
# out in R: its log-likelihood within 1e-6 (relative; float's rounding is 6e-8 a
# step), the M-step sums about the means within 1e-5 of the largest of their kind.
single_check <- function(x, pro, mean, sigma) {
  x <- as.matrix(x)
  d <- ncol(x)
  k <- length(pro)
  ref <- ref_estep(x, pro, mean, sigma)
  out <- .Call(gaussmix:::C_gmm_single_pass, x, pro, as.vector(mean), as.vector(sigma))
  expect_true(out$ok)
  expect_lt(abs(out$loglik - ref$loglik), 1e-6 * abs(ref$loglik))
  rowll <- log(rowSums(sapply(seq_len(k), function(j) {
    pro[j] * exp(ref_logdnorm(x, mean[, j], matrix(sigma[, , j], d, d)))
  })))
  expect_lt(abs(out$abs - sum(abs(rowll))), 1e-6 * sum(abs(rowll)))
  # the responsibilities' sums are scaled to add up to the rows, as in double
  expect_lt(abs(sum(out$nk) - nrow(x)), 1e-10 * nrow(x))
  nk <- colSums(ref$z)
  s <- sapply(seq_len(k), function(j) colSums(sweep(x, 2, mean[, j]) * ref$z[, j]))
  W <- sapply(seq_len(k), function(j) crossprod(sweep(x, 2, mean[, j]) * sqrt(ref$z[, j])))
  expect_lt(max(abs(out$nk - nk)), 1e-5 * max(nk))
  expect_lt(max(abs(as.vector(out$s) - as.vector(s))), 1e-5 * max(abs(W)))
  expect_lt(max(abs(as.vector(out$W) - as.vector(W))), 1e-5 * max(abs(W)))
}

test_that("a pass in single precision gives the E-step's log-likelihood and sums", {
  set.seed(11)
  x <- rbind(matrix(rnorm(1200), ncol = 2), cbind(rnorm(500, 4), rnorm(500, 1, 0.5)))
  mean <- cbind(c(0.2, 0.1), c(3.5, 1.2), c(1, -1))
  sigma <- array(c(1, 0.3, 0.3, 1.2, 0.8, -0.1, -0.1, 0.4, 2, 0, 0, 2), c(2, 2, 3))
  pro <- c(0.5, 0.35, 0.15)
  single_check(x, pro, mean, sigma)
  # far from the origin: the rows are centred before they are rounded to float
  single_check(x + 1e6, pro, mean + 1e6, sigma)
  # one column, and more rows than one block holds
  single_check(x[, 1, drop = FALSE], pro, mean[1, , drop = FALSE], sigma[1, 1, , drop = FALSE])
  # a component narrow against the data's range is left to double precision
  narrow <- sigma
  narrow[, , 3] <- diag(1e-6, 2)
  out <- .Call(gaussmix:::C_gmm_single_pass, x, pro, as.vector(mean), as.vector(narrow))
  expect_false(out$ok)
  expect_true(is.na(out$loglik))
  # so is one narrow only given the other coordinate (highly correlated)
  corr <- sigma
  corr[, , 1] <- matrix(c(1, 1 - 1e-7, 1 - 1e-7, 1), 2)
  out <- .Call(gaussmix:::C_gmm_single_pass, x, pro, as.vector(mean), as.vector(corr))
  expect_false(out$ok)
  # and so are data whose range float would not hold with room to spare
  for (s in c(1e40, 1e-40)) {
    out <- .Call(gaussmix:::C_gmm_single_pass, x * s, pro, as.vector(mean * s),
                 as.vector(sigma * s^2))
    expect_false(out$ok)
    set.seed(1)
    a <- gmm(x * s, k = 2:3, model = c("EII", "VVV"))
    set.seed(1)
    b <- gmm(x * s, k = 2:3, model = c("EII", "VVV"), control = gmm_control(screen_single = FALSE))
    expect_identical(unclass(a$bic_table), unclass(b$bic_table))
  }
})

test_that("screening in single precision keeps the choice and the chosen fit", {
  set.seed(12)
  x <- rbind(cbind(rnorm(900), rnorm(900)), cbind(rnorm(700, 2.5), rnorm(700, 1, 0.6)),
             cbind(rnorm(400, -1, 0.4), rnorm(400, 3)))
  set.seed(1)
  a <- gmm(x, k = 1:5)
  set.seed(1)
  b <- gmm(x, k = 1:5, control = gmm_control(screen_single = FALSE))
  expect_identical(c(a$model, a$k, a$start), c(b$model, b$k, b$start))
  expect_lt(abs(a$loglik - b$loglik), 1e-8 * abs(b$loglik))
  expect_equal(a$parameters, b$parameters, tolerance = 1e-5)
  # the first pass of the same start, in float and in double
  expect_false(identical(a$loglik_trace[1], b$loglik_trace[1]))
  expect_lt(abs(a$loglik_trace[1] - b$loglik_trace[1]), 1e-6 * abs(b$loglik_trace[1]))
  # screened cells stop where a step gains at most screen_tol: within about that
  expect_lt(max(abs(unclass(a$bic_table) - unclass(b$bic_table)) / abs(unclass(b$bic_table)),
                na.rm = TRUE), 1e-4)
  expect_identical(is.na(unclass(a$bic_table)), is.na(unclass(b$bic_table)))
  # the screening part of the trace ends on a log-likelihood in double precision, and
  # the part after it continues from there
  expect_true(a$screened >= 1L)
  expect_true(all(diff(a$loglik_trace[a$screened:length(a$loglik_trace)]) >= -1e-9 * abs(a$loglik)))
  # a 1-D sweep
  h <- c(rnorm(300, 163, 2.5), rnorm(700, 178, 5.5))
  set.seed(1)
  a <- gmm(h)
  set.seed(1)
  b <- gmm(h, control = gmm_control(screen_single = FALSE))
  expect_identical(c(a$model, a$k), c(b$model, b$k))
  expect_lt(abs(a$loglik - b$loglik), 1e-8 * abs(b$loglik))
  expect_error(gmm_control(screen_single = NA), "`screen_single` must be TRUE or FALSE")
})

test_that("screening leaves float where its rounding could decide a fit or overflow", {
  # A log-likelihood near 0 (rows that cancel): a change of tol (1 + |logLik|) is
  # below float's rounding of the sum, so the fit runs in double from its first pass.
  set.seed(2)
  n <- 2000
  y <- cbind(c(rnorm(n / 2), rnorm(n / 2, 3)), c(rnorm(n / 2), rnorm(n / 2, 2)))
  y <- y * exp(gmm(y, k = 2, model = "EII")$loglik / (2 * n))
  set.seed(1)
  a <- gmm(y, k = 1:3, model = c("EII", "VVV"))
  set.seed(1)
  b <- gmm(y, k = 1:3, model = c("EII", "VVV"), control = gmm_control(screen_single = FALSE))
  expect_lt(abs(a$loglik), 1)
  expect_identical(a$loglik_trace, b$loglik_trace)
  expect_identical(a$parameters, b$parameters)
  # Half ranges near 2^60: a block's sums of squares would overflow float.
  h <- 0.95 * 2^60
  set.seed(1)
  x <- matrix(c(-h + rnorm(2560, 0, h / 100), h + rnorm(256, 0, h / 100)))
  a <- suppressWarnings(gmm(x, k = 1:3))
  b <- suppressWarnings(gmm(x, k = 1:3, control = gmm_control(screen_single = FALSE)))
  expect_identical(is.na(unclass(a$bic_table)), is.na(unclass(b$bic_table)))
  expect_false(anyNA(unclass(a$bic_table)[1, ]))
  # The proportions of a fit from the M-step of a pass in float sum to 1 as in
  # double: with max_iter reached while screening, the refinement has no step left.
  set.seed(3)
  z <- cbind(c(rnorm(3000), rnorm(2000, 4)), rnorm(5000))
  f <- suppressWarnings(gmm(z, k = 3, model = "VVV", control = gmm_control(max_iter = 5)))
  expect_identical(f$iterations, 5L)
  expect_lt(abs(sum(f$parameters$pro) - 1), 1e-14)
})
