# The bootstrap of a fit (gmm_boot, vcov, confint) and the bootstrap LRT (gmm_lrt).

test_that("bootstrap standard errors match the spread of estimates over simulated samples", {
  truth <- list(pro = c(0.4, 0.6), mean = c(0, 3), sd = c(1, 1.2))
  draw <- function(n) {
    cl <- sample(2, n, TRUE, prob = truth$pro)
    rnorm(n, truth$mean[cl], truth$sd[cl])
  }
  set.seed(11)
  est <- t(replicate(40, {
    f <- gmm(draw(400), k = 2, model = "V", init = truth)
    c(f$parameters$pro[1], f$parameters$mean[1, ])
  }))
  spread <- apply(est, 2, sd)
  f <- gmm(draw(400), k = 2, model = "V", init = truth)
  b <- gmm_boot(f, R = 60, seed = 3)
  se <- summary(b)$table[c("pro.1", "mean.x.1", "mean.x.2"), "se"]
  expect_true(all(se / spread > 0.5 & se / spread < 2), label = paste(round(se / spread, 2), collapse = " "))
})

test_that("standard errors within Monte Carlo error of mclust's MclustBootstrap()", {
  skip_if_not_installed("mclust")
  suppressPackageStartupMessages(library("mclust", character.only = TRUE))
  fit <- gmm(faithful, k = 2, model = "VVV")
  b <- gmm_boot(fit, R = 150, seed = 1)
  s <- summary(b)$table
  m <- mclust::Mclust(faithful, G = 2, modelNames = "VVV", verbose = FALSE)
  set.seed(2)
  mb <- mclust::MclustBootstrap(m, nboot = 150, type = "bs", verbose = FALSE)
  ms <- summary(mb, what = "se")
  o <- order(m$parameters$mean[1, ])   # mclust's components in gaussmix's order
  ours <- c(s[c("pro.1", "pro.2"), "se"],
            s[c("mean.eruptions.1", "mean.waiting.1", "mean.eruptions.2", "mean.waiting.2"), "se"],
            s[c("var.waiting.1", "var.waiting.2"), "se"])
  theirs <- c(ms$pro[o], as.vector(ms$mean[, o]), ms$variance["waiting", "waiting", o])
  expect_true(all(abs(ours / theirs - 1) < 0.35), label = paste(round(ours / theirs, 2), collapse = " "))
})

test_that("replicates are reproducible for any thread count; vcov() and confint() agree with them", {
  fit <- gmm(iris[1:4], k = 2, model = "VEV")
  a <- gmm_boot(fit, R = 20, seed = 5, threads = 1)
  b <- gmm_boot(fit, R = 20, seed = 5, threads = 2)
  expect_identical(a$replicates, b$replicates)
  set.seed(9); r1 <- runif(1); set.seed(9); gmm_boot(fit, R = 3, seed = 1); r2 <- runif(1)
  expect_identical(r1, r2)   # the caller's stream is left alone
  expect_equal(unname(sqrt(diag(vcov(fit, boot = a)))), unname(summary(a)$table$se))
  ci <- confint(fit, boot = a, level = 0.9)
  expect_identical(colnames(ci), c("5.0 %", "95.0 %"))
  expect_equal(unname(ci[, 1]), unname(apply(a$replicates, 2, quantile, 0.05)))
  expect_identical(rownames(confint(fit, parm = "pro.1", boot = a)), "pro.1")
  # the other two kinds run and give standard errors of the same size
  for (ty in c("parametric", "wlb")) {
    o <- gmm_boot(fit, R = 20, type = ty, seed = 5)
    ratio <- summary(o)$table$se[1:5] / summary(a)$table$se[1:5]
    expect_true(all(ratio > 0.3 & ratio < 3), label = ty)
  }
  pdf(NULL)
  on.exit(dev.off())
  expect_invisible(plot(a, parameters = 1:4))
  expect_match(capture.output(print(a))[1], "Bootstrap of a VEV fit with K = 2: nonparametric, 20 replicates")
  expect_error(gmm_boot(fit, R = 1), "`R`")
  expect_error(gmm_boot(gmm(faithful, k = 2, noise = TRUE)), "does not yet handle")
  expect_error(vcov(fit, boot = gmm_boot(gmm(iris[1:4], k = 3, model = "VEV"), R = 3)), "this fit")
})

