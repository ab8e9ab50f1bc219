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
