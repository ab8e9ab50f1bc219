# The VVV hierarchical agglomeration (src/hcvvv.c): mclust's trees, an R reference
# written from the documented rule, frequency weights, and bad input.

hcvvv <- function(x, w = rep(1, nrow(x)), kmax = min(9L, nrow(x))) {
  .Call(gaussmix:::C_gmm_hcvvv, x, as.double(w), as.integer(kmax), 1L)
}

# Whether two labellings are the same partition (a bijection between their groups).
same_partition <- function(a, b) {
  t <- table(a, b) > 0
  all(rowSums(t) == 1) && all(colSums(t) == 1)
}

# Reference: every stage evaluates every pair's cost afresh from the member rows and
# the clusters' records, as the header of src/hcvvv.c states the rule:
#   C = n log(det(W / n) + (tr W + alpha') / n), det counted once n - 1 >= p, where in
#   the cost of a pair W is F_new + B_old + h d d', F_new the factor of the cluster
#   formed later (kept from its formation), B_old[a, b] = r_a r_b min(a, b, m) from the
#   first row r of the older one's factor, m = min(n_old - 1, p); traces, means exact;
#   the cost is that C minus the two clusters' recorded C.
# Merging stores F = (F if formed last, else B) of each part + h d d' and C = C_i +
# C_j + cost. Weights relative to the smallest. No tie rule (for data without ties).
# exact = TRUE: F and B are the scatter matrices W themselves, the exact criterion.
ref_hcvvv <- function(x, w = rep(1, nrow(x)), kmax = nrow(x), exact = FALSE) {
  n <- nrow(x); p <- ncol(x); v <- w / min(w)
  m0 <- colSums(v * x) / sum(v)
  alpha <- sum(v * sweep(x, 2, m0)^2) / (sum(v) * p)
  crit <- function(nk, W, Fd) {
    dt <- if (nk - 1 >= p) max(det(Fd / nk), 0) else 0
    nk * log(dt + (sum(diag(W)) + alpha) / nk)
  }
  stats <- function(rows) {
    vv <- v[rows]; xx <- x[rows, , drop = FALSE]; nk <- sum(vv)
    mk <- colSums(vv * xx) / nk
    list(n = nk, mean = mk, W = crossprod(sweep(xx, 2, mk) * sqrt(vv)))
  }
  B <- function(cl) {
    s <- stats(cl$rows); m <- min(floor(s$n + 1e-9) - 1, p)
    if (exact) return(s$W)
    k <- which(diag(cl$F) > 0)[1]
    if (m < 1 || is.na(k)) return(matrix(0, p, p))
    r <- cl$F[k, ] / sqrt(cl$F[k, k])
    outer(r, r) * pmin(outer(1:p, 1:p, pmin), m)
  }
  cls <- lapply(seq_len(n), function(i) list(rows = i, F = matrix(0, p, p), born = 0,
                                              C = v[i] * log(alpha / v[i])))
  out <- matrix(0L, n, kmax)
  label <- function() { l <- integer(n); for (g in seq_along(cls)) l[cls[[g]]$rows] <- g; match(l, unique(l)) }
  if (n <= kmax) out[, n] <- label()
  newest <- 0
  for (stage in seq_len(n - 1)) {
    best <- Inf
    for (i in seq_along(cls)) for (j in seq_along(cls)) if (i < j) {
      a <- cls[[i]]; b <- cls[[j]]
      if (b$born > a$born) { t <- a; a <- b; b <- t }   # a: formed later
      sa <- stats(a$rows); sb <- stats(b$rows); su <- stats(c(a$rows, b$rows))
      h <- sa$n * sb$n / su$n; d <- sa$mean - sb$mean
      Fa <- if (exact) sa$W else a$F
      cost <- crit(su$n, su$W, Fa + B(b) + h * tcrossprod(d)) - a$C - b$C
      if (cost < best) { best <- cost; bi <- i; bj <- j }
    }
    a <- cls[[bi]]; b <- cls[[bj]]
    sa <- stats(a$rows); sb <- stats(b$rows); h <- sa$n * sb$n / (sa$n + sb$n)
    part <- function(cl) if (cl$born == newest && newest > 0) cl$F else B(cl)
    cls[[bi]] <- list(rows = sort(c(a$rows, b$rows)), born = stage, C = a$C + b$C + best,
                      F = part(a) + part(b) + h * tcrossprod(sa$mean - sb$mean))
    newest <- stage
    cls[[bj]] <- NULL
    if (length(cls) <= kmax) out[, length(cls)] <- label()
  }
  out
}

