#' Bootstrap a Gaussian mixture fit
#'
#' Refits the chosen model and K to `R` bootstrap replicates of the data, each
#' started from the fit's parameters (a warm start, see `init` in [gmm()]), and
#' collects the parameters: mixing proportions, means, variances and
#' covariances. `"nonparametric"` resamples the rows (as frequency weights: the
#' multinomial counts of `nobs(fit)` draws, with probabilities proportional to the
#' fit's weights); `"parametric"` draws new data from the fit ([simulate.gmm()]);
#' `"wlb"` is the weighted likelihood bootstrap of Newton and Raftery (1994,
#' JRSS B 56:3-48), which keeps the rows and gives them exponential random weights
#' (times the fit's), rescaled to mean 1.
#'
#' Label switching: each replicate's components are matched to the fit's by the
#' permutation that makes their means nearest the fit's (the sum of squared
#' differences, each coordinate scaled by its standard deviation in the data),
#' over all permutations for K up to 6 and greedily, nearest pair first, beyond.
#' The replicates use R's random number generator only to draw the data, so
#' [set.seed()] (or `seed`) reproduces them whatever the number of threads.
#'
#' @param fit A `gmm` object (without `noise` or `labels`).
#' @param R Number of bootstrap replicates.
#' @param type `"nonparametric"`, `"parametric"` or `"wlb"`, see Details.
#' @param seed Optional seed; the generator's state is restored afterwards.
#' @param threads Threads for each refit, as in [gmm()].
#' @param verbose Whether to show progress (a line redrawn in place) for runs
#'   longer than 2 seconds; by default in interactive sessions.
#' @return An object of class `gmm_boot` with `type`, `R`, the replicates
#'   (`replicates`: an R x p matrix, one column per parameter named as
#'   [coef.gmm()] lays them out, `"pro.1"`, `"mean.waiting.2"`,
#'   `"var.waiting.1"`, `"cov.eruptions.waiting.2"`, ...), `estimate` (the fit's
#'   values), `failed` (replicates whose refit failed, left out) and `seed`.
#'   `summary()` gives standard errors and percentile intervals; `plot()` the
#'   replicates' distributions. [vcov.gmm()] and [confint.gmm()] use it.
#' @seealso [gmm_lrt()]
#' @export
#' @examples
#' fit <- gmm(faithful, k = 2, model = "VVV")
#' b <- gmm_boot(fit, R = 50, seed = 1)
#' summary(b)
gmm_boot <- function(fit, R = 999, type = c("nonparametric", "parametric", "wlb"),
                     seed = NULL, threads = gmm_threads(),
                     verbose = getOption("gaussmix.verbose", interactive())) {
  if (!inherits(fit, "gmm")) stop("`fit` must be a gmm fit.", call. = FALSE)
  need_rows(fit, "gmm_boot()")
  if (!is.null(fit$noise) || !is.null(fit$labels)) {
    stop("gmm_boot() does not yet handle fits with `noise` or `labels`.", call. = FALSE)
  }
  type <- match.arg(type)
  R <- check_whole(R, "R", min = 2)
  if (length(R) != 1L) stop("`R` must be a single whole number.", call. = FALSE)
  st <- use_seed(seed)
  on.exit(st$restore(), add = TRUE)
  rng <- st$rng
  x <- fit_data(fit)
  n <- nrow(x)
  w0 <- fit_weights(fit)
  est <- boot_params(fit)
  scale <- sqrt(pmax(apply(x, 2L, stats::var), .Machine$double.eps))
  reps <- matrix(NA_real_, R, length(est), dimnames = list(NULL, names(est)))
  progress <- if (isTRUE(verbose)) progress_line("bootstrap replicates") else NULL
  if (!is.null(progress)) on.exit(attr(progress, "done")(), add = TRUE)
  for (r in seq_len(R)) {
    data <- x
    w <- w0
    if (type == "nonparametric") {
      w <- as.vector(stats::rmultinom(1L, round(sum(w0)), w0 / sum(w0)))
    } else if (type == "wlb") {
      g <- stats::rexp(n)
      w <- w0 * g / mean(g)
    } else {
      data <- simulate(fit, rows = round(nobs(fit)))[[1]]
      w <- NULL
    }
    refit <- tryCatch(suppressWarnings(
      gmm(data, k = fit$k, model = fit$model, weights = w, init = fit, control = fit$control,
          threads = threads, verbose = FALSE)), error = function(e) NULL)
    if (!is.null(refit)) reps[r, ] <- boot_params(refit, match_components(refit, fit, scale))
    if (!is.null(progress)) progress(1L, r, R)
  }
  failed <- which(is.na(reps[, 1L]))
  structure(list(type = type, R = R, model = fit$model, k = fit$k, estimate = est,
                 replicates = reps[!is.na(reps[, 1L]), , drop = FALSE], failed = failed,
                 seed = rng), class = "gmm_boot")
}

