# Awkward data: every model and K either fits with finite numbers, or fails
# with a recorded reason; a degenerate fit is never chosen unless asked for, and
# then comes with a warning.

all_finite <- function(f) {
  all(is.finite(unlist(f[c("loglik", "bic", "icl", "z", "uncertainty", "parameters")])))
}

expect_sound <- function(f) {
  expect_true(all_finite(f))
  b <- unclass(f$bic_table)
  reasons <- attr(f$bic_table, "reasons")
  expect_identical(is.na(b), !is.na(reasons))
  expect_true(all(is.finite(b[!is.na(b)])))
}

test_that("10 normal points plus 10 identical points", {
  set.seed(1)
  x <- rbind(matrix(rnorm(20), 10), matrix(c(5, 5), 10, 2, byrow = TRUE))
  f <- expect_silent(gmm(x))
  expect_sound(f)
  expect_null(f$degenerate)
  # 11 distinct rows: no fit with 11 or more parameters, and the table says why.
  df <- outer(1:9, colnames(f$bic_table), Vectorize(function(k, m) {
    gmm_models(d = 2, k = k)$df[gmm_models(d = 2)$model == m]
  }))
  reasons <- attr(f$bic_table, "reasons")
  expect_true(all(is.na(unclass(f$bic_table))[df >= 11]))
  expect_match(reasons[df >= 11], "not fewer than the 11 distinct rows")
  expect_lt(f$df, 11)
  # Asked for, such cells are fitted, and a spurious winner comes with a warning.
  expect_warning(g <- gmm(x, control = gmm_control(keep_degenerate = TRUE)), "spurious")
  expect_sound(g)
  expect_match(g$degenerate, "spurious")
  # In 1-D as well.
  f1 <- expect_silent(gmm(c(rnorm(10), rep(5, 10))))
  expect_sound(f1)
  expect_null(f1$degenerate)
  # With the prior, every cell with fewer parameters than distinct rows fits at
  # K = 1:3 without a singular covariance.
  fp <- suppressWarnings(gmm(x, k = 1:3, control = gmm_control(prior = gmm_prior())))
  expect_sound(fp)
  expect_identical(unname(is.na(unclass(fp$bic_table))), df[1:3, ] >= 11)
})

test_that("a constant column is an error, or a regularised fit with reg", {
  x <- cbind(a = rnorm(40), b = 2)
  expect_error(gmm(x), "column 'b' is constant")
  f <- suppressWarnings(gmm(x, k = 1:3, control = gmm_control(reg = 1e-4)))
  expect_sound(f)
  expect_true(all(f$parameters$sigma[2, 2, ] >= 1e-4))
})

test_that("n barely above d", {
  set.seed(3)
  for (n in 3:6) {   # n = 3 is n <= d
    x <- matrix(rnorm(n * 3), n, 3)
    if (n <= 4) {   # even EII with K = 1 has 4 parameters
      expect_error(gmm(x), "not fewer than the %d distinct rows.*keep_degenerate = TRUE" |> sprintf(n))
      f <- suppressWarnings(gmm(x, control = gmm_control(keep_degenerate = TRUE)))
      expect_sound(f)
      expect_match(f$degenerate, "spurious")
    } else {
      f <- expect_silent(gmm(x))
      expect_sound(f)
      expect_lt(f$df, n)
    }
  }
})

test_that("a collapsing component stops its cell instead of returning a huge likelihood", {
  set.seed(4)
  x <- c(rnorm(200), rep(3, 4))
  start <- list(mean = c(-1, 1, 3), sd = c(1, 1, 0.1))
  # The V component started on the four identical values shrinks towards them.
  expect_error(gmm(x, k = 3, model = "V", init = start),
               "K = 3, V: covariance of component 3 is singular at iteration")
  # The equal-variance model cannot collapse one component, and fits.
  f <- gmm(x, k = 3, model = "E", init = start)
  expect_true(all_finite(f))
})

