# The uniform noise component (Banfield and Raftery 1993): its log-likelihood against
# a direct computation, mclust's noise fits, predict(), simulate(), and bad input.

noisy <- function(seed = 1) {
  set.seed(seed)
  rbind(matrix(rnorm(400), 200), matrix(rnorm(400, 5), 200),
        cbind(runif(60, -5, 10), runif(60, -5, 10)))
}

test_that("the noise fit's log-likelihood is the direct mixture with a uniform term", {
  x <- noisy()
  f <- gmm(x, k = 2, model = "VVV", noise = TRUE)
  box <- apply(x, 2, range)
  V <- prod(box[2, ] - box[1, ])
  expect_equal(f$noise$hypervolume, V)
  p <- f$parameters
  dens <- sapply(1:2, function(j) {
    S <- p$sigma[, , j]
    p$pro[j] * exp(-0.5 * (2 * log(2 * pi) + log(det(S)) + mahalanobis(x, p$mean[, j], S)))
  })
  ll <- sum(log(rowSums(dens) + f$noise$proportion / V))
  expect_equal(f$loglik, ll, tolerance = 1e-10)
  expect_equal(sum(p$pro) + f$noise$proportion, 1, tolerance = 1e-12)
  expect_identical(f$df, gmm_models(d = 2, k = 2)$df[gmm_models(d = 2)$model == "VVV"] + 2)
  expect_equal(f$bic, -2 * ll + f$df * log(460), tolerance = 1e-10)
  # responsibilities: K + 1 columns, the noise last, rows summing to 1
  expect_identical(colnames(f$z), c("1", "2", "noise"))
  expect_equal(rowSums(f$z), rep(1, 460), tolerance = 1e-12)
  expect_equal(unname(f$z[, "noise"]), unname((f$noise$proportion / V) / (rowSums(dens) + f$noise$proportion / V)),
               tolerance = 1e-9)
  # most scattered rows are noise (class 0), few of the clusters' rows
  expect_gt(mean(f$classification[401:460] == 0L), 0.6)
  expect_lt(mean(f$classification[1:400] == 0L), 0.05)
  expect_true(all(diff(f$loglik_trace) >= -1e-9 * abs(f$loglik)))
})

test_that("the same Gaussian components and a BIC no worse than mclust's noise fits", {
  skip_if_not_installed("mclust")
  suppressPackageStartupMessages(library("mclust", character.only = TRUE))
  e <- new.env()
  data(chevron, package = "mclust", envir = e)
  sets <- list(simulated = noisy(), chevron = as.matrix(e$chevron[, -1]))
  for (nm in names(sets)) {
    x <- sets[[nm]]
    guess <- gaussmix:::nn_clean(x)
    V <- prod(apply(x, 2, function(v) diff(range(v))))
    f <- gmm(x, noise = guess)
    m <- mclust::Mclust(x, initialization = list(noise = guess), Vinv = 1 / V, verbose = FALSE)
    expect_identical(c(f$model, as.character(f$k)), c(m$modelName, as.character(m$G)), label = nm)
    expect_lte(f$bic, -m$bic + 1e-6 * abs(m$bic))
    expect_identical(f$df, m$df)
    # the components, matched by their means' order, within sampling error
    mm <- m$parameters$mean[, order(m$parameters$mean[1, ]), drop = FALSE]
    expect_equal(unname(f$parameters$mean), unname(mm), tolerance = 0.02, label = nm)
    expect_equal(f$noise$proportion, unname(tail(m$parameters$pro, 1)), tolerance = 0.02)
  }
})

test_that("predict(), print, summary, plot and simulate() know the noise", {
  x <- noisy()
  f <- gmm(x, k = 2, model = "EII", noise = TRUE)
  new <- rbind(c(0, 0), c(5, 5), c(-4.5, 9.5))
  colnames(new) <- colnames(x)
  expect_identical(unname(predict(f, new)), c(1L, 2L, 0L))
  pr <- predict(f, new, type = "prob")
  expect_identical(colnames(pr), c("1", "2", "noise"))
  expect_equal(unname(rowSums(pr)), rep(1, 3), tolerance = 1e-12)
  expect_equal(unname(predict(f, x, type = "prob")), unname(f$z), tolerance = 1e-10)
  expect_match(capture.output(print(f)), "Noise component: proportion", all = FALSE)
  expect_identical(names(summary(f)$table), c("1", "2", "noise"))
  expect_identical(sum(summary(f)$table), 460L)
  expect_true(all(is.na(fitted(f)[f$classification == 0L, ])))
  pdf(NULL)
  on.exit(dev.off())
  for (w in c("classification", "uncertainty", "bic", "loglik")) expect_invisible(plot(f, what = w))
  s <- simulate(f, rows = 20000, seed = 1)$sim_1
  expect_equal(mean(attr(s, "classification") == 0L), f$noise$proportion, tolerance = 0.05)
  out <- s[attr(s, "classification") == 0L, ]
  expect_true(all(out[, 1] >= f$noise$box[1, 1] & out[, 1] <= f$noise$box[2, 1]))
})

test_that("bad noise guesses get clear errors", {
  x <- noisy()
  expect_error(gmm(x, noise = rep(TRUE, 460)), "`noise` covers every row")
  expect_error(gmm(x, noise = c(TRUE, FALSE)), "one entry per row \\(460\\)")
  expect_error(gmm(x, noise = "yes"), "`noise` must be NULL, TRUE or FALSE")
  expect_error(gmm(x, noise = replace(rep(FALSE, 460), 3, NA)), "`noise` must be")
  g <- gmm(x, k = 2, model = "EII", noise = FALSE)
  expect_null(g$noise)
  expect_identical(ncol(g$z), 2L)
  # More components than rows outside the noise guess: an error naming `k`, and
  # the default K = 1:9 stops at that number of rows.
  set.seed(4)
  v <- c(rnorm(5), runif(40, -100, 100))
  guess <- rep(c(FALSE, TRUE), c(5, 40))
  expect_error(gmm(v, k = 6, noise = guess), "`k` must be at most 5, the rows of positive weight outside the noise guess \\(`noise`\\), not 6")
  expect_error(gmm(v, k = 4:7, noise = guess), "not 6, 7")
  f <- gmm(v, noise = guess, model = "E")
  expect_identical(rownames(f$bic_table), as.character(1:5))
})
