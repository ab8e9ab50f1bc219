kmeans_c <- function(x, k, w = rep(1, nrow(x)), lloyd = 100L) {
  .Call(gaussmix:::C_gmm_kmeans, as.matrix(x), as.double(w), as.integer(k), as.integer(lloyd))
}

test_that("k-means++ recovers well separated groups exactly, whatever the seed", {
  set.seed(10)
  truth <- rep(1:4, c(30, 50, 20, 40))
  centres <- rbind(c(0, 0), c(20, 0), c(0, 20), c(20, 20))
  x <- centres[truth, ] + matrix(rnorm(280), 140)
  for (s in 1:20) {
    set.seed(s)
    cl <- kmeans_c(x, 4)
    # Each true group is one cluster, and each cluster one true group.
    tab <- table(truth, cl)
    expect_equal(sum(tab > 0), 4)
    expect_equal(dim(tab), c(4, 4))
  }
})

test_that("Lloyd steps end at a fixed point: every row is nearest its own centroid", {
  set.seed(2)
  x <- matrix(rnorm(400), 200)
  cl <- kmeans_c(x, 5)
  cent <- rowsum(x, cl) / as.vector(table(cl))
  d2 <- sapply(1:5, function(j) colSums((t(x) - cent[j, ])^2))
  expect_equal(max.col(-d2), cl)
  # The same criterion as stats::kmeans() started from our centres, which then
  # has nothing left to move.
  km <- kmeans(x, centers = cent, algorithm = "Lloyd", iter.max = 10)
  expect_equal(km$cluster, cl, ignore_attr = TRUE)
  expect_equal(unname(km$centers), unname(cent))
})

test_that("weighted seeding never picks a row of weight 0 and counts weights as copies", {
  set.seed(3)
  x <- rbind(matrix(rnorm(40), 20), c(100, 100))
  w <- c(rep(1, 20), 0)
  for (s in 1:10) {
    set.seed(s)
    cl <- kmeans_c(x, 2, w)
    # The far row has no weight, so it cannot be a centre of its own.
    expect_gt(sum(cl == cl[21]), 1)
  }
  expect_equal(sort(unique(kmeans_c(x, 3, c(rep(1, 20), 5)))), 1:3)
})

test_that("set.seed() reproduces the partition", {
  x <- as.matrix(iris[1:4])
  set.seed(5); a <- kmeans_c(x, 3)
  set.seed(5); b <- kmeans_c(x, 3)
  expect_identical(a, b)
})

test_that("the hierarchical start pools Ward's and the VVV agglomeration on whitened data", {
  set.seed(20)
  x <- rbind(matrix(rnorm(60, 0, 1), 30), matrix(rnorm(60, 6, 1), 30), matrix(rnorm(60, c(0, 9), 1), 30, byrow = TRUE))
  w <- rep(1, 90)
  hc <- gaussmix:::hc_trees(x, w, 2000, 9)
  expect_null(hc$sub)
  expect_identical(dim(hc$labels$vvv), c(90L, 9L))
  # Independent whitening: Mahalanobis distances are invariant to it, so Ward on
  # the whitened data equals Ward on x %*% solve(chol(cov_ML(x))).
  S <- cov(x) * 89 / 90
  xt <- sweep(x, 2, colMeans(x)) %*% solve(chol(S))
  ref <- cutree(hclust(dist(xt), "ward.D2"), 3)
  ours <- hc$labels$ward[, 3]
  expect_equal(sum(table(ref, ours) > 0), 3)
  # Well separated groups are found exactly by both trees.
  expect_equal(sum(table(rep(1:3, each = 30), ours) > 0), 3)
  expect_equal(sum(table(rep(1:3, each = 30), hc$labels$vvv[, 3]) > 0), 3)
})

test_that("the nearest-neighbour chain gives the partitions of hclust's Ward tree", {
  set.seed(23)
  for (r in 1:12) {
    n <- c(5, 40, 333)[r %% 3 + 1]
    d <- r %% 4 + 1
    x <- matrix(rnorm(n * d), n) + sample(0:3, n, replace = TRUE)
    ours <- .Call(gaussmix:::C_gmm_ward, x, rep(1, n), as.integer(min(9, n)))
    tree <- hclust(dist(x), "ward.D2")
    for (k in seq_len(min(9, n))) expect_identical(ours[, k], cutree(tree, k))
  }
})