test_that("the bootstrap LRT: its statistic, and mclust's conclusions on the heights", {
  a <- gmm_lrt(heights$height, model = "V", max_k = 3, R = 29, seed = 1)
  expect_identical(gmm_lrt(heights$height, model = "V", max_k = 1, R = 9, seed = 4, threads = 1)$boot,
                   gmm_lrt(heights$height, model = "V", max_k = 1, R = 9, seed = 4, threads = 2)$boot)
  f1 <- gmm(heights$height, k = 1, model = "V")
  f2 <- gmm(heights$height, k = 2, model = "V")
  expect_equal(a$table$statistic[1], 2 * (f2$loglik - f1$loglik))
  expect_identical(a$k, 2L)
  expect_equal(a$table$p_value[1], 1 / (length(a$boot[[1]]) + 1))   # none reached it
  skip_if_not_installed("mclust")
  suppressPackageStartupMessages(library("mclust", character.only = TRUE))
  set.seed(1)
  m <- mclust::mclustBootstrapLRT(heights$height, modelName = "V", nboot = 29, maxG = 2, verbose = FALSE)
  # gaussmix's K = 2 fit is at least as high (mclust stops at its looser tolerance)
  expect_gte(a$table$statistic[1], m$obs[1] - 1e-6)
  expect_equal(a$table$statistic[1], m$obs[1], tolerance = 0.05)
  expect_identical(which(m$p.value > 0.05)[1], a$k)   # the first K not rejected
  # faithful, VVV, 1 against 2: mclust's statistic, and both reject
  b <- gmm_lrt(faithful, model = "VVV", max_k = 1, R = 39, seed = 1)
  set.seed(1)
  mf <- mclust::mclustBootstrapLRT(faithful, modelName = "VVV", nboot = 39, maxG = 1, verbose = FALSE)
  expect_equal(b$table$statistic, mf$obs[1], tolerance = 1e-6)
  expect_true(b$table$p_value <= 0.05 && mf$p.value[1] <= 0.05)
  pdf(NULL)
  on.exit(dev.off())
  expect_invisible(plot(a))
})

test_that("the bootstrap LRT reaches mclustBootstrapLRT's conclusions on faithful at the same maxima", {
  skip_if_not_installed("mclust")
  suppressPackageStartupMessages(library("mclust", character.only = TRUE))
  old <- mclust::mclust.options("hcUse")
  on.exit(mclust::mclust.options(hcUse = old))
  # mclust's default start (hcUse = "SVD") stops its K = 3 VVV fit 8 units below
  # gaussmix's maximum (which then decides the 2 vs 3 test), and its K = 4 EEE fit
  # below its K = 3 one (a negative statistic); started from the variables as they
  # are, its fits up to the decisive K are within 0.1 of gaussmix's.
  mclust::mclust.options(hcUse = "SVD")
  expect_gt(gmm(faithful, k = 3, model = "VVV")$loglik -
              mclust::Mclust(faithful, G = 3, modelNames = "VVV", verbose = FALSE)$loglik, 5)
  mclust::mclust.options(hcUse = "VARS")
  chosen <- function(p) if (tail(p, 1) > 0.05) length(p) else length(p) + 1L
  for (m in c("VVV", "EEE")) {
    g <- gmm_lrt(faithful, model = m, max_k = 5, R = 199, seed = 1)
    set.seed(1)
    mc <- mclust::mclustBootstrapLRT(faithful, modelName = m, nboot = 199, verbose = FALSE)
    expect_identical(g$k, chosen(mc$p.value), label = paste(m, "K"))
    j <- seq_len(g$k - 1L)   # the tests that rejected, where the maxima agree
    expect_equal(g$table$statistic[j], mc$obs[j], tolerance = 0.02, label = paste(m, "statistics"))
    expect_true(all(g$table$p_value[j] <= 0.05 & mc$p.value[j] <= 0.05))
    expect_true(g$table$p_value[g$k] > 0.05 && mc$p.value[g$k] > 0.05)
  }
})
