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

# What the K in ks share: for the random methods the standardised data, and for "hc"
# the trees, with the sufficient statistics of their cuts (and in 1-D of the
# quantile groups) for each K, computed in one call per tree rather than one per K.
prepare_starts <- function(x, w, start, control, ks, threads = 1L) {
  if (is.list(start)) return(list(methods = "given", start = start))
  out <- list(methods = start)
  if (any(start != "hc")) out$xs <- standardise(x, w)
  kmax <- max(ks)
  if ("hc" %in% start && kmax > 1L) {   # (K = 1 starts from all rows)
    out$hc <- hc_trees(x, w, max(control$hc_max_n, kmax), kmax, ks, threads)
    if (ncol(x) == 1L) out$quant <- quantile_suff(x, w, ks)
  }
  out
}

# Element K of the list: the sufficient statistics of the cut of a tree into K groups
# (labels: an n x kmax matrix, column K into K groups), for each K of ks from 2 (K = 1
# starts from all rows); NULL for the others.
cut_suff <- function(x, w, labels, ks) {
  ks <- as.integer(ks[ks >= 2L])
  out <- vector("list", ncol(labels))
  if (length(ks)) out[ks] <- .Call(C_gmm_suff, x, w, labels[, ks, drop = FALSE], ks)
  out
}

# The starts for one K, from every method asked for ("hc" gives up to three, the
# random methods n_init each), as the C sweep reads them: list(0L, the sufficient
# statistics list(nk, mean, scatter) of a partition of all rows, which every model's
# first M-step starts from); for a hierarchical start on a subset, list(1L, those of
# a partition of the subset), which the sweep carries to all rows by one M-step on
# the subset; or list(2L, list(pro, mean, sigma)).
make_starts <- function(prep, x, w, k, n_init, control) {
  if (identical(prep$methods, "given")) {
    s <- prep$start
    return(list("the parameters given as init" = list(2L, list(s$pro, s$mean, s$sigma))))
  }
  suff <- function(cl) list(0L, part_suff(x, w, cl, k))
  if (k == 1L) return(list("all rows in one group" = suff(rep(1L, nrow(x)))))
  starts <- list()
  random <- setdiff(prep$methods, "hc")
  if (length(random)) {
    parts <- unlist(lapply(random, function(method) {
      parts <- switch(method,
        "kmeans++" = lapply(seq_len(n_init), function(r) .Call(C_gmm_kmeans, prep$xs, w, k, control$lloyd)),
        random = lapply(seq_len(n_init), function(r) random_partition(prep$xs, w, k))
      )
      stats::setNames(parts, sprintf("%s start %d", if (method == "random") "a random" else "k-means++",
                                     seq_len(n_init)))
    }), recursive = FALSE)
    starts <- lapply(parts[!duplicated(parts)], suff)
  }
  if ("hc" %in% prep$methods) {
    hc <- prep$hc
    cuts <- lapply(hc$labels, function(l) l[, k])
    tree <- c(vvv = "VVV", ward = "Ward's")[names(cuts)]
    first <- !duplicated(cuts)
    # one start per distinct partition, named by every tree that gives it
    labels <- vapply(which(first), function(i) {
      same <- vapply(cuts, identical, logical(1), cuts[[i]])
      sprintf("the %s tree%s cut at %d groups%s", paste(tree[same], collapse = " and "),
              if (sum(same) > 1L) "s" else "", k, if (is.null(hc$sub)) "" else " (on a subset)")
    }, character(1))
    kind <- if (is.null(hc$sub)) 0L else 1L   # (1: a partition of the subset)
    hc_starts <- lapply(hc$suff[first], function(s) list(kind, s[[k]]))
    starts <- c(stats::setNames(hc_starts, labels), starts)
    if (ncol(x) == 1L) {
      starts <- c(starts, list(list(0L, prep$quant[[k]])))
      names(starts)[length(starts)] <- sprintf("%d groups cut at the quantiles", k)
    }
  }
  starts
}