test_that("the partitions match the R reference evaluated pair by pair", {
  set.seed(42)
  for (rep in 1:4) {
    n <- c(7, 7, 9, 11)[rep]; d <- c(2, 2, 3, 2)[rep]
    x <- matrix(rnorm(n * d), n) %*% matrix(rnorm(d * d), d)
    w <- if (rep == 4) sample(1:3, n, replace = TRUE) else rep(1, n)
    expect_identical(hcvvv(x, w, n), ref_hcvvv(x, w), label = paste("set", rep))
  }
  # Sets on which the rule matters: the exact criterion builds other trees (seeds 36,
  # 17), and on seed 2 so does leaving out "the factor of the cluster formed last".
  for (s in list(c(36, 12, 2), c(17, 12, 3), c(2, 20, 2))) {
    set.seed(s[1])
    x <- matrix(rnorm(s[2] * s[3]), s[2]) %*% matrix(rnorm(s[3]^2), s[3])
    ours <- hcvvv(x, kmax = s[2])
    expect_identical(ours, ref_hcvvv(x), label = paste("seed", s[1]))
    if (s[1] != 2) {
      ex <- ref_hcvvv(x, exact = TRUE)
      expect_false(all(vapply(1:12, function(k) same_partition(ours[, k], ex[, k]), TRUE)))
    }
  }
})

test_that("the tree's own log() and log1p() agree with R's to an ulp or two", {
  # The costs take their logarithms from gm_log (src/gaussmix.h, shared with the
  # E-step; vectorised with the costs), not from the C library: across its range, near 1 and at the edges of its
  # reduction (powers of two, sqrt(1/2)), within 2 eps (relative) of log(), and its
  # log1p within 3 eps of log1p() (on this data at most 1.44 and 1.91 eps).
  set.seed(5)
  x <- c(10^runif(20000, -300, 300), 1 + (-200:200) * 2^-52, 2^(-996:996),
         sqrt(0.5) * (1 + (-50:50) * 2^-52), 1, 0.5, 2, exp(1))
  l <- .Call(gaussmix:::C_gmm_hc_log, x)
  rel <- ifelse(x == 1, abs(l[, 1]), abs(l[, 1] - log(x)) / abs(log(x)))
  expect_lt(max(rel), 2 * .Machine$double.eps)
  expect_true(all(l[x == 1, 1] == 0))
  y <- c(0, 2^-1074, 1e-300, 1e-20, 10^runif(20000, -17, 300), 2^(-60:60))
  l1 <- .Call(gaussmix:::C_gmm_hc_log, y)[, 2]
  expect_identical(l1[1:3], y[1:3])
  expect_lt(max(abs(l1 - log1p(y))[-1] / log1p(y)[-1]), 3 * .Machine$double.eps)
  # Outside where they hold: NA, and the tree uses the C library there.
  expect_true(all(is.na(.Call(gaussmix:::C_gmm_hc_log, c(0, -1, 2^1001, Inf, NaN))[, 1])))
})

test_that("the partitions are numbered by first row, K groups in column K", {
  set.seed(1)
  x <- matrix(rnorm(60), 30)
  g <- hcvvv(x, kmax = 30)
  for (k in 1:30) {
    expect_identical(sort(unique(g[, k])), seq_len(k))
    expect_identical(unique(g[, k]), seq_len(k))
  }
  # Each K - 1 partition merges two groups of the K partition.
  for (k in 2:30) expect_true(all(rowSums(table(g[, k], g[, k - 1]) > 0) == 1))
})

