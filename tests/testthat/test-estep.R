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