test_that("an inner loop stopped at its cap is reported", {
  expect_warning(f <- gmm(iris[1:4], k = 3, model = "VEV",
                          control = gmm_control(inner_max_iter = 1, inner_tol = 0)),
                 "M-step of model VEV did not converge")
  expect_gt(f$inner_fail, 0)
})

test_that("K larger than the number of distinct points fails with reasons", {
  x <- rep(c(1, 2, 3), 10)
  expect_error(gmm(x, k = 5), "2 cells not fitted: their free parameters are not fewer than the 3 distinct rows")
  expect_error(gmm(x, k = 5, control = gmm_control(keep_degenerate = TRUE)),
               "K = 5, E: .*(singular|lost its weight)")
  f <- suppressWarnings(gmm(x, k = 1:5))   # the smaller K still fit
  expect_true(all(is.na(unclass(f$bic_table)["5", ])))
  expect_true(all(is.finite(unlist(f$parameters))))
})

test_that("a converged fit with a component on too few rows, or flat, is spurious", {
  # One row at 8 and one half-way at 4: from these parameters, V's second component
  # holds about 1.5 effective rows, below the 2 that a varying variance needs.
  set.seed(5)
  x <- matrix(c(rnorm(100), 8, 4))
  w <- rep(1, 102)
  par0 <- list(c(0.5, 0.5), matrix(c(0, 8), 1), array(1, c(1, 1, 2)))
  cv <- gaussmix:::control_vector(gmm_control(max_iter = 0), 1L)
  f <- .Call(gaussmix:::C_gmm_fit, x, w, "V", NULL, par0, cv, NULL)
  expect_equal(f$status, 4L)
  expect_equal(f$degenerate, c(4L, 2L))
  z2 <- 1 / (1 + exp(dnorm(x, 0, 1, log = TRUE) - dnorm(x, 8, 1, log = TRUE)))
  expect_equal(f$value, sum(z2), tolerance = 1e-10)   # the rows, each once
  expect_lt(f$value, 2)
  expect_true(is.na(f$loglik))
  # The equal-variance model needs only one row per component: the same start is a fit.
  g <- .Call(gaussmix:::C_gmm_fit, x, w, "E", NULL, par0, cv, NULL)
  expect_equal(g$status, 0L)
  expect_equal(g$degenerate[1], 0L)
  # Weights do not change the count: a row of weight 100 is still one row.
  f100 <- .Call(gaussmix:::C_gmm_fit, x, c(rep(1, 100), 100, 100), "V", NULL, par0, cv, NULL)
  expect_equal(f100$status, 4L)
  expect_equal(f100$value, f$value)
  # A flat component: against the pooled covariance, far out of proportion.
  y <- rbind(matrix(rnorm(200), 100), cbind(rnorm(50, 8), 8 + 1e-5 * rnorm(50)))
  z1 <- cbind(rep(c(1, 0), c(100, 50)), rep(c(0, 1), c(100, 50)))
  h <- .Call(gaussmix:::C_gmm_fit, y, rep(1, 150), "VVV", z1, NULL,
             gaussmix:::control_vector(gmm_control(), 1L), NULL)
  expect_equal(h$status, 5L)
  kept <- .Call(gaussmix:::C_gmm_fit, y, rep(1, 150), "VVV", z1, NULL,
                gaussmix:::control_vector(gmm_control(keep_degenerate = TRUE), 1L), NULL)
  expect_equal(kept$status, 0L)
  expect_equal(kept$degenerate, c(5L, 2L))
  # Eigenvalues of Sbar^-1 Sigma_k, Sbar = sum_k pro_k Sigma_k, by solve() in R.
  sbar <- kept$pro[1] * kept$sigma[, , 1] + kept$pro[2] * kept$sigma[, , 2]
  e <- unlist(lapply(1:2, function(k) Re(eigen(solve(sbar, kept$sigma[, , k]))$values)))
  expect_equal(h$value / (min(e) / max(e)), 1, tolerance = 1e-6)
  expect_lt(h$value, 1e-8)
  # gmm() never chooses such a cell, and says why in the table.
  fit <- gmm(y, k = 2, model = c("VVV", "EEE"))
  expect_equal(fit$model, "EEE")
  expect_match(attr(fit$bic_table, "reasons")["2", "VVV"], "out of proportion")
})

