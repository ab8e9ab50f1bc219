# Newton's steps (src/newton.c) for the unconstrained models, V and VVV with d <= 3.
# Their system is checked against finite differences of the log-likelihood written
# out in R, in the same parameters: for each component, eta_1 = Sigma^-1 mu and the
# coefficients of y_a y_b in y' (-Sigma^-1 / 2) y (statistics y, then y_a y_b for
# b = 1..d, a = 1..b), and the logits log(pi_k / pi_K), all in the coordinates
# y = (x - centre) * scale the system reports.

newton_parts <- function(theta, d, k) {
  q <- d + d * (d + 1) / 2
  pairs <- do.call(rbind, lapply(seq_len(d), function(b) cbind(seq_len(b), b)))
  a <- c(theta[seq_len(k - 1)], 0)
  pro <- exp(a) / sum(exp(a))
  lapply(seq_len(k), function(j) {
    e <- theta[k - 1 + (j - 1) * q + seq_len(q)]
    L <- matrix(0, d, d)
    for (t in seq_len(nrow(pairs))) {
      v <- e[d + t]
      if (pairs[t, 1] == pairs[t, 2]) L[pairs[t, 1], pairs[t, 1]] <- v
      else L[pairs[t, 1], pairs[t, 2]] <- L[pairs[t, 2], pairs[t, 1]] <- v / 2
    }
    S <- solve(-2 * L)
    list(pro = pro[j], mean = drop(S %*% e[seq_len(d)]), sigma = S, eta1 = e[seq_len(d)], L = L)
  })
}

# The weighted log-likelihood at theta, back in x's units, by explicit algebra.
loglik_theta <- function(theta, x, w, d, k, centre, scale) {
  comp <- newton_parts(theta, d, k)
  dens <- sapply(comp, function(p) {
    mu <- centre + p$mean / scale
    S <- p$sigma / tcrossprod(scale)
    r <- sweep(x, 2, mu)
    p$pro * exp(-0.5 * rowSums((r %*% solve(S)) * r)) / sqrt(det(2 * pi * S))
  })
  sum(w * log(rowSums(matrix(dens, nrow(x)))))
}

check_system <- function(x, w, pro, mean, sigma) {
  x <- as.matrix(x)
  d <- ncol(x)
  k <- length(pro)
  s <- .Call(gaussmix:::C_gmm_newton_system, x, w, pro, mean, sigma)
  f <- function(th) loglik_theta(th, x, w, d, k, s$centre, s$scale)
  th <- s$theta
  p <- length(th)
  expect_equal(s$loglik, f(th), tolerance = 1e-12)
  # theta is the given parameters
  comp <- newton_parts(th, d, k)
  expect_equal(sapply(comp, `[[`, "pro"), pro, tolerance = 1e-12)
  for (j in seq_len(k)) {
    expect_equal(s$centre + comp[[j]]$mean / s$scale, unname(mean[, j]), tolerance = 1e-10)
    expect_equal(comp[[j]]$sigma / tcrossprod(s$scale), matrix(sigma[, , j], d, d), tolerance = 1e-10)
  }
  # gradient and Hessian against central differences
  h <- 1e-4
  e <- function(j) replace(numeric(p), j, h)
  g <- vapply(seq_len(p), function(j) (f(th + e(j)) - f(th - e(j))) / (2 * h), 0)
  expect_lt(max(abs(s$gradient - g)), 1e-6 * max(1, abs(g)))
  H <- matrix(0, p, p)
  for (a in seq_len(p)) for (b in seq_len(a)) {
    H[a, b] <- H[b, a] <- (f(th + e(a) + e(b)) - f(th + e(a) - e(b)) - f(th - e(a) + e(b)) +
                             f(th - e(a) - e(b))) / (4 * h^2)
  }
  expect_lt(max(abs(s$hessian - H)), 1e-4 * max(abs(H)))
  expect_equal(s$hessian, t(s$hessian))
  # I_c: N (diag(pi) - pi pi') for the logits, and n_k times the Hessian of each
  # Gaussian's log-partition A(eta) = -eta_1' L^-1 eta_1 / 4 - log det(-2 L) / 2 for
  # its block, with n_k = sum_i w_i z_ik
  dens <- sapply(comp, function(p) {
    mu <- s$centre + p$mean / s$scale
    S <- p$sigma / tcrossprod(s$scale)
    r <- sweep(x, 2, mu)
    p$pro * exp(-0.5 * rowSums((r %*% solve(S)) * r)) / sqrt(det(2 * pi * S))
  })
  z <- matrix(dens, nrow(x)) / rowSums(matrix(dens, nrow(x)))
  nk <- colSums(w * z)
  I <- matrix(0, p, p)
  pk <- pro[-k]
  I[seq_len(k - 1), seq_len(k - 1)] <- sum(w) * (diag(pk, k - 1) - tcrossprod(pk))
  q <- d + d * (d + 1) / 2
  for (j in seq_len(k)) {
    idx <- k - 1 + (j - 1) * q + seq_len(q)
    A <- function(eta) {
      cj <- newton_parts(replace(th, idx, eta[idx]), d, k)[[j]]
      -sum(cj$eta1 * solve(cj$L, cj$eta1)) / 4 - log(det(-2 * cj$L)) / 2
    }
    Ab <- matrix(0, q, q)
    for (a in seq_len(q)) for (b in seq_len(a)) {
      ea <- e(idx[a])
      eb <- e(idx[b])
      Ab[a, b] <- Ab[b, a] <- (A(th + ea + eb) - A(th + ea - eb) - A(th - ea + eb) +
                                 A(th - ea - eb)) / (4 * h^2)
    }
    I[idx, idx] <- nk[j] * Ab
  }
  expect_lt(max(abs(s$info - I)), 1e-5 * max(abs(I)))
  invisible(s)
}

