# Awkward data: every model and K either fits with finite numbers, or fails
# with a recorded reason; a degenerate chosen fit always comes with a warning.

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
  w <- tryCatch(gmm(x), warning = function(w) w)
  expect_s3_class(w, "warning")   # the chosen fit is flagged
  f <- suppressWarnings(gmm(x))
  expect_sound(f)
  expect_false(is.null(f$degenerate))
  # In 1-D as well.
  f1 <- suppressWarnings(gmm(c(rnorm(10), rep(5, 10))))
  expect_sound(f1)
  expect_false(is.null(f1$degenerate))
  # With the prior, every model fits at K = 1:3 without a singular covariance.
  fp <- suppressWarnings(gmm(x, k = 1:3, control = gmm_control(prior = gmm_prior())))
  expect_sound(fp)
  expect_false(anyNA(unclass(fp$bic_table)))
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
    f <- suppressWarnings(gmm(x))
    expect_sound(f)
    expect_false(is.null(f$degenerate))   # more parameters than rows
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
  expect_error(gmm(x, k = 5), "K = 5, E: .*(singular|lost its weight)")
  f <- suppressWarnings(gmm(x, k = 1:5))   # the smaller K still fit
  expect_true(all(is.na(unclass(f$bic_table)["5", ])))
  expect_true(all(is.finite(unlist(f$parameters))))
})