test_that("gmm(mtcars) chooses a fit with fewer free parameters than rows, at once", {
  f <- expect_silent(gmm(mtcars))
  expect_lt(f$df, nrow(mtcars))
  expect_null(f$degenerate)
  reasons <- attr(f$bic_table, "reasons")
  expect_match(reasons["3", "VEV"], "213 free parameters, not fewer than the 32 distinct rows")
})

test_that("wide data: cells that cannot be estimated fail at once, with their reason", {
  set.seed(6)
  x <- matrix(rnorm(150 * 100), 150)
  f <- gmm(x, k = 1:2)
  expect_equal(f$k, 1L)   # pure noise: one component
  expect_lt(f$df, 150)
  reasons <- attr(f$bic_table, "reasons")
  expect_match(reasons["2", "VVV"], "10301 free parameters, not fewer than the 150 distinct rows")
  # Fitted anyway, two components of 75 rows cannot hold a varying full covariance in
  # 100 dimensions: each such cell fails at its first M-step.
  expect_error(gmm(x, k = 2, model = c("VVV", "EVV", "EVE", "VVE"),
                   control = gmm_control(keep_degenerate = TRUE)),
               "K = 2, VVV: .*singular at the start(.|\n)*K = 2, EVE: a covariance is singular at the start")
})

test_that("the flatness test ignores units, collinear columns and far-apart clusters", {
  set.seed(8)
  x1 <- rnorm(200)
  f <- gmm(cbind(x1, x1 + 1e-5 * rnorm(200)), k = 1:3, model = c("EEE", "VVV"))
  expect_false(anyNA(unclass(f$bic_table)["1", ]))
  y <- rbind(matrix(rnorm(200), 100), matrix(rnorm(200, 1e5), 100))
  g <- gmm(y, k = 1:3, model = c("EII", "VVV"))
  expect_equal(g$k, 2L)
})

test_that("effective rows count each row of positive weight once, whatever its weight", {
  # The far component has 3 rows of positive weight (what a 2-D VVV component needs)
  # but weights summing to 2.3: it is not spurious.  A zero-weight row sits with it.
  set.seed(1)
  x <- rbind(matrix(rnorm(40), 20), c(10, 10), c(10.3, 10.2), c(10.1, 9.7), c(10.2, 10.1))
  w <- c(rep(1, 20), 1, 1, 0.3, 0)
  f <- expect_silent(gmm(x, k = 2, model = "VVV", weights = w))
  expect_null(f$degenerate)
  far <- which.max(f$parameters$mean[1, ])
  expect_equal(sum(f$z[w > 0, far]), 3, tolerance = 1e-8)
  expect_equal(sum(w * f$z[, far]), 2.3, tolerance = 1e-8)
})

test_that("distinct rows are counted among the rows of positive weight, up to what is asked", {
  set.seed(4)
  x <- matrix(sample(0:3, 600, replace = TRUE), 300, 2) * 1.0
  x[1, ] <- c(-0, 0)
  x[2, ] <- c(0, -0)
  w <- rep(c(1, 0, 2.5), 100)
  exact <- nrow(unique(x[w > 0, ] + 0))   # + 0 turns -0 into 0, as equality does
  expect_identical(gaussmix:::distinct_rows(x, w, 1000), exact)
  expect_identical(gaussmix:::distinct_rows(x, w, exact), exact)
  expect_identical(gaussmix:::distinct_rows(x, w, 5), 6L)   # stops once above 5
  expect_identical(gaussmix:::distinct_rows(x, rep(1, 300), 1000), nrow(unique(x + 0)))
  y <- matrix(rnorm(2e4), 1e4)
  expect_identical(gaussmix:::distinct_rows(rbind(y, y), rep(1, 2e4), 1e5), 10000L)
})
