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
  for (nm in names(data)) for (model in gmm_models(d = 2)$model) {
    for (K in 1:3) {
      m <- mclust_fit(data[[nm]], G = K, modelNames = model,
                      control = mclust::emControl(tol = 1e-11))
      # Start from mclust's own answer: EM must stay at the same fixed point, or,
      # for VVE, whose M-step mclust stops early, climb higher.
      p <- m$parameters
      f <- suppressWarnings(gmm(data[[nm]], k = K, model = model,
                                init = list(mean = p$mean, sigma = p$variance$sigma, pro = p$pro)))
      lab <- paste(nm, model, K)
      expect_equal(f$df, m$df, label = lab)
      if (model == "VVE") expect_gte(f$loglik, m$loglik - 1e-6 * abs(m$loglik))
      else expect_equal(f$loglik, m$loglik, tolerance = 1e-6, label = lab)
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

# The whole K x model grid on the classic data sets. In each cell our BIC is no
# worse than mclust's (1e-6 relative; with one or two columns, whose screening passes
# run in single precision, 1e-5: the precision both packages screen to, mclust
# stopping EM where the log-likelihood changes by less than that, so two stops on
# the way to one optimum can differ by about that much), or the difference is a
# local optimum:
# started from mclust's own parameters for that cell, gaussmix reaches mclust's
# log-likelihood. The chosen model has mclust's BIC or a smaller one. The full
# table is bench/init-compare.csv (bench/README.md).
test_that("over K = 1:9 and every model, gaussmix matches or beats mclust cell by cell", {
  skip_if_not_installed("mclust")
  suppressPackageStartupMessages(library("mclust", character.only = TRUE))
  sets <- list(faithful = faithful, iris = iris[1:4])
  e <- new.env()
  utils::data(list = c("diabetes", "banknote", "wreath", "acidity"), package = "mclust", envir = e)
  sets <- c(sets, list(diabetes = e$diabetes[-1], banknote = e$banknote[-1], wreath = e$wreath,
                       acidity = as.numeric(unlist(e$acidity))))
  for (nm in names(sets)) {
    x <- sets[[nm]]
    d <- NCOL(x)
    n <- NROW(x)
    models <- gmm_models(d = d)$model
    ours <- suppressWarnings(gmm(x, k = 1:9, model = models))
    mb <- mclust::mclustBIC(x, G = 1:9, modelNames = models, verbose = FALSE)
    their <- -unclass(mb)[, models, drop = FALSE]                 # R's sign
    b <- unclass(ours$bic_table)
    rel <- if (d <= 2) 1e-5 else 1e-6
    lost <- which(!is.na(their) & !is.na(b) & b > their + rel * abs(their), arr.ind = TRUE)
    for (r in seq_len(nrow(lost))) {
      K <- lost[r, 1]
      model <- models[lost[r, 2]]
      m <- mclust::Mclust(x, G = K, modelNames = model, verbose = FALSE)
      p <- m$parameters
      sig <- if (d == 1) p$variance$sigmasq else p$variance$sigma
      if (d == 1 && length(sig) == 1) sig <- rep(sig, K)
      f <- suppressWarnings(gmm(x, k = K, model = model,
                                init = list(mean = p$mean, sigma = sig, pro = p$pro),
                                control = gmm_control(keep_degenerate = TRUE)))
      expect_gte(f$loglik, m$loglik - 1e-6 * abs(m$loglik))
    }
    # Cells that mclust fits and we cannot, other than those we reject as spurious,
    # are rare: at most 2 per data set.
    reasons <- attr(ours$bic_table, "reasons")
    spurious <- !is.na(reasons) & grepl("spurious", reasons)
    expect_lte(sum(is.na(b) & !is.na(their) & !spurious), 2, label = paste(nm, "cells only mclust fits"))
    expect_lte(ours$bic, min(their[!spurious], na.rm = TRUE) * (1 + 1e-6), label = paste(nm, "chosen BIC"))
  }
})
