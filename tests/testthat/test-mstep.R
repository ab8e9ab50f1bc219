models_1d <- c("E", "V")
models_closed <- c("EII", "VII", "EEI", "EVI", "VVI", "EEE", "EEV", "EVV", "VVV")
models_iter <- c("VEI", "VEE", "EVE", "VVE", "VEV")
models_nd <- c(models_closed, models_iter)

test_that("M-step on a hard partition gives per-group weighted means and covariances", {
  set.seed(3)
  x <- matrix(rnorm(60 * 3), 60, 3) + rep(c(0, 4, 8), each = 20)
  cl <- rep(1:3, each = 20)
  z <- outer(cl, 1:3, "==") * 1
  w <- runif(60, 0.5, 2)
  # VVV checked against stats::cov.wt(), which knows nothing of mixtures.
  m <- c_mstep(x, z, "VVV", w)
  for (j in 1:3) {
    cw <- cov.wt(x[cl == j, ], wt = w[cl == j] / sum(w[cl == j]), method = "ML")
    expect_equal(m$mean[, j], unname(cw$center), tolerance = 1e-12)
    expect_equal(m$sigma[, , j], unname(cw$cov), tolerance = 1e-12)
    expect_equal(m$pro[j], sum(w[cl == j]) / sum(w), tolerance = 1e-12)
  }
  for (model in models_closed) {
    m <- c_mstep(x, z, model, w)
    r <- ref_mstep(x, z, model, w)
    expect_equal(m$status, 0L)
    expect_equal(m$pro, r$pro, tolerance = 1e-12, label = model)
    expect_equal(m$mean, r$mean, tolerance = 1e-12, label = model)
    expect_equal(m$sigma, r$sigma, tolerance = 1e-12, label = model)
  }
})

test_that("1-D M-steps match the pooled and per-group variances", {
  x <- matrix(c(1, 2, 4, 10, 11, 15))
  z <- cbind(c(1, 1, 1, 0, 0, 0), c(0, 0, 0, 1, 1, 1))
  v <- c(var(x[1:3]), var(x[4:6])) * 2 / 3   # ML variances of each group
  m <- c_mstep(x, z, "V")
  expect_equal(as.vector(m$sigma), v)
  expect_equal(as.vector(m$mean), c(7 / 3, 12))
  m <- c_mstep(x, z, "E")
  expect_equal(as.vector(m$sigma), rep(mean(v), 2))
})

test_that("M-step with soft responsibilities matches the reference for every model", {
  set.seed(5)
  x <- matrix(rnorm(50 * 2), 50, 2)
  z <- matrix(runif(150), 50)
  z <- z / rowSums(z)
  for (model in models_closed) {
    expect_equal(c_mstep(x, z, model)$sigma, ref_mstep(x, z, model)$sigma,
                 tolerance = 1e-10, label = model)
  }
  for (model in models_1d) {
    expect_equal(c_mstep(x[, 1, drop = FALSE], z, model)$sigma,
                 ref_mstep(x[, 1, drop = FALSE], z, model)$sigma, tolerance = 1e-12)
  }
})

test_that("reg adds a ridge to every covariance", {
  set.seed(6)
  x <- matrix(rnorm(40), 20)
  z <- cbind(rep(1:0, 10), rep(0:1, 10))
  expect_equal(c_mstep(x, z, "VVV", reg = 0.5)$sigma,
               ref_mstep(x, z, "VVV")$sigma + array(diag(0.5, 2), c(2, 2, 2)))
})

test_that("df follows the design table", {
  for (d in 2:5) for (k in 1:4) for (m in models_nd) {
    expect_equal(gmm_models(d, k)$df[gmm_models(d, k)$model == m], ref_df(m, d, k))
  }
  for (k in 1:4) for (m in models_1d) {
    expect_equal(gmm_models(1, k)$df[gmm_models(1, k)$model == m], ref_df(m, 1, k))
  }
  expect_setequal(gmm_models()$model, c(models_1d, models_nd))
})