test_that("the trees are mclust's hc(modelName = 'VVV', use = 'VARS') for K = 1:9", {
  skip_if_not_installed("mclust")
  # hc() calls hcVVV() by name in the caller's frame, so mclust must be attached.
  suppressPackageStartupMessages(library("mclust", character.only = TRUE))
  sets <- list(faithful = faithful, iris = iris[, 1:4],
               diabetes = mclust::diabetes[, -1], banknote = mclust::banknote[, -1],
               wreath = mclust::wreath)
  set.seed(7)
  # (random1 to random3 and random7 keep their costs as doubles, the others as floats,
  # computed again when they tie as floats: see src/hcvvv.c)
  for (r in 1:8) {
    n <- c(5, 12, 40, 150, 400, 800, 60, 300)[r]; d <- c(2, 3, 8, 4, 2, 6, 5, 3)[r]
    sets[[paste0("random", r)]] <- matrix(rnorm(n * d), n) %*% matrix(rnorm(d * d), d)
  }
  for (nm in names(sets)) {
    x <- as.matrix(sets[[nm]])
    storage.mode(x) <- "double"
    km <- min(9L, nrow(x))
    ref <- mclust::hclass(mclust::hc(x, modelName = "VVV", use = "VARS"), 1:km)
    ours <- hcvvv(x, kmax = km)
    for (k in seq_len(km)) expect_true(same_partition(ref[, k], ours[, k]), label = paste(nm, "K =", k))
  }
})

test_that("duplicated rows as weights give mclust's tree started from duplicate groups", {
  skip_if_not_installed("mclust")
  for (nm in c("faithful", "diabetes")) {
    x <- as.matrix(if (nm == "faithful") faithful else mclust::diabetes[, -1])
    grp <- mclust::dupPartition(x)
    first <- !duplicated(grp)
    w <- as.double(tabulate(grp))[grp[first]]
    ref <- mclust::hclass(mclust::hcVVV(x, partition = grp), 1:9)
    ours <- hcvvv(x[first, ], w)
    for (k in 1:9) expect_true(same_partition(ref[first, k], ours[, k]), label = paste(nm, "K =", k))
  }
})

test_that("a row of weight 2 acts as two identical rows; a common factor does nothing", {
  set.seed(3)
  for (d in 2:3) {
    x <- matrix(rnorm(15 * d), 15)
    twin <- hcvvv(rbind(x, x[4, ]), kmax = 9)
    w <- rep(1, 15)
    w[4] <- 2
    ours <- hcvvv(x, w)
    expect_identical(twin[16, ], twin[4, ])
    for (k in 1:9) expect_true(same_partition(twin[1:15, k], ours[, k]))
    for (cst in c(1e-300, 1e-10, 7, 1e300)) expect_identical(hcvvv(x, rep(cst, 15)), hcvvv(x))
    expect_identical(hcvvv(x, w * 1e-200), ours)
  }
})

test_that("small, constant, extreme and wildly weighted inputs give valid partitions", {
  valid <- function(g) {
    all(vapply(seq_len(ncol(g)), function(k) identical(unique(g[, k]), seq_len(k)), TRUE))
  }
  expect_identical(hcvvv(matrix(1, 1, 2)), matrix(1L, 1, 1))
  expect_identical(hcvvv(matrix(c(1, 2, 3, 5), 2)), matrix(c(1L, 1L, 1L, 2L), 2))
  expect_true(valid(hcvvv(matrix(0, 6, 3), kmax = 6)))
  expect_true(valid(hcvvv(matrix(c(1, 1, 1, 2, 2, 2), 3), kmax = 3)))
  expect_true(valid(hcvvv(matrix(c(1e308, -1e308, 1e308, 0, 1, 2), 3), kmax = 3)))
  set.seed(5)
  x <- matrix(rnorm(60), 20)
  for (s in c(1e150, 1e-150, 1e300, 1e-300)) expect_true(valid(hcvvv(x * s)))
  expect_true(valid(hcvvv(x, 10^runif(20, -300, 300))))
  expect_true(valid(hcvvv(x[, 1, drop = FALSE], kmax = 20)))
  # Scaling by a power of two that stays in range changes nothing but the det term's
  # weight, which the criterion carries: the tree at 2^-40 x is the trace-only tree.
  expect_identical(hcvvv(x * 2^-40), hcvvv(x * 2^-60))
})

