models_1d <- c("E", "V")
models_nd <- c("EII", "VII", "EEI", "VVI", "EEE", "VVV")

test_that("M-step on a hard partition gives per-group weighted means and covariances", {
  set.seed(3)
  x <- matrix(rnorm(60 * 3), 60, 3) + rep(c(0, 4, 8), each = 20)
  cl <- rep(1:3, each = 20)
  z <- outer(cl, 1:3, "==") * 1
  w <- runif(60, 0.5, 2)
  # VVV checked against stats::cov.wt(), which knows nothing of mixtures.
  m <- c_mstep(x, z, "VVV", w)
  for (j in 1:3) {
    cw <- cov.wt(x[cl == j, ], wt = w[cl == j] / sum(w[cl == j]), method = "ML")
    expect_equal(m$mean[, j], unname(cw$center), tolerance = 1e-12)
    expect_equal(m$sigma[, , j], unname(cw$cov), tolerance = 1e-12)
    expect_equal(m$pro[j], sum(w[cl == j]) / sum(w), tolerance = 1e-12)
  }
  for (model in models_nd) {
    m <- c_mstep(x, z, model, w)
    r <- ref_mstep(x, z, model, w)
    expect_equal(m$status, 0L)
    expect_equal(m$pro, r$pro, tolerance = 1e-12, label = model)
    expect_equal(m$mean, r$mean, tolerance = 1e-12, label = model)
    expect_equal(m$sigma, r$sigma, tolerance = 1e-12, label = model)
  }
})

test_that("1-D M-steps match the pooled and per-group variances", {
  x <- matrix(c(1, 2, 4, 10, 11, 15))
  z <- cbind(c(1, 1, 1, 0, 0, 0), c(0, 0, 0, 1, 1, 1))
  v <- c(var(x[1:3]), var(x[4:6])) * 2 / 3   # ML variances of each group
  m <- c_mstep(x, z, "V")
  expect_equal(as.vector(m$sigma), v)
  expect_equal(as.vector(m$mean), c(7 / 3, 12))
  m <- c_mstep(x, z, "E")
  expect_equal(as.vector(m$sigma), rep(mean(v), 2))
})

test_that("M-step with soft responsibilities matches the reference for every model", {
  set.seed(5)
  x <- matrix(rnorm(50 * 2), 50, 2)
  z <- matrix(runif(150), 50)
  z <- z / rowSums(z)
  for (model in models_nd) {
    expect_equal(c_mstep(x, z, model)$sigma, ref_mstep(x, z, model)$sigma,
                 tolerance = 1e-12, label = model)
  }
  for (model in models_1d) {
    expect_equal(c_mstep(x[, 1, drop = FALSE], z, model)$sigma,
                 ref_mstep(x[, 1, drop = FALSE], z, model)$sigma, tolerance = 1e-12)
  }
})

test_that("reg adds a ridge to every covariance", {
  set.seed(6)
  x <- matrix(rnorm(40), 20)
  z <- cbind(rep(1:0, 10), rep(0:1, 10))
  expect_equal(c_mstep(x, z, "VVV", reg = 0.5)$sigma,
               ref_mstep(x, z, "VVV")$sigma + array(diag(0.5, 2), c(2, 2, 2)))
})

test_that("df follows the table of DESIGN.md", {
  for (d in 2:5) for (k in 1:4) for (m in models_nd) {
    expect_equal(gmm_models(d, k)$df[gmm_models(d, k)$model == m], ref_df(m, d, k))
  }
  for (k in 1:4) for (m in models_1d) {
    expect_equal(gmm_models(1, k)$df[gmm_models(1, k)$model == m], ref_df(m, 1, k))
  }
  expect_setequal(gmm_models()$model, c(models_1d, models_nd))
})
