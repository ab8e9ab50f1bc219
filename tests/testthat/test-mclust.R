# Comparisons with mclust (Suggests). mclust's BIC is 2 logLik - df log n, the
# negative of ours.

test_that("faithful, K = 2, VVV matches mclust", {
  f <- gmm(faithful, k = 2, model = "VVV", control = gmm_control(tol = 1e-11))
  expect_equal(f$loglik, -1130.264, tolerance = 5e-4 / 1130)   # printed by mclust 6.0.0
  skip_if_not_installed("mclust")
  m <- mclust_fit(faithful, G = 2, modelNames = "VVV", control = mclust::emControl(tol = 1e-11))
  expect_equal(f$loglik, m$loglik, tolerance = 1e-6)
  expect_equal(f$df, m$df)
  expect_equal(f$bic, -m$bic, tolerance = 1e-6)
  expect_equal(BIC(f), -m$bic, tolerance = 1e-6)
  o <- order(m$parameters$mean[1, ])
  expect_equal(as.vector(f$parameters$mean), as.vector(m$parameters$mean[, o]), tolerance = 1e-6)
  expect_equal(as.vector(f$parameters$sigma), as.vector(m$parameters$variance$sigma[, , o]),
               tolerance = 1e-6)
  expect_equal(as.vector(f$parameters$pro), m$parameters$pro[o], tolerance = 1e-6)
})

test_that("every model agrees with mclust on df, and on BIC where both reach one optimum", {
  skip_if_not_installed("mclust")
  data <- list(faithful = faithful, iris = iris[1:4])
  for (nm in names(data)) for (model in c("EII", "VII", "EEI", "VVI", "EEE", "VVV")) {
    for (K in 1:2) {
      m <- mclust_fit(data[[nm]], G = K, modelNames = model,
                      control = mclust::emControl(tol = 1e-11))
      # Start from mclust's own answer: EM must stay at the same fixed point.
      p <- m$parameters
      f <- gmm(data[[nm]], k = K, model = model,
               init = list(mean = p$mean, sigma = p$variance$sigma, pro = p$pro))
      lab <- paste(nm, model, K)
      expect_equal(f$df, m$df, label = lab)
      expect_equal(f$loglik, m$loglik, tolerance = 1e-6, label = lab)
      # From our own start: the same or a better optimum.
      g <- gmm(data[[nm]], k = K, model = model)
      expect_gte(g$loglik, m$loglik - 1e-6 * abs(m$loglik))
    }
  }
})

test_that("1-D models E and V agree with mclust", {
  skip_if_not_installed("mclust")
  for (model in c("E", "V")) {
    m <- mclust_fit(faithful$waiting, G = 2, modelNames = model,
                    control = mclust::emControl(tol = 1e-11))
    f <- gmm(faithful$waiting, k = 2, model = model)
    expect_equal(f$loglik, m$loglik, tolerance = 1e-6)
    expect_equal(f$bic, -m$bic, tolerance = 1e-6)
    expect_equal(f$df, m$df)
  }
})

test_that("the default selection on faithful finds mclust's model or a smaller BIC", {
  skip_if_not_installed("mclust")
  set.seed(1)
  f <- gmm(faithful)
  m <- mclust_fit(faithful)
  expect_lte(f$bic, -m$bic + 1e-6 * abs(m$bic))
})