test_that("bad input gives R errors", {
  x <- matrix(rnorm(20), 10)
  w <- rep(1, 10)
  expect_error(hcvvv(x, w, 0), "kmax")
  expect_error(hcvvv(x, w, 11), "kmax")
  expect_error(.Call(gaussmix:::C_gmm_hcvvv, x, w, NA_integer_, 1L), "kmax")
  expect_error(.Call(gaussmix:::C_gmm_hcvvv, x, w, 2, 1L), "kmax")
  expect_error(.Call(gaussmix:::C_gmm_hcvvv, x, w, 2L, 0L), "threads")
  expect_error(hcvvv(replace(x, 3, NA), w), "finite")
  expect_error(hcvvv(replace(x, 3, Inf), w), "finite")
  expect_error(hcvvv(x, replace(w, 2, 0)), "positive")
  expect_error(hcvvv(x, replace(w, 2, -1)), "'w'")
  expect_error(hcvvv(x, replace(w, 2, NaN)), "'w'")
  expect_error(hcvvv(x, w[-1]), "'w'")
})

test_that("the first stage's pair costs on two threads give the same tree", {
  # 1,500 rows in 3 columns: about 1.1 million pairs, five tasks of the first stage,
  # costs kept as floats; equal weights and frequency weights
  set.seed(31)
  x <- matrix(rnorm(4500), 1500) + sample(0:3, 1500, TRUE)
  w <- as.double(sample(1:3, 1500, TRUE))
  for (ww in list(rep(1, 1500), w)) {
    one <- .Call(gaussmix:::C_gmm_hcvvv, x, ww, 12L, 1L)
    expect_identical(.Call(gaussmix:::C_gmm_hcvvv, x, ww, 12L, 2L), one)
  }
  # 760 rows in 14 columns: two tasks, costs kept as doubles (p^2 > (n - 1) / 4)
  x <- matrix(rnorm(760 * 14), 760) + sample(0:2, 760, TRUE)
  expect_identical(.Call(gaussmix:::C_gmm_hcvvv, x, rep(1, 760), 9L, 2L),
                   .Call(gaussmix:::C_gmm_hcvvv, x, rep(1, 760), 9L, 1L))
})

test_that("both trees from one call, Ward's on another thread, are the trees of separate calls", {
  ns <- asNamespace("gaussmix")
  set.seed(32)
  x <- matrix(rnorm(1600), 800) + sample(0:3, 800, TRUE)
  w <- as.double(sample(1:3, 800, TRUE))
  # rounded data (merges of cost 0, ties) and a column that is a multiple of the
  # other (Ward's tree then on one column, which is built on R's thread)
  for (xx in list(x, round(x), cbind(x[, 1], 2 * x[, 1]))) {
    for (ww in list(rep(1, 800), w)) {
      y <- ns$svd_scaled(xx, ww)
      z <- ns$whitened(xx, ww)
      apart <- list(.Call(ns$C_gmm_hcvvv, y, ww, 9L, 1L), .Call(ns$C_gmm_ward, z, ww, 9L))
      for (th in 1:2) expect_identical(.Call(ns$C_gmm_hc_trees, y, z, ww, 9L, th), apart)
    }
  }
  expect_identical(ncol(ns$whitened(cbind(x[, 1], 2 * x[, 1]), w)), 1L)
  expect_error(.Call(ns$C_gmm_hc_trees, x, x[-1, ], rep(1, 800), 9L, 2L), "'w'")
})