test_that("in one dimension the tree from neighbouring pairs is hclust's Ward tree", {
  set.seed(24)
  for (n in c(2, 3, 17, 250, 2000)) {
    x <- rnorm(n) + sample(0:2, n, replace = TRUE) * 3
    km <- as.integer(min(9, n))
    ours <- .Call(gaussmix:::C_gmm_ward, matrix(x), rep(1, n), km)
    tree <- hclust(dist(x), "ward.D2")
    for (k in seq_len(km)) expect_identical(ours[, k], cutree(tree, k))
    # the same partitions as the chain, which runs for d > 1 (a zero column changes no cost)
    expect_identical(ours, .Call(gaussmix:::C_gmm_ward, cbind(x, 0), rep(1, n), km))
  }
  # Ties (integer data: equal gaps; repeated values) leave the order of merges to the
  # chain, whose partitions these stay
  x <- as.double(c(quakes$depth[1:300], sample(1:30, 200, replace = TRUE)))
  for (v in list(as.double(quakes$depth), x, round(rnorm(500), 1))) {
    expect_identical(.Call(gaussmix:::C_gmm_ward, matrix(v), rep(1, length(v)), 9L),
                     .Call(gaussmix:::C_gmm_ward, cbind(v, 0), rep(1, length(v)), 9L))
  }
  # weights count as repeated rows
  x <- rnorm(40)
  w <- rep(c(1, 3), 20)
  a <- .Call(gaussmix:::C_gmm_ward, matrix(x), w, 9L)
  b <- .Call(gaussmix:::C_gmm_ward, matrix(rep(x, w)), rep(1, 80), 9L)
  expect_identical(a, b[match(seq_along(x), rep(seq_along(x), w)), ])
})

test_that("a weight of 2 in the hierarchical start acts as a duplicated row", {
  set.seed(21)
  x <- matrix(rnorm(60), 30)
  w <- c(2, 2, rep(1, 28))
  a <- gaussmix:::hc_trees(x, w, 2000, 9)$labels
  xd <- rbind(x, x[1:2, ])
  b <- gaussmix:::hc_trees(xd, rep(1, 32), 2000, 9)$labels
  expect_identical(a$ward[, 4], b$ward[1:30, 4])
  expect_identical(a$vvv[, 4], b$vvv[1:30, 4])
})

test_that("above hc_max_n rows the trees grow on a subset, carried to all rows by an M-step and an E-step", {
  set.seed(22)
  x <- rbind(matrix(rnorm(600), 300), matrix(rnorm(600, 8), 300))
  w <- rep(1, 600)
  hc <- gaussmix:::hc_trees(x, w, 100, 9)
  expect_length(hc$sub, 100)
  prep <- list(methods = "hc", hc = hc)
  starts <- gaussmix:::make_starts(prep, x, w, 2, 1, gmm_control())
  expect_true(all(vapply(starts, function(s) s[[1]] == 1L, logical(1))))   # on the subset
  # The C sweep with that one start and one cell.
  cv <- gaussmix:::control_vector(gmm_control(), 1L)
  res <- .Call(gaussmix:::C_gmm_sweep, list(x, w, 2L, "VVV", matrix(TRUE), list(starts[1]),
                                            x[hc$sub, ], w[hc$sub], list(NULL), cv,
                                            c(1e-5, 10, 1, 1, log(600), 0, 1), 1L, NULL, NULL, NULL, NULL))
  f <- res$best
  expect_equal(res$status, matrix(0L))
  # The same by hand: the subset's groups give means, covariances (divisor n_k) and
  # proportions; EM on all rows starts from them.
  cl <- hc$labels[[1]][, 2]
  xs <- x[hc$sub, ]
  par <- lapply(1:2, function(j) cov.wt(xs[cl == j, , drop = FALSE], method = "ML"))
  g <- gmm(x, k = 2, model = "VVV",
           init = list(mean = sapply(par, `[[`, "center"),
                       sigma = array(unlist(lapply(par, `[[`, "cov")), c(2, 2, 2)),
                       pro = as.vector(table(cl)) / 100))
  expect_equal(f$loglik, g$loglik, tolerance = 1e-10)
  expect_equal(sum(table(rep(1:2, each = 300), max.col(f$z)) > 0), 2)
  # And gmm() with such a subset finds the two groups.
  h <- gmm(x, k = 1:3, control = gmm_control(hc_max_n = 100))
  expect_equal(h$k, 2)
})

