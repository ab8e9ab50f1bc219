# The C entry points defend themselves, and a long fit can be interrupted.

garbage <- function() {
  pick <- sample.int(14, 1)
  switch(pick,
    NULL,
    1L,
    "a",
    NA_real_,
    c(NaN, Inf, -Inf),
    list(1, "b"),
    TRUE,
    matrix(rnorm(6), 3),
    matrix(rnorm(6), 2),
    -abs(rnorm(3)),
    array(1, c(2, 2, 2)),
    numeric(0),
    matrix(numeric(0), 0, 2),
    sample(c(rnorm(4), NA, Inf), 4)
  )
}

test_that("every .Call entry point answers random garbage with an error or a result", {
  set.seed(99)
  entries <- list(
    fit = list(gaussmix:::C_gmm_fit, 7L),
    estep = list(gaussmix:::C_gmm_estep, 4L),
    mstep = list(gaussmix:::C_gmm_mstep, 6L),
    kmeans = list(gaussmix:::C_gmm_kmeans, 4L),
    df = list(gaussmix:::C_gmm_df, 3L)
  )
  outcomes <- character(0)
  for (i in 1:600) {
    e <- entries[[(i - 1) %% length(entries) + 1]]
    args <- replicate(e[[2]], garbage(), simplify = FALSE)
    r <- tryCatch(do.call(.Call, c(list(e[[1]]), args)), error = function(err) err)
    outcomes <- c(outcomes, if (inherits(r, "error")) "error" else "result")
  }
  # Reaching this line means no call crashed the process.
  expect_length(outcomes, 600)
  expect_true(all(outcomes %in% c("error", "result")))
  # Nearly well-formed calls with one argument broken are errors too.
  x <- as.matrix(faithful)
  w <- rep(1, 272)
  cv <- c(1e-8, 100, 0, 1e-12, 1e-8, 100, 1, 1e-8, 1, 1e-5)
  z <- matrix(1, 272, 1)
  for (k in 1:7) {
    args <- list(x, w, "VVV", z, NULL, cv, NULL)
    args[k] <- list(garbage())
    r <- tryCatch(do.call(.Call, c(list(gaussmix:::C_gmm_fit), args)), error = function(e) e)
    if (!inherits(r, "error") && r$status == 0L) {
      expect_true(all(is.finite(c(r$pro, r$mean, r$sigma, r$z, r$loglik))))
    }
  }
})

test_that("a long fit can be interrupted, and the next fit is unaffected", {
  set.seed(1)
  x <- matrix(rnorm(1e5 * 5), ncol = 5)
  start <- list(mean = matrix(rnorm(40), 5), sigma = diag(5), pro = rep(1 / 8, 8))
  # A time limit is checked where a user interrupt is: once per EM iteration.
  elapsed <- system.time(expect_error({
    setTimeLimit(elapsed = 0.5, transient = TRUE)
    gmm(x, k = 8, model = "VVV", init = start, control = gmm_control(max_iter = 1e6, tol = 0))
  }, "time limit"))[["elapsed"]]
  setTimeLimit()
  expect_lt(elapsed, 30)   # the fit asked for would take many minutes
  expect_equal(gmm(faithful, k = 2, model = "VVV")$loglik, -1130.264, tolerance = 5e-4 / 1130)
})

test_that("the same seed gives bitwise-identical results, whatever the start", {
  for (init in c("hc", "kmeans++", "random")) {
    set.seed(7)
    a <- suppressWarnings(gmm(iris[1:4], k = 1:4, init = init, n_init = 2))
    set.seed(7)
    b <- suppressWarnings(gmm(iris[1:4], k = 1:4, init = init, n_init = 2))
    expect_identical(a[c("parameters", "z", "loglik", "bic_table")],
                     b[c("parameters", "z", "loglik", "bic_table")])
  }
})

test_that("numerical extremes fit sensibly or fail with a reason, never NaN", {
  x <- as.matrix(faithful)
  base <- gmm(x, k = 2, model = "VVV")
  for (s in c(1e-8, 1e8)) {
    f <- gmm(x * s, k = 2, model = "VVV")
    # The fit is equivariant: the log-likelihood shifts by -n d log(s).
    expect_equal(f$loglik, base$loglik - 272 * 2 * log(s), tolerance = 1e-6)
  }
  f <- gmm(x + 1e6, k = 2, model = "VVV")
  expect_equal(f$loglik, base$loglik, tolerance = 1e-6)
  # 1 % / 99 %: the small component is found.
  set.seed(3)
  y <- c(rnorm(990), rnorm(10, 10))
  g <- gmm(y, k = 2, model = "V")
  expect_equal(unname(g$parameters$pro[2]), 0.01, tolerance = 0.2)
  expect_true(all(is.finite(unlist(g[c("loglik", "z", "parameters")]))))
})

test_that("the row blocks and chunks of a pass cover every row up to R's largest row count", {
  # The arithmetic of the pass, checked without allocating 2^31 rows; the block size
  # B and the 32 chunks are those of src/gaussmix.h.
  B <- .Call(gaussmix:::C_gmm_layout, 1)$block
  expect_true(B >= 1 && B == round(B))
  for (n in c(1, B - 1, B, B + 1, 32 * B - 1, 32 * B, 32 * B + 1, 1e6,
              2^31 - B - 1, 2^31 - B, 2^31 - 1)) {
    lay <- .Call(gaussmix:::C_gmm_layout, n)
    blocks <- ceiling(n / B)
    expect_equal(lay$blocks, blocks, label = format(n))
    nchunk <- min(blocks, 32)
    expect_equal(lay$first, floor((0:nchunk) * blocks / nchunk))
    expect_true(all(diff(lay$first) >= 1))
    expect_equal(lay$start, (blocks - 1) * B)
    expect_equal(lay$rows, n - (blocks - 1) * B)
    expect_true(lay$rows >= 1 && lay$rows <= B)
  }
  expect_error(.Call(gaussmix:::C_gmm_layout, 2^31), "whole number from 1 to 2147483647")
})