# The hierarchical start (Fraley 1998): model-based agglomeration of the rows, from
# singletons, by the classification likelihood of two models (one for 1-D data),
# whose trees are cut at each K. One is the VVV model (Banfield and Raftery 1993),
# on the data as mclust transforms them by default ("SVD": standardised columns,
# rotated to their principal axes and divided by the square roots of the singular
# values); its partitions are mclust's. The other is EII, which is Ward's criterion, on the
# whitened data (principal components scaled to unit variance); its partitions
# often suit the constrained models better. Frequency weights count as repeated
# rows. Above max_n rows with positive weight, both run on a random subset of max_n
# of them, and the sweep carries each partition of the subset to all rows. The C
# code (src/hcvvv.c, src/hc.c) returns each tree's partitions into 1 .. kmax groups,
# and cut_suff() their sufficient statistics.
hc_trees <- function(x, w, max_n, kmax, ks = seq_len(kmax), threads = 1L) {
  pos <- if (min(w) > 0) seq_len(length(w)) else which(w > 0)   # (compact when all are)
  sub <- if (length(pos) > max_n) sort(pos[sample_rows(length(pos), max_n)]) else pos
  xs <- x[sub, , drop = FALSE]
  ws <- w[sub]
  kk <- as.integer(min(kmax, length(sub)))
  # In 1-D mclust starts from quantile groups, which make_starts() adds; the VVV
  # tree (quadratic in time) gained nothing there on the data of bench/. Otherwise
  # both trees come from one call, Ward's built on another thread while the VVV
  # tree's merges, which run on one, are found.
  labels <- if (ncol(x) > 1L) {
    stats::setNames(.Call(C_gmm_hc_trees, svd_scaled(xs, ws), whitened(xs, ws), ws, kk,
                          as.integer(threads)), c("vvv", "ward"))
  } else {
    list(ward = .Call(C_gmm_ward, whitened(xs, ws), ws, kk))
  }
  list(labels = labels, suff = lapply(labels, cut_suff, x = xs, w = ws, ks = ks),
       sub = if (length(sub) < nrow(x)) sub)
}

# The rows sample.int(n, k) would draw, with the same random numbers, without its
# n-long workspace where it has one (n up to 1e7; above, it hashes).
sample_rows <- function(n, k) {
  if (n > 1e7) sample.int(n, k) else .Call(C_gmm_sample_rows, as.integer(n), as.integer(k))
}

# Columns centred, rotated to the principal axes and scaled to unit variance;
# directions without variance are dropped (a constant column is allowed with a
# ridge; then every merge is a tie).
whitened <- function(x, w) {
  xc <- x - rep(colSums(x * w) / sum(w), each = nrow(x))   # (sweep() makes two copies more)
  v <- crossprod(xc * sqrt(w)) / sum(w)
  if (ncol(x) == 1L) {   # what eigen() gives for 1 x 1 (value v, vector 1), without its cost
    return(if (v > 0) xc * (1 / sqrt(v[1L])) else matrix(0, nrow(x), 1L))
  }
  e <- eigen(v, symmetric = TRUE)
  keep <- e$values > max(e$values) * 1e-10
  if (!any(keep)) return(matrix(0, nrow(x), 1L))
  xc %*% e$vectors[, keep, drop = FALSE] %*% diag(1 / sqrt(e$values[keep]), sum(keep))
}

# mclust's "SVD" transformation, with weights: columns standardised (divisor
# sum(w) - 1, as scale() has n - 1), rotated to their principal axes, and divided
# by the square roots of the singular values.
svd_scaled <- function(x, w) {
  xc <- x - rep(colSums(x * w) / sum(w), each = nrow(x))
  s <- sqrt(colSums(xc^2 * w) / (sum(w) - 1))
  s[!(s > 0)] <- 1
  xs <- xc / rep(s, each = nrow(x))
  v <- svd(xs * sqrt(w), nu = 0L)
  keep <- v$d > max(v$d) * 1e-8
  if (!any(keep)) return(matrix(0, nrow(x), 1L))
  xs %*% v$v[, keep, drop = FALSE] %*% diag(1 / sqrt(v$d[keep]), sum(keep))
}

# 1-D: the sufficient statistics of k groups of (weighted) equal size by quantiles,
# element k of the list for each k of ks from 2 (NULL for the others). Unlike a tree
# cut, such groups never make a group of identical values while the data have more
# distinct values. Row i goes to group min(k, 1 + floor(k mid_i)), where mid_i is its
# midpoint in the cumulative weights of the sorted values (quantile_mid()); C forms
# the groups and their statistics for every k in one call.
quantile_suff <- function(x, w, ks) {
  ks <- as.integer(ks[ks >= 2L])
  out <- vector("list", max(ks, 1L))
  if (length(ks)) out[ks] <- .Call(C_gmm_quantile_suff, x, w, quantile_mid(x[, 1], w), ks)
  out
}

quantile_mid <- function(v, w) {
  o <- order(v)
  mid <- numeric(length(v))
  mid[o] <- cumsum(w[o]) / sum(w) - w[o] / sum(w) / 2
  mid
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

# The sufficient statistics list(nk, mean, scatter) of the partition cl (groups 1 .. k)
# of the rows of x.
part_suff <- function(x, w, cl, k) {
  .Call(C_gmm_suff, x, w, as.integer(cl), as.integer(k))[[1L]]
}