test_that("Newton's gradient, Hessian and information are the log-likelihood's", {
  set.seed(3)
  # one column, on a scale far from the origin (the system centres and scales it),
  # with frequency weights
  h <- c(rnorm(50, 164, 3), rnorm(70, 178, 5.5))
  check_system(h, rep(c(1, 2, 0.5), 40), c(0.4, 0.6), matrix(c(165, 177), 1),
               array(c(10, 30), c(1, 1, 2)))
  # two columns, three components
  x <- cbind(rnorm(90), rnorm(90, 5, 2)) + rep(c(0, 1.5, 3), each = 30)
  S <- array(c(1, 0.3, 0.3, 4, 0.8, -0.2, -0.2, 3, 1.5, 0, 0, 5), c(2, 2, 3))
  check_system(x, rep(1, 90), c(0.3, 0.3, 0.4), matrix(c(0.2, 5, 1.4, 6.6, 2.8, 8.1), 2), S)
  # three columns, two components, weights
  x <- matrix(rnorm(240), 80) + rep(c(0, 2), each = 40)
  S <- array(c(diag(3) + 0.2, diag(c(1, 2, 0.5))), c(3, 3, 2))
  check_system(x, runif(80, 0.5, 2), c(0.55, 0.45), matrix(c(0, 0.1, -0.1, 2, 1.9, 2.2), 3), S)
  # the system is refused where the steps do not run
  expect_error(.Call(gaussmix:::C_gmm_newton_system, matrix(rnorm(40), 10), rep(1, 10),
                     c(0.5, 0.5), matrix(0, 4, 2), array(diag(4), c(4, 4, 2))),
               "do not run for 4 columns")
})

# The increase still to come at a fit that the quadratic model predicts,
# g' (-H)^-1 g / 2: about 0 at a maximum.
decrement <- function(x, w, fit) {
  s <- .Call(gaussmix:::C_gmm_newton_system, as.matrix(x), w, fit$parameters$pro,
             fit$parameters$mean, fit$parameters$sigma)
  sum(s$gradient * solve(-s$hessian, s$gradient)) / 2
}

