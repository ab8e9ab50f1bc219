# Rows out of memory: a big.matrix read in blocks and data on a cluster's workers
# give the in-memory fit, to rounding (the pieces' sums are added in another order).
# Their screening passes run in double, so the in-memory fits they are compared with
# do too (screen_single = FALSE).
dbl <- gmm_control(screen_single = FALSE)

two_groups <- function(n, seed) {
  set.seed(seed)
  x <- rbind(matrix(rnorm(n), ncol = 2), cbind(rnorm(n / 2, 3), rnorm(n / 2, 1, 0.5)))
  colnames(x) <- c("a", "b")
  x
}

# x as a file-backed big.matrix of doubles, in a new directory of the session's
# temporary one (which R removes at the end).
file_matrix <- function(x) {
  dir <- tempfile("gaussmix")
  dir.create(dir)
  fb <- bigmemory::filebacked.big.matrix(nrow(x), ncol(x), type = "double",
                                         backingfile = "x.bin", descriptorfile = "x.desc",
                                         backingpath = dir, dimnames = list(NULL, colnames(x)))
  fb[, ] <- x
  fb
}

expect_same_fit <- function(out, mem, tol = 1e-10) {
  expect_identical(out$model, mem$model)
  expect_identical(out$k, mem$k)
  expect_lt(abs(out$loglik - mem$loglik), tol * abs(mem$loglik))
  rel <- abs(unclass(out$bic_table) - unclass(mem$bic_table)) / abs(unclass(mem$bic_table))
  expect_identical(is.na(rel), is.na(unclass(mem$bic_table)))
  expect_lt(max(rel, na.rm = TRUE), tol)
  expect_equal(out$parameters, mem$parameters, tolerance = 1e-8)
  expect_identical(out$n, mem$n)
}

test_that("a big.matrix in blocks gives the in-memory fit, on all rows and from a subset", {
  skip_if_not_installed("bigmemory")
  old <- options(gaussmix.block_rows = 100)
  on.exit(options(old))
  # 272 rows: the starts use every row, as in memory
  x <- as.matrix(faithful)
  mem <- gmm(x, k = 1:4, threads = 1, control = dbl)
  big <- gmm(bigmemory::as.big.matrix(x), k = 1:4, threads = 1)
  expect_same_fit(big, mem)
  expect_identical(big$start, mem$start)
  expect_null(big$z)
  expect_null(big$classification)
  # 3,000 rows, more than hc_max_n: the starts come from the same random subset
  x <- two_groups(3000, 1)
  set.seed(2)
  mem <- gmm(x, k = 1:4, model = c("EII", "VVI", "EEE", "VVV"), threads = 1, control = dbl)
  set.seed(2)
  big <- gmm(bigmemory::as.big.matrix(x), k = 1:4, model = c("EII", "VVI", "EEE", "VVV"),
             threads = 2)
  expect_same_fit(big, mem)
  expect_match(big$start, "on a subset")
  # the per-row results, from predict(), in memory or into a big.matrix
  expect_identical(predict(big), predict(mem))
  expect_equal(predict(big, type = "prob"), predict(mem, type = "prob"), tolerance = 1e-8)
  out <- bigmemory::big.matrix(nrow(x), 1)
  res <- predict(big, bigmemory::as.big.matrix(x), type = "logdensity", out = out)
  expect_equal(res[, 1], unname(predict(mem, x, type = "logdensity")), tolerance = 1e-10)
  expect_error(predict(big, bigmemory::as.big.matrix(x), type = "prob", out = out),
               "`out` must be a big.matrix of 3000 rows and 2 columns")
})

test_that("a file-backed big.matrix is read in place", {
  skip_if_not_installed("bigmemory")
  x <- two_groups(1000, 3)
  fb <- file_matrix(x)
  old <- options(gaussmix.block_rows = 128)
  on.exit(options(old))
  mem <- gmm(x, k = 2:3, model = c("VVV", "EEV"), threads = 1, control = dbl)
  big <- gmm(bigmemory::attach.big.matrix(bigmemory::describe(fb)), k = 2:3,
             model = c("VVV", "EEV"), threads = 1)
  expect_same_fit(big, mem)
  expect_identical(rownames(big$parameters$mean), c("a", "b"))
})

test_that("integer and 1-D big.matrix objects give the in-memory fit", {
  skip_if_not_installed("bigmemory")
  set.seed(10)
  xi <- matrix(c(rpois(400, 5), rpois(400, 20), rpois(800, 9)), ncol = 2)
  bi <- bigmemory::as.big.matrix(xi, type = "integer")
  expect_null(gaussmix:::as_source(bi)$file)   # read through bigmemory, as doubles
  expect_same_fit(gmm(bi, k = 1:3, model = c("VVV", "EEI"), threads = 1),
                  gmm(xi, k = 1:3, model = c("VVV", "EEI"), threads = 1, control = dbl))
  h <- heights$height[1:900]   # 1-D, up to hc_max_n rows: the quantile start as in memory
  expect_same_fit(gmm(bigmemory::as.big.matrix(matrix(h)), k = 1:4, threads = 1),
                  gmm(matrix(h), k = 1:4, threads = 1, control = dbl))
})

