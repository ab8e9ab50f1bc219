# The height example of the original notes (seed 002): two 1-D components
# started at 170 and 190 cm with sd 5 and weights 0.5. The notes report
# 0.116 / 163.82 / 2.458 and 0.884 / 178.02 / 5.477.
notes <- list(pro = c(0.116, 0.884), mean = c(163.82, 178.02), sd = c(2.458, 5.477))
start <- list(mean = c(170, 190), sd = c(5, 5), pro = c(0.5, 0.5))

simulate_heights <- function(n) {
  cl <- sample(1:2, n, replace = TRUE, prob = notes$pro)
  rnorm(n, notes$mean[cl], notes$sd[cl])
}

numDeriv_grad <- function(f, x, h = 1e-5) {
  vapply(seq_along(x), function(i) {
    e <- replace(numeric(length(x)), i, h)
    (f(x + e) - f(x - e)) / (2 * h)
  }, numeric(1))
}

test_that("gmm() follows the notes' EM iterates from the notes' start", {
  set.seed(2024)
  h <- simulate_heights(2000)
  for (iter in c(1, 10, 60)) {
    expect_warning(f <- gmm(h, k = 2, model = "V", init = start,
                            control = gmm_control(max_iter = iter, tol = 0, accelerate = FALSE)),
                   "did not converge")
    r <- ref_em_1d(h, c(170, 190), c(5, 5), 0.5, iter = iter, tol = 0)
    expect_equal(unname(f$parameters$mean[1, ]), r$mu, tolerance = 1e-10)
    expect_equal(unname(sqrt(f$parameters$sigma[1, 1, ])), r$sd, tolerance = 1e-10)
    expect_equal(unname(f$parameters$pro[1]), r$pi1, tolerance = 1e-10)
  }
})

test_that("the notes' parameters are recovered within sampling error", {
  set.seed(2024)
  h <- simulate_heights(2000)
  f <- gmm(h, k = 2, model = "V", init = start, control = gmm_control(tol = 1e-13))
  est <- c(f$parameters$pro[1], f$parameters$mean[1, ], sqrt(f$parameters$sigma[1, 1, ]))
  truth <- c(notes$pro[1], notes$mean, notes$sd)
  # Standard errors from the observed information: the numerical Hessian of the
  # negative log-likelihood in (pro1, mean1, mean2, sd1, sd2) at the estimate.
  nll <- function(t) -sum(log(t[1] * dnorm(h, t[2], t[4]) + (1 - t[1]) * dnorm(h, t[3], t[5])))
  se <- sqrt(diag(solve(optimHess(unname(est), nll))))
  expect_true(all(abs(est - truth) < 4 * se), info = paste(round((est - truth) / se, 2), collapse = " "))
  # And the estimate is a stationary point of the likelihood.
  expect_lt(max(abs(numDeriv_grad(nll, unname(est)) * se)), 1e-3)
})