# The parameters of a fit as one named vector, its components in the order `ord`:
# proportions, means, then each component's variances and covariances (the upper
# triangle, row by row), as coef.gmm() lays them out.
boot_params <- function(fit, ord = seq_len(fit$k)) {
  co <- coef.gmm(fit)[, ord, drop = FALSE]
  colnames(co) <- seq_len(fit$k)
  stats::setNames(as.vector(co), paste(rownames(co)[row(co)], colnames(co)[col(co)], sep = "."))
}

# The order of a replicate's components that puts each next to the fit's component
# it matches (see ?gmm_boot): all permutations for K <= 6, else greedy.
match_components <- function(refit, fit, scale) {
  k <- fit$k
  a <- fit$parameters$mean / scale
  b <- refit$parameters$mean / scale
  cost <- outer(seq_len(k), seq_len(k), Vectorize(function(i, j) sum((a[, i] - b[, j])^2)))
  if (k == 1L) return(1L)
  if (k <= 6L) {
    perms <- all_permutations(k)
    best <- which.min(apply(perms, 1L, function(p) sum(cost[cbind(seq_len(k), p)])))
    return(perms[best, ])
  }
  ord <- integer(k)
  for (step in seq_len(k)) {
    at <- which(cost == min(cost), arr.ind = TRUE)[1L, ]
    ord[at[1]] <- at[2]
    cost[at[1], ] <- Inf
    cost[, at[2]] <- Inf
  }
  ord
}

all_permutations <- function(k) {
  if (k == 1L) return(matrix(1L))
  sub <- all_permutations(k - 1L)
  do.call(rbind, lapply(seq_len(k), function(i) cbind(i, matrix(setdiff(seq_len(k), i)[sub], ncol = k - 1L))))
}

#' @rdname gmm_boot
#' @param object,x A `gmm_boot` object.
#' @param level Confidence level of the percentile intervals.
#' @param ... Unused.
#' @export
summary.gmm_boot <- function(object, level = 0.95, ...) {
  reps <- object$replicates
  a <- (1 - level) / 2
  q <- apply(reps, 2L, stats::quantile, probs = c(a, 1 - a), names = FALSE, na.rm = TRUE)
  out <- data.frame(estimate = object$estimate, se = apply(reps, 2L, stats::sd),
                    lower = q[1, ], upper = q[2, ])
  names(out)[3:4] <- sprintf("%.1f %%", 100 * c(a, 1 - a))
  structure(list(table = out, type = object$type, R = object$R, used = nrow(reps),
                 model = object$model, k = object$k, level = level),
            class = "summary.gmm_boot")
}

#' @export
print.summary.gmm_boot <- function(x, digits = getOption("digits") - 3L, ...) {
  cat(sprintf("Bootstrap of a %s fit with K = %d: %s, %d replicates (%d used)\n\n",
              x$model, x$k, x$type, x$R, x$used))
  print(x$table, digits = digits)
  invisible(x)
}

#' @export
print.gmm_boot <- function(x, ...) {
  print(summary(x))
  invisible(x)
}