test_that("rows out of memory are checked as rows in memory are", {
  skip_if_not_installed("bigmemory")
  x <- two_groups(400, 4)
  b <- bigmemory::as.big.matrix(x)
  expect_error(gmm(b, k = 2, weights = rep(1, 300)), "big.matrix is fitted without `weights`")
  expect_error(gmm(b, k = 2, noise = TRUE), "without `noise`")
  y <- x
  y[123, 2] <- NA
  expect_error(gmm(bigmemory::as.big.matrix(y), k = 2), "`x` has missing or infinite values")
  y <- x
  y[, 2] <- 5
  expect_error(gmm(bigmemory::as.big.matrix(y), k = 2), "column 'b' is constant")
  expect_error(gmm(b, k = 401), "`k` must be at most the number of rows")
  fit <- gmm(b, k = 2, model = "VVV")
  expect_error(fitted(fit), "fitted\\(\\) needs the fitted rows in memory")
  expect_error(plot(fit, what = "classification"), "needs the fitted rows in memory")
  expect_error(gmm_boot(fit, R = 2), "needs the fitted rows in memory")
  expect_output(print(summary(fit)), "Model VVV")
})

test_that("data on a cluster's workers give the in-memory fit, and predict() leaves results there", {
  cl <- parallel::makeCluster(2)
  on.exit(parallel::stopCluster(cl))
  x <- two_groups(3000, 5)
  parts <- list(x[1:1100, ], x[1101:nrow(x), ])
  parallel::clusterApply(cl, parts, function(p) {
    assign("rows", p, envir = globalenv())
    NULL
  })
  s <- gmm_shards(cl, "rows")
  expect_identical(s$sizes, c(1100, 1900))
  expect_output(print(s), "3000 rows \\(1100 \\+ 1900\\), 2 columns \\(a, b\\)")
  set.seed(6)
  mem <- gmm(x, k = 1:3, model = c("EII", "VVV", "VEV"), threads = 1, control = dbl)
  set.seed(6)
  sh <- gmm(s, k = 1:3, model = c("EII", "VVV", "VEV"), threads = 1)
  expect_same_fit(sh, mem)
  res <- predict(sh, s, type = "class", name = "cls")
  expect_s3_class(res, "gmm_shards")
  got <- parallel::clusterEvalQ(cl, cls)
  expect_identical(unlist(got), unname(predict(mem, x)))
  # a worker without rows (the first), and the errors
  parallel::clusterApply(cl, list(x[0, ], x), function(p) {
    assign("rows", p, envir = globalenv())
    NULL
  })
  s <- gmm_shards(cl, "rows")
  set.seed(6)
  sh <- gmm(s, k = 1:3, model = c("EII", "VVV", "VEV"), threads = 1)
  expect_same_fit(sh, mem)
  predict(sh, s, type = "prob", name = "p")
  got <- parallel::clusterEvalQ(cl, p)
  expect_identical(dim(got[[1]]), c(0L, sh$k))
  expect_equal(got[[2]], predict(mem, x, type = "prob"), tolerance = 1e-8, ignore_attr = TRUE)
  expect_error(gmm(s, k = 2, weights = rep(1, 3000)), "gmm_shards\\(\\) object is fitted without `weights`")
  parallel::clusterEvalQ(cl[2], rows[7, 1] <- NaN)
  expect_error(gmm(s, k = 2), "missing or infinite values \\(in worker 2\\)")
  expect_error(gmm_shards(cl, "nothing"), "`nothing` on worker 1 does not exist")
  parallel::clusterApply(cl, list(x, x[, 1, drop = FALSE]), function(p) {
    assign("rows", p, envir = globalenv())
    NULL
  })
  expect_error(gmm_shards(cl, "rows"), "same columns on every worker")
  expect_error(gmm_shards(list(), "rows"), "`cl` must be a cluster")
})

