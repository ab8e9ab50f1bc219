# Starting points for EM: the hierarchical start, k-means++ or random partitions, or
# parameters the user gives.

init_methods <- c("kmeans++", "hc", "random")

# Validates `init`: returns a method name, or list(k, pro, mean, sigma) with mean
# d x K and sigma d x d x K.
check_init <- function(init, d) {
  if (is.character(init)) {
    if (length(init) == 0L || anyNA(init) || !all(init %in% init_methods)) {
      stop(sprintf("`init` must be one or more of %s, or a list of starting parameters, not %s.",
                   quote_list(init_methods), describe(init)), call. = FALSE)
    }
    return(unique(init))
  }
  if (!is.list(init) || is.data.frame(init)) {
    stop(sprintf("`init` must be %s, or a list of starting parameters, not %s.",
                 quote_list(init_methods), describe(init)), call. = FALSE)
  }
  allowed <- c("mean", "sigma", "sd", "pro")
  extra <- setdiff(names(init), allowed)
  if (is.null(names(init)) || any(names(init) == "") || length(extra)) {
    stop(sprintf("`init` must be a named list with elements among %s%s.", quote_list(allowed),
                 if (length(extra)) paste0("; unknown: ", quote_list(extra)) else ""),
         call. = FALSE)
  }
  mean <- init_mean(init$mean, d)
  k <- ncol(mean)
  sigma <- init_sigma(init$sigma, init$sd, d, k)
  pro <- init$pro
  if (is.null(pro)) pro <- rep(1 / k, k)
  if (!is.numeric(pro) || length(pro) != k || anyNA(pro) || any(!is.finite(pro)) ||
      any(pro <= 0) || abs(sum(pro) - 1) > 1e-8) {
    stop(sprintf("`init$pro` must be %d positive proportions summing to 1, not %s.", k,
                 describe(pro)), call. = FALSE)
  }
  list(k = k, pro = as.double(pro), mean = mean, sigma = sigma)
}

init_mean <- function(mean, d) {
  if (is.null(mean)) stop("`init` must give `mean`.", call. = FALSE)
  ok <- is.numeric(mean) && !anyNA(mean) && all(is.finite(mean))
  if (d == 1L && ok && (is.null(dim(mean)) || nrow(mean) == 1L)) {
    return(matrix(as.double(mean), nrow = 1L))
  }
  if (d > 1L && ok && is.matrix(mean) && nrow(mean) == d) {
    storage.mode(mean) <- "double"
    return(unname(mean))
  }
  stop(sprintf("`init$mean` must be %s of finite numbers, not %s.",
               if (d == 1L) "a vector of K means" else sprintf("a %d x K matrix (one column per component)", d),
               describe(mean)), call. = FALSE)
}

init_sigma <- function(sigma, sd, d, k) {
  if (!is.null(sigma) && !is.null(sd)) {
    stop("`init` must give `sigma` or `sd`, not both.", call. = FALSE)
  }
  if (!is.null(sd)) {
    if (d != 1L) stop("`init$sd` is for 1-D data; give `init$sigma` (d x d x K) instead.", call. = FALSE)
    if (!is.numeric(sd) || !length(sd) %in% c(1L, k) || anyNA(sd) || any(!is.finite(sd)) ||
        any(sd <= 0)) {
      stop(sprintf("`init$sd` must be 1 or %d positive standard deviations, not %s.", k,
                   describe(sd)), call. = FALSE)
    }
    sigma <- sd^2
  }
  if (is.null(sigma)) stop("`init` must give `sigma` (or `sd` for 1-D data).", call. = FALSE)
  if (!is.numeric(sigma) || anyNA(sigma) || any(!is.finite(sigma))) {
    stop(sprintf("`init$sigma` must be finite numbers, not %s.", describe(sigma)), call. = FALSE)
  }
  if (d == 1L && length(sigma) %in% c(1L, k)) {
    out <- array(as.double(rep_len(sigma, k)), c(1L, 1L, k))
  } else if (is.matrix(sigma) && all(dim(sigma) == d)) {
    out <- array(as.double(sigma), c(d, d, k))
  } else if (length(dim(sigma)) == 3L && all(dim(sigma) == c(d, d, k))) {
    out <- array(as.double(sigma), c(d, d, k))
  } else {
    stop(sprintf("`init$sigma` must be %s, not %s.",
                 if (d == 1L) sprintf("1 or %d variances", k)
                 else sprintf("a %d x %d x %d array or one %d x %d matrix", d, d, k, d, d),
                 describe(sigma)), call. = FALSE)
  }
  for (j in seq_len(k)) {
    s <- out[, , j]
    if (max(abs(s - t(s))) > 1e-8 * max(abs(s)) ||
        inherits(try(chol(s), silent = TRUE), "try-error")) {
      stop(sprintf("`init$sigma` for component %d is not a symmetric positive definite %s.",
                   j, if (d == 1L) "variance" else "matrix"), call. = FALSE)
    }
  }
  out
}