test_that("the tree's subset is the one sample.int() draws, from the same random numbers", {
  sample_rows <- asNamespace("gaussmix")$sample_rows
  kinds <- RNGkind()
  on.exit(suppressWarnings(RNGkind(kinds[1], kinds[2], kinds[3])))
  for (kind in c("Rejection", "Rounding")) {
    suppressWarnings(RNGkind(sample.kind = kind))
    for (nk in list(c(1, 1), c(2, 2), c(7, 3), c(2001, 2000), c(1e5, 2000), c(1e6, 5000),
                    c(3e4, 0))) {
      set.seed(nk[1] %% 97)
      ref <- sample.int(nk[1], nk[2])
      after <- runif(1)
      set.seed(nk[1] %% 97)
      expect_identical(sample_rows(nk[1], nk[2]), ref)
      expect_identical(runif(1), after)   # and leaves the generator where sample.int() does
    }
  }
  expect_error(.Call(gaussmix:::C_gmm_sample_rows, 5L, 6L), "'k' must lie between")
})

test_that("the 1-D quantile start makes groups of equal size", {
  # 6 values in 3 groups: {1, 2}, {3, 4}, {5, 6}, as the 0/1 indicators give them
  v <- c(5, 1, 3, 2, 4, 6)
  q <- gaussmix:::quantile_suff(matrix(v), rep(1, 6), c(1L, 3L))
  expect_null(q[[1]])
  expect_identical(q[[3]], .Call(gaussmix:::C_gmm_suff, matrix(v), rep(1, 6),
                                 diag(3)[c(3, 1, 2, 1, 2, 3), ], NULL))
  expect_equal(q[[3]]$mean, matrix(c(1.5, 3.5, 5.5), 1))
  # equal sizes for every k, and by weight: a row of weight 3 counts as three
  set.seed(5)
  u <- rnorm(1000)
  q <- gaussmix:::quantile_suff(matrix(u), rep(1, 1000), c(2L, 4L, 5L, 8L))
  for (k in c(2, 4, 5, 8)) expect_equal(q[[k]]$nk, rep(1000 / k, k))
  expect_equal(q[[4]]$mean[1, ], unname(vapply(split(sort(u), rep(1:4, each = 250)), mean, 0)),
               tolerance = 1e-12)
  w <- c(3, 1, 1, 1)
  q <- gaussmix:::quantile_suff(matrix(c(4, 1, 2, 3)), w, 2L)
  expect_equal(q[[2]]$nk, c(3, 3))
  expect_equal(q[[2]]$mean, matrix(c(2, 4), 1))
  expect_error(.Call(gaussmix:::C_gmm_quantile_suff, matrix(u), rep(1, 1000), u, 2L), "in \\[0, 1\\]")
})

test_that("cross starts never lower a cell's log-likelihood", {
  x <- iris[1:4]
  a <- suppressWarnings(gmm(x, k = 1:5, control = gmm_control(cross_starts = FALSE)))
  b <- suppressWarnings(gmm(x, k = 1:5))
  ll <- function(f) {
    d <- 4
    df <- outer(1:5, colnames(f$bic_table), Vectorize(function(k, m) {
      gmm_models(d, k)$df[gmm_models(d)$model == m]
    }))
    (df * log(150) - unclass(f$bic_table)) / 2
  }
  expect_true(all(ll(b) >= ll(a) - 1e-6 * abs(ll(a)), na.rm = TRUE))
  expect_lte(sum(is.na(b$bic_table)), sum(is.na(a$bic_table)))
})

test_that("the C model table and R's agree", {
  c_models <- .Call(gaussmix:::C_gmm_models)
  expect_equal(c_models$name, gmm_models()$model)
  expect_equal(c_models$multivariate, gmm_models()$data == "multivariate")
})