test_that("a failing pass over rows out of memory ends the sweep with its error", {
  x <- as.matrix(iris[1:4])
  w <- rep(1, 150)
  z <- diag(3)[rep(1:3, each = 50), ]
  starts <- list(list(list(0L, .Call(gaussmix:::C_gmm_suff, x, w, z, NULL))))
  colvar <- apply(x, 2, var) * 149 / 150
  pieces <- split(seq_len(150), rep(1:3, c(40, 60, 50)))
  pass <- function(pro, mean, chol, logdet, flags, hs) {
    gaussmix:::add_pieces(lapply(pieces, function(i) {
      gaussmix:::piece_pass(x[i, ], pro, mean, chol, logdet, flags, hs, 1L)
    }))
  }
  args <- list(NULL, NULL, 3L, c("VVV", "EEE"), matrix(TRUE, 1, 2), starts, NULL, NULL,
               list(NULL), gaussmix:::control_vector(gmm_control(), 2L),
               c(1e-5, 10, 1, 1, log(150), 0, 1), 2L, NULL, NULL, NULL,
               list(function(pro, mean, chol, logdet, flags, hs) stop("the disk is gone"),
                    c(150, 4), colvar))
  expect_error(.Call(gaussmix:::C_gmm_sweep, args), "the disk is gone")
  args[[16]][[1]] <- function(pro, mean, chol, logdet, flags, hs) 1:3
  expect_error(.Call(gaussmix:::C_gmm_sweep, args), "returned no sums of length")
  args[[16]] <- list(1, c(150, 4), colvar)
  expect_error(.Call(gaussmix:::C_gmm_sweep, args), "'ext' must be list")
  # the pass of each piece, added, is the pass over all rows: the sweep through
  # R gives the in-memory sweep's tables
  args[[16]] <- list(pass, c(150, 4), colvar)
  ext <- .Call(gaussmix:::C_gmm_sweep, args)
  args[1:2] <- list(x, w)
  args[16] <- list(NULL)
  mem <- .Call(gaussmix:::C_gmm_sweep, args)
  expect_equal(ext$bic, mem$bic, tolerance = 1e-10)
  expect_null(ext$best$z)
  expect_identical(dim(mem$best$z), c(150L, 3L))
  # a pass that does not see the rows the fit started with is an error
  args[1:2] <- list(NULL, NULL)
  args[[16]] <- list(pass, c(151, 4), colvar)
  expect_error(.Call(gaussmix:::C_gmm_sweep, args), "saw 150 rows, not the 151 the fit started with")
})

test_that("the C reader of a file goes block by block", {
  skip_if_not_installed("bigmemory")
  skip_on_os("windows")
  x <- two_groups(140000, 11)   # three blocks of at most 65,536 rows
  fb <- file_matrix(x)
  src <- gaussmix:::as_source(fb)
  expect_false(is.null(src$file))
  m <- gaussmix:::source_moments(src, c(0, 0), 0)
  expect_equal(m$cov, cov(x), tolerance = 1e-12, ignore_attr = TRUE)
  expect_equal(m$mean, colMeans(x), tolerance = 1e-12, ignore_attr = TRUE)
  set.seed(12)   # the same subset for the starts
  a <- gmm(fb, k = 2, model = "VVV", threads = 2)
  set.seed(12)
  mem <- gmm(x, k = 2, model = "VVV", threads = 2, control = dbl)
  expect_same_fit(a, mem)
  # predict() reads the file from C too, and gives the in-memory E-step's results
  # for the same parameters, row for row
  for (type in c("class", "prob", "density", "logdensity")) {
    expect_identical(predict(a, type = type), predict(a, unname(x), type = type))
  }
  expect_identical(predict(a), predict(mem), ignore_attr = TRUE)
})

test_that("a file-backed big.matrix read from C finds non-finite values and gives the R path's fit", {
  skip_if_not_installed("bigmemory")
  skip_on_os("windows")
  x <- two_groups(700, 8)
  fb <- file_matrix(x)
  src <- gaussmix:::as_source(fb)
  expect_identical(normalizePath(src$file),
                   normalizePath(file.path(bigmemory::dir.name(fb), "x.bin")))
  shared <- bigmemory::as.big.matrix(x)   # not file-backed: read through bigmemory
  expect_null(gaussmix:::as_source(shared)$file)
  m1 <- gaussmix:::source_moments(src, c(0, 0), 0)
  m2 <- gaussmix:::source_moments(gaussmix:::as_source(shared), c(0, 0), 0)
  expect_equal(m1, m2, tolerance = 1e-12, ignore_attr = TRUE)
  expect_equal(m1$cov, cov(x), tolerance = 1e-12, ignore_attr = TRUE)
  set.seed(9)
  a <- gmm(fb, k = 1:3, model = c("VVI", "VVV"), threads = 2)
  set.seed(9)
  b <- gmm(shared, k = 1:3, model = c("VVI", "VVV"), threads = 1)
  expect_same_fit(a, b)
  fb[5, 2] <- Inf
  bigmemory::flush(fb)
  expect_error(gmm(fb, k = 2), "`x` has missing or infinite values")
})
