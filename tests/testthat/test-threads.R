test_that("threads = 1 and threads = 2 give bitwise-identical fits", {
  set.seed(30)
  x <- rbind(matrix(rnorm(30000), 10000), matrix(rnorm(30000, 2), 10000))   # 79 blocks
  for (model in c("VVV", "VEV", "EII")) {
    # The same seed: above 2000 rows the hierarchical start draws a subset.
    set.seed(1)
    a <- gmm(x, k = 3, model = model, threads = 1)
    set.seed(1)
    b <- gmm(x, k = 3, model = model, threads = 2)
    expect_identical(a$loglik, b$loglik)
    expect_identical(a$parameters, b$parameters)
    expect_identical(a$z, b$z)
    expect_identical(a$loglik_trace, b$loglik_trace)
  }
  expect_error(gmm(x, k = 2, threads = 0), "`threads` must be whole number")
})

test_that("a whole sweep gives the same bits on 1 and 2 threads, cells side by side or rows split", {
  # Few rows: the cells of each phase run side by side, one per thread.
  x <- as.matrix(faithful)
  a <- gmm(x, threads = 1)
  b <- gmm(x, threads = 2)
  expect_identical(unclass(a$bic_table), unclass(b$bic_table))
  expect_identical(a$icl_table, b$icl_table)
  expect_identical(a$parameters, b$parameters)
  expect_identical(a$z, b$z)
  expect_identical(a$loglik_trace, b$loglik_trace)
  # Failed cells keep the same reasons.
  set.seed(4)
  y <- rbind(matrix(rnorm(40), 20), matrix(rnorm(40, 5), 20))
  a <- gmm(y, k = 1:6, threads = 1)
  b <- gmm(y, k = 1:6, threads = 2)
  expect_identical(a$bic_table, b$bic_table)
})

test_that("gmm_threads() follows the option, the environment and R CMD check's limit", {
  old <- options(gaussmix.threads = NULL)
  env <- Sys.getenv(c("GAUSSMIX_NUM_THREADS", "OMP_THREAD_LIMIT", "OMP_NUM_THREADS",
                      "_R_CHECK_LIMIT_CORES_"), unset = NA)
  on.exit({
    options(old)
    for (v in names(env)) if (is.na(env[[v]])) Sys.unsetenv(v) else do.call(Sys.setenv, as.list(env[v]))
  })
  Sys.unsetenv(names(env))
  cores <- parallel::detectCores(logical = FALSE)
  if (!is.na(cores)) expect_identical(gmm_threads(), as.integer(cores))
  options(gaussmix.threads = 7)
  expect_identical(gmm_threads(), 7L)
  Sys.setenv(OMP_THREAD_LIMIT = "3")
  expect_identical(gmm_threads(), 3L)
  Sys.setenv(OMP_NUM_THREADS = "2,1")
  expect_identical(gmm_threads(), 2L)
  Sys.unsetenv(c("OMP_THREAD_LIMIT", "OMP_NUM_THREADS"))
  Sys.setenv("_R_CHECK_LIMIT_CORES_" = "TRUE")
  expect_identical(gmm_threads(), 2L)
  Sys.setenv("_R_CHECK_LIMIT_CORES_" = "false")
  expect_identical(gmm_threads(), 7L)
  options(gaussmix.threads = NULL)
  Sys.setenv(GAUSSMIX_NUM_THREADS = "5")
  expect_identical(gmm_threads(), 5L)
  options(gaussmix.threads = 0)
  expect_error(gmm_threads(), "gaussmix.threads")
})

test_that("a sweep stopped by an interrupt or error leaves the threads usable", {
  # R's elapsed-time limit is checked where interrupts are: the sweep stops within
  # an iteration, its other thread is waited for, and the next fit works.
  set.seed(2)
  x <- matrix(rnorm(40000), 20000)
  t0 <- proc.time()[["elapsed"]]
  err <- tryCatch({
    setTimeLimit(elapsed = 0.1, transient = TRUE)   # (the sweep takes about 0.3 s)
    gmm(x, threads = 2)
  }, error = function(e) conditionMessage(e))
  setTimeLimit()
  expect_match(err, "time limit")
  expect_lt(proc.time()[["elapsed"]] - t0, 2)
  expect_equal(gmm(faithful, k = 3, model = "EEE", threads = 2)$bic, 2314.296, tolerance = 1e-6)
})

test_that("screening passes in single precision give the same bits on 1 and 2 threads", {
  # One cell from two starts: its passes split their rows over the threads.
  set.seed(31)
  x <- rbind(matrix(rnorm(40000), ncol = 2), cbind(rnorm(20000, 3), rnorm(20000, 1, 0.5)))
  for (model in c("VVV", "EEI")) {
    set.seed(1)
    a <- gmm(x, k = 3, model = model, threads = 1)
    set.seed(1)
    b <- gmm(x, k = 3, model = model, threads = 2)
    expect_true(a$screened >= 1L)
    expect_identical(a$loglik_trace, b$loglik_trace)
    expect_identical(a$parameters, b$parameters)
  }
})