# What every K shares: the standardised data, and for "hc" the tree.
prepare_starts <- function(x, w, start, control, kmax) {
  if (is.list(start)) return(list(methods = "given", start = start))
  out <- list(methods = start, xs = standardise(x, w))
  if ("hc" %in% start) out$hc <- hc_tree(x, w, max(control$hc_max_n, kmax), kmax)
  out
}

# The starts for one K, from every method asked for ("hc" gives one, the random
# methods n_init each): a list of list(z0 = sufficient statistics of a partition,
# which every model's first M-step starts from) or list(par0 = list(pro, mean, sigma)).
make_starts <- function(prep, x, w, k, n_init, control) {
  if (identical(prep$methods, "given")) {
    s <- prep$start
    return(list(list(par0 = list(s$pro, s$mean, s$sigma))))
  }
  n <- nrow(prep$xs)
  suff <- function(cl) list(z0 = .Call(C_gmm_suff, x, w, hard_z(cl, k)))
  if (k == 1L) return(list(suff(rep(1L, n))))
  partitions <- unlist(lapply(prep$methods, function(method) {
    switch(method,
      hc = if (ncol(prep$xs) == 1L) list(hc_partition(prep$hc, k), quantile_partition(prep$xs[, 1], w, k))
           else list(hc_partition(prep$hc, k)),
      "kmeans++" = lapply(seq_len(n_init), function(r) .Call(C_gmm_kmeans, prep$xs, w, k, control$lloyd)),
      random = lapply(seq_len(n_init), function(r) random_partition(prep$xs, w, k))
    )
  }), recursive = FALSE)
  lapply(unique(partitions), suff)
}

# Model-based hierarchical agglomeration for the EII model, which is Ward's
# criterion (Fraley 1998), on whitened data (centred, rotated to principal axes
# and scaled to unit variance, as mclust's default "SVD" transformation does).
# Frequency weights count as repeated rows. Above max_n rows with positive
# weight, the tree is built on a random subset of max_n of them. The C code
# (src/hc.c) returns the tree's partitions into 1 .. kmax groups.
hc_tree <- function(x, w, max_n, kmax) {
  pos <- which(w > 0)
  m <- colSums(x * w) / sum(w)
  xc <- sweep(x, 2L, m)
  e <- eigen(crossprod(xc * sqrt(w)) / sum(w), symmetric = TRUE)
  keep <- e$values > max(e$values) * 1e-10
  xt <- if (any(keep)) {
    xc %*% e$vectors[, keep, drop = FALSE] %*% diag(1 / sqrt(e$values[keep]), sum(keep))
  } else {
    matrix(0, nrow(x), 1L)   # constant data (allowed with a ridge): every merge is a tie
  }
  sub <- if (length(pos) > max_n) sort(pos[sample.int(length(pos), max_n)]) else pos
  labels <- .Call(C_gmm_ward, xt[sub, , drop = FALSE], w[sub],
                  as.integer(min(kmax, length(sub))))
  list(labels = labels, sub = sub, xt = xt)
}

# 1-D: k groups of (weighted) equal size by quantiles. Unlike a tree cut, it never
# makes a group of identical values while the data have more distinct values.
quantile_partition <- function(v, w, k) {
  o <- order(v)
  cw <- cumsum(w[o]) / sum(w)
  cl <- integer(length(v))
  cl[o] <- pmin(k, 1L + floor(k * (cw - w[o] / sum(w) / 2)))
  cl
}

# Cuts the tree at k groups; rows outside the subset go to the nearest group mean.
hc_partition <- function(hc, k) {
  n <- nrow(hc$xt)
  cut <- hc$labels[, k]
  if (length(hc$sub) == n) return(as.integer(cut))
  cent <- rowsum(hc$xt[hc$sub, , drop = FALSE], cut) / as.vector(table(cut))
  d2 <- vapply(seq_len(k), function(j) colSums((t(hc$xt) - cent[j, ])^2), numeric(n))
  cl <- max.col(-matrix(d2, n), ties.method = "first")
  cl[hc$sub] <- cut
  cl
}

# Columns centred and scaled by their weighted standard deviations, so that the
# seeding does not depend on the units of each column.
standardise <- function(x, w) {
  m <- colSums(x * w) / sum(w)
  xc <- sweep(x, 2L, m)
  s <- sqrt(colSums(xc^2 * w) / sum(w))
  s[s == 0] <- 1
  sweep(xc, 2L, s, "/")
}

# K distinct rows with positive weight as centres, each row to the nearest.
random_partition <- function(x, w, k) {
  pos <- which(w > 0)
  centres <- x[pos[sample.int(length(pos), k)], , drop = FALSE]
  d2 <- vapply(seq_len(k), function(j) colSums((t(x) - centres[j, ])^2), numeric(nrow(x)))
  max.col(-matrix(d2, nrow(x)), ties.method = "first")
}

hard_z <- function(cl, k) {
  z <- matrix(0, length(cl), k)
  z[cbind(seq_along(cl), cl)] <- 1
  z
}