# The iterative M-steps are checked against an independent minimisation of the
# M-step objective in R: given the volumes (or, for EVE and VVE, the rotation
# angle of the common orientation in 2-D), every other part has a closed form,
# so the objective is profiled and minimised with optim() / optimize().
profile_fit <- function(model, nk, W) {
  d <- nrow(W[[1]])
  k <- length(nk)
  geo <- function(v) exp(mean(log(v)))
  build <- function(par) {
    switch(model,
      VEI = {
        lam <- exp(par)
        B <- Reduce(`+`, Map(function(Wj, l) diag(Wj) / l, W, lam))
        B <- B / geo(B)
        lapply(lam, function(l) diag(l * B, d))
      },
      VEE = {
        lam <- exp(par)
        C <- Reduce(`+`, Map(function(Wj, l) Wj / l, W, lam))
        C <- C / det(C)^(1 / d)
        lapply(lam, function(l) l * C)
      },
      VEV = {
        lam <- exp(par)
        e <- lapply(W, eigen, symmetric = TRUE)
        A <- Reduce(`+`, Map(function(ej, l) ej$values / l, e, lam))
        A <- A / geo(A)
        Map(function(ej, l) l * ej$vectors %*% diag(A, d) %*% t(ej$vectors), e, lam)
      },
      EVE = , VVE = {
        D <- matrix(c(cos(par), sin(par), -sin(par), cos(par)), 2)
        T <- lapply(W, function(Wj) diag(t(D) %*% Wj %*% D))
        if (model == "VVE") {
          Map(function(t, n) D %*% diag(t / n) %*% t(D), T, nk)
        } else {
          g <- vapply(T, geo, numeric(1))
          lam <- sum(g) / sum(nk)
          Map(function(t, gj) lam * D %*% diag(t / gj) %*% t(D), T, g)
        }
      }
    )
  }
  f <- function(par) mstep_objective(array(unlist(build(par)), c(d, d, k)), nk, W)
  best <- if (model %in% c("EVE", "VVE")) {
    o <- optimize(f, c(0, pi), tol = 1e-12)
    o2 <- optimize(f, c(pi / 2, 3 * pi / 2), tol = 1e-12)   # guard against an edge minimum
    min(o$objective, o2$objective)
  } else {
    start <- log(vapply(seq_len(k), function(j) sum(diag(W[[j]])) / (d * nk[j]), numeric(1)))
    optim(start, f, method = "BFGS", control = list(reltol = 1e-14, maxit = 1000))$value
  }
  best
}

test_that("iterative M-steps reach the minimum of the M-step objective", {
  set.seed(12)
  for (rep in 1:3) {
    d <- if (rep == 3) 3 else 2
    x <- matrix(rnorm(60 * d), 60) %*% matrix(rnorm(d * d), d)
    z <- matrix(runif(60 * 3), 60)
    z <- z / rowSums(z)
    st <- scatter(x, z)
    for (model in models_iter) {
      if (model %in% c("EVE", "VVE") && d != 2) next
      m <- c_mstep(x, z, model)
      expect_equal(m$status, 0L)
      expect_true(m$inner_converged, label = model)
      ours <- mstep_objective(m$sigma, st$nk, st$W)
      expect_equal(ours, profile_fit(model, st$nk, st$W), tolerance = 1e-8, label = model)
    }
  }
})

test_that("every M-step obeys its model's constraints", {
  set.seed(13)
  x <- matrix(rnorm(80 * 3), 80) %*% matrix(rnorm(9), 3)
  z <- matrix(runif(80 * 3), 80)
  z <- z / rowSums(z)
  S <- function(m) lapply(1:3, function(j) c_mstep(x, z, m)$sigma[, , j])
  vol <- function(s) vapply(s, function(m) det(m)^(1 / 3), numeric(1))
  shape <- function(s) lapply(s, function(m) sort(eigen(m, symmetric = TRUE)$values) / det(m)^(1 / 3))
  commute <- function(s) max(abs(s[[1]] %*% s[[2]] - s[[2]] %*% s[[1]]),
                             abs(s[[1]] %*% s[[3]] - s[[3]] %*% s[[1]]))
  offdiag <- function(s) max(vapply(s, function(m) max(abs(m[upper.tri(m)])), numeric(1)))
  for (m in c("EII", "EEI", "EVI", "EEE", "EVE", "EEV", "EVV")) {
    expect_equal(diff(range(vol(S(m)))), 0, tolerance = 1e-10, label = paste(m, "equal volume"))
  }
  for (m in c("EEI", "VEI", "EEE", "VEE", "EEV", "VEV")) {
    sh <- shape(S(m))
    expect_equal(sh[[1]], sh[[2]], tolerance = 1e-8, label = paste(m, "equal shape"))
    expect_equal(sh[[1]], sh[[3]], tolerance = 1e-8, label = paste(m, "equal shape"))
  }
  for (m in c("EEE", "VEE", "EVE", "VVE")) {
    expect_lt(commute(S(m)), 1e-8 * max(abs(x))^2)   # a common orientation
  }
  for (m in c("EEI", "VEI", "EVI", "VVI")) expect_equal(offdiag(S(m)), 0, label = m)
})

