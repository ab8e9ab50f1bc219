# Independent reference computations in plain R, written from the formulas and
# not from the C code, for the tests to compare against.

# Multivariate normal log-density from solve() and determinant().
ref_logdnorm <- function(x, mu, S) {
  x <- as.matrix(x)
  d <- ncol(x)
  xc <- sweep(x, 2, mu)
  q <- rowSums((xc %*% solve(S)) * xc)
  -0.5 * (d * log(2 * pi) + as.numeric(determinant(S)$modulus) + q)
}

# Responsibilities and log-likelihood, by exp-then-normalise (fine on tame data).
ref_estep <- function(x, pro, mean, sigma) {
  k <- length(pro)
  d <- nrow(mean)
  dens <- sapply(seq_len(k), function(j) {
    pro[j] * exp(ref_logdnorm(x, mean[, j], matrix(sigma[, , j], d, d)))
  })
  dens <- matrix(dens, ncol = k)
  list(z = dens / rowSums(dens), loglik = sum(log(rowSums(dens))))
}

# M-step for each model from weighted hard or soft assignments z, by the
# closed forms of Celeux and Govaert (1995).
ref_mstep <- function(x, z, model, w = rep(1, nrow(x))) {
  x <- as.matrix(x)
  d <- ncol(x)
  k <- ncol(z)
  wz <- z * w
  nk <- colSums(wz)
  n <- sum(w)
  mean <- sapply(seq_len(k), function(j) colSums(x * wz[, j]) / nk[j])
  mean <- matrix(mean, nrow = d)
  W <- lapply(seq_len(k), function(j) {
    xc <- sweep(x, 2, mean[, j])
    crossprod(xc * sqrt(wz[, j]))
  })
  Wsum <- Reduce(`+`, W)
  geo <- function(v) exp(mean(log(v)))
  S <- switch(model,
    EVI = {
      g <- vapply(W, function(Wj) geo(diag(Wj)), numeric(1))
      lapply(seq_len(k), function(j) diag(sum(g) / n * diag(W[[j]]) / g[j], d))
    },
    EEV = {
      e <- lapply(W, eigen, symmetric = TRUE)
      Om <- Reduce(`+`, lapply(e, `[[`, "values"))
      lapply(e, function(ej) ej$vectors %*% diag(Om / n, d) %*% t(ej$vectors))
    },
    EVV = {
      g <- vapply(W, function(Wj) det(Wj)^(1 / d), numeric(1))
      lapply(seq_len(k), function(j) sum(g) / n * W[[j]] / g[j])
    },
    E = , EII = rep(list(diag(sum(diag(Wsum)) / (n * d), d)), k),
    V = , VII = lapply(seq_len(k), function(j) diag(sum(diag(W[[j]])) / (nk[j] * d), d)),
    EEI = rep(list(diag(diag(Wsum) / n, d)), k),
    VVI = lapply(seq_len(k), function(j) diag(diag(W[[j]]) / nk[j], d)),
    EEE = rep(list(Wsum / n), k),
    VVV = lapply(seq_len(k), function(j) W[[j]] / nk[j])
  )
  list(pro = nk / n, mean = mean, sigma = array(unlist(S), c(d, d, k)))
}

# Free parameters, transcribed from the table of the design notes
# (Celeux and Govaert 1995 parametrisation).
ref_df <- function(model, d, k) {
  ncov <- switch(model, E = 1, V = k, EII = 1, VII = k, EEI = d, VEI = k + d - 1,
                 EVI = 1 + k * (d - 1), VVI = k * d, EEE = d * (d + 1) / 2,
                 VEE = k + d * (d + 1) / 2 - 1, EVE = 1 + k * (d - 1) + d * (d - 1) / 2,
                 VVE = k * d + d * (d - 1) / 2, EEV = 1 + (d - 1) + k * d * (d - 1) / 2,
                 VEV = k + (d - 1) + k * d * (d - 1) / 2, EVV = 1 + k * (d * (d + 1) / 2 - 1),
                 VVV = k * d * (d + 1) / 2)
  ncov + k * d + k - 1
}

# The M-step objective sum_k n_k log det Sigma_k + tr(Sigma_k^{-1} W_k).
mstep_objective <- function(sigma, nk, W) {
  sum(vapply(seq_along(nk), function(j) {
    S <- matrix(sigma[, , j], dim(sigma)[1])
    nk[j] * as.numeric(determinant(S)$modulus) + sum(diag(solve(S, W[[j]])))
  }, numeric(1)))
}

# Component sizes and weighted scatter matrices from soft assignments.
scatter <- function(x, z, w = rep(1, nrow(x))) {
  wz <- z * w
  nk <- colSums(wz)
  W <- lapply(seq_len(ncol(z)), function(j) {
    mu <- colSums(x * wz[, j]) / nk[j]
    crossprod(sweep(x, 2, mu) * sqrt(wz[, j]))
  })
  list(nk = nk, W = W)
}

# The notes' EM for two 1-D components (seed 002), with a stopping rule.
ref_em_1d <- function(h, mu, sd, pi1, iter = 5000, tol = 1e-12) {
  ll_old <- -Inf
  for (i in seq_len(iter)) {
    g1 <- pi1 * dnorm(h, mu[1], sd[1])
    g2 <- (1 - pi1) * dnorm(h, mu[2], sd[2])
    ll <- sum(log(g1 + g2))
    s <- g1 + g2
    g1 <- g1 / s
    g2 <- g2 / s
    mu <- c(sum(g1 * h) / sum(g1), sum(g2 * h) / sum(g2))
    sd <- c(sqrt(sum(g1 * (h - mu[1])^2) / sum(g1)), sqrt(sum(g2 * (h - mu[2])^2) / sum(g2)))
    pi1 <- mean(g1)
    if (abs(ll - ll_old) <= tol * abs(ll)) break
    ll_old <- ll
  }
  list(mu = mu, sd = sd, pi1 = pi1)
}

# Parameters of a random k-component model in d dimensions.
random_params <- function(d, k) {
  sigma <- array(0, c(d, d, k))
  for (j in seq_len(k)) {
    A <- matrix(rnorm(d * d), d)
    sigma[, , j] <- crossprod(A) + diag(0.5, d)
  }
  pro <- runif(k) + 0.2
  list(pro = pro / sum(pro), mean = matrix(rnorm(d * k, sd = 3), d), sigma = sigma)
}

c_estep <- function(x, p) .Call(gaussmix:::C_gmm_estep, as.matrix(x), p$pro, p$mean, p$sigma)
c_mstep <- function(x, z, model, w = rep(1, nrow(x)), reg = 0, prior = NULL,
                    inner_tol = 1e-12, inner_max_iter = 10000) {
  storage.mode(z) <- "double"
  .Call(gaussmix:::C_gmm_mstep, as.matrix(x), as.double(w), z, model,
        c(1e-8, 100, reg, 0, inner_tol, inner_max_iter, 1, 0, 0, 0), prior)
}

# mclust::Mclust() calls mclustBIC() by name, so mclust must be attached.
mclust_fit <- function(data, ...) {
  skip_if_not_installed("mclust")
  suppressPackageStartupMessages(library("mclust", character.only = TRUE))
  mclust::Mclust(data, verbose = FALSE, ...)
}