#' @rdname gmm_boot
#' @param parameters For `plot()`, the parameters to draw (names or indices); all
#'   by default.
#' @export
plot.gmm_boot <- function(x, parameters = NULL, ...) {
  reps <- x$replicates
  if (is.null(parameters)) parameters <- colnames(reps)
  reps <- reps[, parameters, drop = FALSE]
  m <- ncol(reps)
  nc <- ceiling(sqrt(m))
  old <- graphics::par(mfrow = c(ceiling(m / nc), nc), mar = c(3, 2.5, 2, 0.5))
  on.exit(graphics::par(old))
  for (j in seq_len(m)) {
    graphics::hist(reps[, j], main = colnames(reps)[j], xlab = "", ylab = "",
                   col = "grey85", border = "white", cex.main = 0.9)
    graphics::abline(v = x$estimate[colnames(reps)[j]], col = "#D55E00", lwd = 2)
  }
  invisible(x)
}

#' Standard errors and confidence intervals of a fit's parameters
#'
#' By the bootstrap of [gmm_boot()]: `vcov()` is the covariance matrix of the
#' replicates' parameters, `confint()` their percentile intervals. A bootstrap
#' already run can be given as `boot`; otherwise one is run with `R` replicates
#' (nonparametric by default).
#'
#' @param object A `gmm` object.
#' @param parm Parameters (names or indices, as [gmm_boot()] names them); all by
#'   default.
#' @param level Confidence level.
#' @param boot A `gmm_boot` object of this fit, or `NULL`.
#' @param R,type,seed Passed to [gmm_boot()] when `boot` is `NULL`.
#' @param ... Unused.
#' @return `vcov()`: a matrix; `confint()`: a matrix with the lower and upper
#'   limits, one row per parameter.
#' @export
#' @examples
#' fit <- gmm(faithful, k = 2, model = "VVV")
#' b <- gmm_boot(fit, R = 50, seed = 1)
#' sqrt(diag(vcov(fit, boot = b)))[1:4]
#' confint(fit, parm = c("mean.waiting.1", "mean.waiting.2"), boot = b)
vcov.gmm <- function(object, boot = NULL, R = 199, type = "nonparametric", seed = NULL, ...) {
  boot <- boot_of(object, boot, R, type, seed)
  stats::cov(boot$replicates)
}

#' @rdname vcov.gmm
#' @export
confint.gmm <- function(object, parm, level = 0.95, boot = NULL, R = 199,
                        type = "nonparametric", seed = NULL, ...) {
  boot <- boot_of(object, boot, R, type, seed)
  tab <- summary(boot, level = level)$table
  out <- as.matrix(tab[, 3:4])
  if (!missing(parm)) out <- out[parm, , drop = FALSE]
  out
}

boot_of <- function(object, boot, R, type, seed) {
  if (is.null(boot)) return(gmm_boot(object, R = R, type = type, seed = seed, verbose = FALSE))
  if (!inherits(boot, "gmm_boot") || boot$model != object$model || boot$k != object$k) {
    stop("`boot` must be a gmm_boot() of this fit.", call. = FALSE)
  }
  boot
}

