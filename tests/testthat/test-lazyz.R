# A fit's responsibilities are computed when first read (src/lazyz.c): they must be
# the posterior probabilities at the fitted parameters, whatever reads them first and
# however the matrix is copied, saved or sent.

test_that("z is the posterior at the fitted parameters, by explicit algebra", {
  f <- gmm(faithful, k = 3, model = "VVV")
  p <- f$parameters
  ref <- ref_estep(as.matrix(faithful), p$pro, p$mean, p$sigma)$z
  expect_equal(unname(f$z), ref, tolerance = 1e-12)
  expect_identical(dim(f$z), c(272L, 3L))
  expect_identical(colnames(f$z), c("1", "2", "3"))
  # The sum of z log z is the entropy the fit's ICL was computed from.
  expect_equal(f$icl, f$bic - 2 * sum(ifelse(ref > 0, ref * log(ref), 0)), tolerance = 1e-10)
})

test_that("whichever part is read first, the values are the same", {
  x <- iris[, 1:4]
  full <- gmm(x, k = 3, model = "VEV")$z[, ]
  f <- gmm(x, k = 3, model = "VEV")
  expect_identical(f$z[7, 2], full[7, 2])         # one element first
  expect_identical(f$z, full)
  g <- gmm(x, k = 3, model = "VEV")
  expect_identical(g$classification, max.col(full, "first"))   # read through C first
  expect_identical(g$z, full)
  h <- gmm(x, k = 3, model = "VEV")
  expect_identical(sum(h$z), sum(full))            # a summary first
  expect_identical(h$z, full)
})

test_that("changing the data after the fit does not change its z", {
  x <- as.matrix(faithful)
  ref <- gmm(x, k = 2, model = "VVV")$z[, ]
  f <- gmm(x, k = 2, model = "VVV")
  x[1:50, ] <- 0                                  # R copies x: the fit keeps its own
  expect_identical(f$z, ref)
  expect_identical(f$data, as.matrix(faithful))
})

test_that("copies, saved fits and fits sent to workers hold the same z", {
  f <- gmm(faithful, k = 2, model = "VVI")
  g <- gmm(faithful, k = 2, model = "VVI")
  z <- g$z
  z[1, 1] <- -1                                    # a copy changed; the fit's z is not
  expect_identical(g$z[1, 1], f$z[1, 1])
  expect_false(identical(z, g$z))
  file <- tempfile(fileext = ".rds")
  on.exit(unlink(file))
  saveRDS(gmm(faithful, k = 2, model = "VVI"), file)
  expect_identical(readRDS(file)$z, f$z)
  back <- unserialize(serialize(gmm(faithful, k = 2, model = "VVI"), NULL))
  expect_identical(back$z, f$z)
  cl <- parallel::makePSOCKcluster(1)
  on.exit(parallel::stopCluster(cl), add = TRUE)
  parallel::clusterCall(cl, function() suppressPackageStartupMessages(library(gaussmix)))
  sent <- parallel::clusterCall(cl, function(fit) unclass(fit)$z,   # a fit not yet read
                                gmm(faithful, k = 2, model = "VVI"))[[1]]
  expect_identical(sent, f$z)
  from_worker <- parallel::clusterCall(cl, function(x) gaussmix::gmm(x, k = 2, model = "VVI"),
                                       faithful)[[1]]
  expect_identical(from_worker$z, f$z)
})

test_that("z of a fit with noise or known labels is that fit's posterior", {
  x <- as.matrix(faithful)
  f <- suppressWarnings(gmm(x, k = 2, model = "VVV", noise = TRUE))
  p <- f$parameters
  dens <- cbind(sapply(1:2, function(j) p$pro[j] * exp(ref_logdnorm(x, p$mean[, j], p$sigma[, , j]))),
                f$noise$proportion / f$noise$hypervolume)
  expect_equal(unname(f$z), unname(dens / rowSums(dens)), tolerance = 1e-10)
  expect_identical(colnames(f$z), c("1", "2", "noise"))
  lab <- rep(NA, 150)
  lab[c(1:5, 51:55, 101:105)] <- rep(c("setosa", "versicolor", "virginica"), each = 5)
  g <- gmm(iris[, 1:4], labels = lab, model = "VVV")
  known <- which(!is.na(lab))
  expect_identical(unname(g$z[known, ]), diag(3)[match(lab[known], levels(iris$Species)), ])
  q <- g$parameters
  ref <- ref_estep(as.matrix(iris[, 1:4]), q$pro, q$mean, q$sigma)$z
  expect_equal(unname(g$z[-known, ]), ref[-known, ], tolerance = 1e-10)
})