test_that("Newton's steps end at the maximum, nearer it than EM at the same tol", {
  # Overlapping components, where EM crawls (at 1e-13 plain EM still stops short of
  # the maximum): Newton's steps once EM has settled against plain EM
  set.seed(8)
  n <- 4000
  cl <- sample(3, n, replace = TRUE)
  x <- cbind(rnorm(n, c(0, 1, 2)[cl]), rnorm(n, c(0, 0.7, -0.4)[cl], c(1, 1.3, 0.9)[cl]))
  for (tol in c(1e-13, 1e-8)) {
    ctl <- gmm_control(tol = tol, max_iter = 1e5)
    a <- gmm(x, k = 3, model = "VVV", control = ctl)
    b <- gmm(x, k = 3, model = "VVV", control = modifyList(ctl, list(accelerate = FALSE)))
    expect_true(a$converged && b$converged)
    expect_gte(a$loglik, b$loglik)
    if (tol == 1e-13) {   # (at 1e-8 plain EM stops with proportions 0.06 off)
      expect_equal(unlist(a$parameters), unlist(b$parameters), tolerance = 1e-3)
      expect_lt(a$iterations, b$iterations / 10)
    }
    expect_true(all(diff(a$loglik_trace) >= 0))
    # at the fit the gradient is about 0, as the tolerance asks
    expect_lt(decrement(x, rep(1, n), a), tol * abs(a$loglik))
    expect_gt(decrement(x, rep(1, n), b), decrement(x, rep(1, n), a))
  }
  # In 1-D (model V) likewise, with weights
  h <- c(rnorm(300, 0, 1), rnorm(200, 1.5, 1.3))
  w <- rep(c(1, 3), 250)
  ctl <- gmm_control(tol = 1e-13, max_iter = 1e5)
  a <- gmm(h, k = 2, model = "V", weights = w, control = ctl)
  b <- gmm(h, k = 2, model = "V", weights = w, control = modifyList(ctl, list(accelerate = FALSE)))
  expect_gte(a$loglik, b$loglik)
  expect_equal(unlist(a$parameters), unlist(b$parameters), tolerance = 1e-3)
  expect_lt(decrement(h, w, a), 1e-13 * abs(a$loglik))
  # With a ridge, EM's fixed point is not the maximum: no Newton steps there, and the
  # fit is plain EM's
  x <- as.matrix(faithful)
  r <- gmm(x, k = 3, model = "VVV", control = gmm_control(reg = 0.1, tol = 1e-12, max_iter = 1e5))
  rp <- gmm(x, k = 3, model = "VVV",
            control = gmm_control(reg = 0.1, tol = 1e-12, max_iter = 1e5, accelerate = FALSE))
  expect_equal(unlist(r$parameters), unlist(rp$parameters), tolerance = 1e-7)
})

test_that("a sweep with K beyond Newton's limit still takes Newton's steps for the smaller K", {
  # Three columns allow Newton's sums up to K = 10: a sweep to K = 11 sizes its
  # workspace for 10, and its K = 3 cell is the fit of K = 3 alone
  set.seed(2)
  x <- matrix(rnorm(6000), 2000) + sample(0:2, 2000, TRUE) * 0.9
  set.seed(1)
  a <- gmm(x, k = 3, model = "VVV")
  set.seed(1)
  b <- gmm(x, k = c(3, 11), model = "VVV")
  expect_identical(b$k, 3L)
  expect_identical(b$iterations, a$iterations)
  expect_identical(b$loglik, a$loglik)
  expect_identical(b$parameters, a$parameters)
})

test_that("damped Newton steps do not cycle where the Hessian stays indefinite", {
  # Three components on two groups in one dimension: near plain EM's end point the
  # Hessian is indefinite, where damping that fell back to 1/4 after every failure
  # at 0 cycled for hundreds of passes (354 iterations); now it returns to the last
  # damping that served and hands over to SQUAREM after 20 damped steps
  set.seed(1)
  x <- rnorm(4000) + (rnorm(4000) > 0) * 0.8
  # (plain EM is no yardstick here: it creeps along a ridge for 11,077 iterations)
  set.seed(1)
  a <- gmm(x, k = 3, model = "V", control = gmm_control(tol = 1e-10))
  expect_true(a$converged)
  expect_lt(a$iterations, 150)
  expect_true(all(diff(a$loglik_trace) >= 0))
})