test_that("the conjugate prior's MAP M-step for VVV is Fraley and Raftery's", {
  set.seed(14)
  x <- matrix(rnorm(40 * 2), 40)
  z <- matrix(runif(80), 40)
  z <- z / rowSums(z)
  pr <- list(kappa = 0.01, nu = 4, mean = colMeans(x), scale = cov(x) / 2)
  m <- c_mstep(x, z, "VVV", prior = pr)
  for (j in 1:2) {
    nk <- sum(z[, j])
    xb <- colSums(x * z[, j]) / nk
    W <- crossprod(sweep(x, 2, xb) * sqrt(z[, j]))
    B <- pr$kappa * nk / (nk + pr$kappa) * tcrossprod(xb - pr$mean)
    expect_equal(m$mean[, j], (nk * xb + pr$kappa * pr$mean) / (nk + pr$kappa))
    expect_equal(m$sigma[, , j], (pr$scale + W + B) / (pr$nu + nk + 2 + 2))
  }
})

test_that("EVE and VVE M-steps do no worse than their axis-aligned cases, whatever the column scales", {
  # VVI is VVE with the orientation fixed at the axes, EVI likewise for EVE. With one
  # column a million times the other, a plane objective formed as a difference of
  # large numbers lost every digit and took rotations that raised the objective.
  set.seed(11)
  x0 <- rbind(matrix(rnorm(200), 100), matrix(rnorm(200, 4), 100) %*% matrix(c(1, .5, .5, 1), 2))
  z0 <- cbind(rep(c(1, 0), c(100, 100)), rep(c(0, 1), c(100, 100)))
  # The M-step objective, evaluated in the original units (it changes by a constant
  # that is the same for both models), where the covariances are well conditioned.
  obj <- function(sigma, sc) {
    Ti <- diag(c(1 / sc, sc))
    sum(sapply(1:2, function(k) {
      xk <- x0[z0[, k] == 1, ]
      S <- crossprod(sweep(xk, 2, colMeans(xk)))
      Sg <- Ti %*% sigma[, , k] %*% Ti
      100 * as.numeric(determinant(Sg)$modulus) + sum(diag(solve(Sg, S)))
    }))
  }
  for (sc in c(1, 1e4, 1e7)) {
    x <- x0 %*% diag(c(sc, 1 / sc))
    for (pair in list(c("VVE", "VVI"), c("EVE", "EVI"))) {
      a <- obj(c_mstep(x, z0, pair[1])$sigma, sc)
      b <- obj(c_mstep(x, z0, pair[2])$sigma, sc)
      expect_lte(a, b + 1e-8 * abs(b))
    }
  }
})

test_that("the VVV M-step's scatter matches explicit matrix algebra for 2 to 11 columns", {
  # The scatter's lower triangle is summed in tiles of four rows by four columns,
  # then the last one to three rows: d = 2 to 11 meets every shape of tile, and 300
  # rows make a block of 256 rows and one of 44.
  set.seed(9)
  for (d in 2:11) {
    x <- matrix(rnorm(300 * d), 300, d) + rep(1:300 / 100, d)
    z <- matrix(runif(900), 300)
    z <- z / rowSums(z)
    w <- runif(300, 0.5, 2)
    m <- c_mstep(x, z, "VVV", w)
    for (j in 1:3) {
      g <- w * z[, j]
      mu <- colSums(g * x) / sum(g)
      r <- sweep(x, 2, mu)
      expect_equal(m$mean[, j], mu, tolerance = 1e-12)
      expect_equal(matrix(m$sigma[, , j], d, d), crossprod(r, g * r) / sum(g), tolerance = 1e-12)
    }
  }
})