#' Bootstrap likelihood ratio test for the number of components
#'
#' Tests K against K + 1 components of one covariance model, sequentially from
#' K = 1, by the parametric bootstrap of McLachlan (1987, Applied Statistics
#' 36:318-324): the statistic is twice the log-likelihood gain of K + 1 over K;
#' its null distribution comes from `R` data sets drawn from the K-component fit,
#' each fitted with K and K + 1 components; the p-value is the share of those
#' statistics at least the observed one, (1 + count) / (R + 1). The sequence stops
#' at the first K whose test does not reject at `level`, or at `max_k`.
#'
#' Every fit, of the data and of each replicate, is [gmm()]'s for that K and model,
#' from its usual starts, so that the statistics compare maxima rather than wherever
#' EM from one start stops. [mclust::mclustBootstrapLRT()] refits each replicate by
#' EM from the fits to the data; where its fits to the data reach the same maxima,
#' the two come to the same conclusions. On `faithful` with mclust's default start
#' they do not: its K = 3 VVV fit stops 8 log-likelihood units below gaussmix's,
#' which turns the 2 against 3 test, and its K = 4 EEE fit is below its K = 3 fit.
#' Started from the variables as they are (`mclust.options(hcUse = "VARS")`), mclust
#' settles on K = 3 (VVV) and K = 4 (EEE) as gaussmix does; `bench/lrt-mclust.R`
#' in the package sources compares them with 999 replicates.
#'
#' @param x Data, as for [gmm()].
#' @param model One covariance model.
#' @param max_k The largest K to test against K + 1.
#' @param R Bootstrap replicates per test.
#' @param level Significance level.
#' @param seed Optional seed; the generator's state is restored afterwards.
#' @param threads As for [gmm()].
#' @return An object of class `gmm_lrt` with a table (`K`, `statistic`,
#'   `p_value`), the bootstrap statistics of each test (`boot`), and `k`, the
#'   number of components the sequence settles on. `plot()` draws the null
#'   distributions with the observed statistics.
#' @export
#' @examples
#' t <- gmm_lrt(faithful, model = "EEE", max_k = 3, R = 19, seed = 1)
#' t
gmm_lrt <- function(x, model, max_k = 5L, R = 99, level = 0.05, seed = NULL,
                    threads = gmm_threads()) {
  if (!is.character(model) || length(model) != 1L) stop("`model` must be one model name.", call. = FALSE)
  R <- check_whole(R, "R", min = 1)
  max_k <- check_whole(max_k, "max_k", min = 1)
  st <- use_seed(seed)
  on.exit(st$restore(), add = TRUE)
  fitk <- function(data, k) suppressWarnings(gmm(data, k = k, model = model, threads = threads,
                                                 verbose = FALSE))
  rows <- list()
  boots <- list()
  chosen <- NA_integer_
  f0 <- fitk(x, 1L)
  for (k in seq_len(max_k)) {
    f1 <- fitk(x, k + 1L)
    obs <- 2 * (f1$loglik - f0$loglik)
    stat <- vapply(seq_len(R), function(r) {
      d <- simulate(f0, rows = round(nobs(f0)))[[1]]
      l0 <- tryCatch(fitk(d, k)$loglik, error = function(e) NA_real_)
      l1 <- tryCatch(fitk(d, k + 1L)$loglik, error = function(e) NA_real_)
      2 * (l1 - l0)
    }, numeric(1))
    stat <- stat[is.finite(stat)]
    p <- (1 + sum(stat >= obs)) / (length(stat) + 1)
    rows[[k]] <- data.frame(K = k, statistic = obs, p_value = p)
    boots[[k]] <- stat
    if (p > level) {
      chosen <- k
      break
    }
    f0 <- f1
  }
  if (is.na(chosen)) chosen <- max_k + 1L
  structure(list(table = do.call(rbind, rows), boot = boots, k = chosen, model = model,
                 level = level, R = R), class = "gmm_lrt")
}

#' @export
print.gmm_lrt <- function(x, ...) {
  cat(sprintf("Bootstrap LRT of K against K + 1 components, model %s, %d replicates each\n",
              x$model, x$R))
  tab <- x$table
  tab$test <- sprintf("%d vs %d", tab$K, tab$K + 1L)
  print(tab[c("test", "statistic", "p_value")], row.names = FALSE)
  cat(sprintf("At level %g: K = %d\n", x$level, x$k))
  invisible(x)
}

#' @export
plot.gmm_lrt <- function(x, ...) {
  m <- length(x$boot)
  old <- graphics::par(mfrow = c(1L, m))
  on.exit(graphics::par(old))
  for (j in seq_len(m)) {
    obs <- x$table$statistic[j]
    graphics::hist(x$boot[[j]], xlim = range(x$boot[[j]], obs), col = "grey85",
                   border = "white", main = sprintf("%d vs %d", j, j + 1L),
                   xlab = "LRT statistic under the null")
    graphics::abline(v = obs, col = "#D55E00", lwd = 2)
  }
  invisible(x)
}
