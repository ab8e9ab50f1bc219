test_that("gmm_prior() fills in Fraley and Raftery's defaults from the data", {
  x <- as.matrix(faithful)
  p <- gaussmix:::resolve_prior(gmm_prior(), x, rep(1, 272), 3)
  expect_equal(p$kappa, 0.01)
  expect_equal(p$nu, 2 + 2)
  expect_equal(p$mean, unname(colMeans(x)))
  expect_equal(p$scale, unname(cov(x)) / 3^(2 / 2))
  expect_error(gmm_prior(shrinkage = 0), "positive")
  expect_error(gmm_control(prior = list()), "made by gmm_prior")
  expect_error(gmm(faithful, k = 2, control = gmm_control(prior = gmm_prior(mean = 1))),
               "`mean` must have length 2")
  expect_error(gmm(faithful, k = 2, control = gmm_control(prior = gmm_prior(scale = -diag(2)))),
               "symmetric positive definite")
})

test_that("with a prior, EM converges to a stationary point of the log posterior", {
  # One VVV component: the MAP has a closed form (Fraley and Raftery 2007).
  x <- as.matrix(faithful)
  f <- gmm(x, k = 1, model = "VVV", control = gmm_control(prior = gmm_prior()))
  p <- gaussmix:::resolve_prior(gmm_prior(), x, rep(1, 272), 1)
  n <- 272
  xb <- colMeans(x)
  W <- crossprod(sweep(x, 2, xb))
  B <- p$kappa * n / (n + p$kappa) * tcrossprod(xb - p$mean)
  expect_equal(unname(f$parameters$sigma[, , 1]), unname((p$scale + W + B) / (p$nu + n + 2 + 2)))
})

test_that("a prior keeps every model defined on duplicated points", {
  set.seed(1)
  x <- rbind(matrix(rnorm(20), 10), matrix(c(5, 5), 10, 2, byrow = TRUE))
  ml <- suppressWarnings(gmm(x, k = 1:5))
  map <- suppressWarnings(gmm(x, k = 1:5, control = gmm_control(prior = gmm_prior())))
  r_ml <- attr(ml$bic_table, "reasons")
  r_map <- attr(map$bic_table, "reasons")
  expect_true(any(grepl("singular", r_ml)))          # without: collapsed components
  expect_false(any(grepl("singular", r_map)))        # with: no covariance collapses
  expect_true(all(is.finite(unlist(map$parameters))))
  expect_gt(sum(!is.na(map$bic_table)), sum(!is.na(ml$bic_table)))
})

test_that("the prior works for every model in 1-D and in 2-D", {
  set.seed(2)
  x2 <- rbind(matrix(rnorm(100), 50), matrix(rnorm(100, 3), 50))
  for (m in gmm_models(d = 2)$model) {
    f <- gmm(x2, k = 2, model = m, control = gmm_control(prior = gmm_prior()))
    expect_true(is.finite(f$loglik), label = m)
  }
  for (m in c("E", "V")) {
    f <- gmm(x2[, 1], k = 2, model = m, control = gmm_control(prior = gmm_prior()))
    expect_true(is.finite(f$loglik), label = m)
  }
})
