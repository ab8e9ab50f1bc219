#' Print and summarise a fitted Gaussian mixture
#'
#' `print()` shows the chosen model in a few lines; `summary()` adds the
#' information criteria, the clustering table and the parameters.
#'
#' @param x,object A `gmm` object from [gmm()] (or a `summary.gmm` for its print
#'   method).
#' @param digits Significant digits to print.
#' @param ... Unused; for compatibility with the generics.
#' @return `print()` returns `x` invisibly. `summary()` returns an object of class
#'   `summary.gmm`: a list with `model`, `description`, `k`, `n`, `d`, `loglik`,
#'   `df`, `bic`, `icl`, `converged`, `iterations`, `table` (weighted counts of the
#'   classification), and `pro`, `mean` and `sigma` (or `sd` for 1-D data).
#' @export
#' @examples
#' fit <- gmm(faithful, k = 2, model = "VVV")
#' fit
#' summary(fit)
print.gmm <- function(x, digits = getOption("digits") - 3L, ...) {
  cat(sprintf("Gaussian mixture fitted by EM: model %s (%s), K = %d\n", x$model,
              model_description(x$model), x$k))
  n <- if (is.null(x$weights) || all(x$weights == 1)) sprintf("n = %d", x$n)
       else sprintf("n = %d rows (weighted n = %s)", x$n, format(sum(x$weights)))
  cat(sprintf("%s, d = %d, log-likelihood = %.3f, df = %d, BIC = %.3f\n", n, x$d,
              x$loglik, x$df, x$bic))
  if (!is.null(x$na.action)) cat("(", stats::naprint(x$na.action), ")\n", sep = "")
  if (!is.null(x$noise)) {
    cat(sprintf("Noise component: proportion %.4f, uniform over the data's bounding box (volume %.4g)\n",
                x$noise$proportion, x$noise$hypervolume))
  }
  if (!is.null(x$criterion) && x$criterion != "bic") {
    cat(sprintf("Chosen by %s = %.3f\n", toupper(x$criterion), x[[x$criterion]]))
  }
  cat("Mixing proportions:\n")
  print(x$parameters$pro, digits = digits)
  if (!x$converged) cat("EM did not converge (", x$iterations, " iterations).\n", sep = "")
  invisible(x)
}

#' @rdname print.gmm
#' @export
summary.gmm <- function(object, ...) {
  p <- object$parameters
  out <- list(
    model = object$model, description = model_description(object$model),
    k = object$k, n = object$n, d = object$d, nobs = nobs(object),
    loglik = object$loglik, df = object$df, bic = object$bic, icl = object$icl,
    aic = object$aic, criterion = if (is.null(object$criterion)) "bic" else object$criterion,
    converged = object$converged, iterations = object$iterations,
    start = object$start, screened = object$screened, ntrace = length(object$loglik_trace),
    table = if (!out_of_memory(object)) {
      table_weighted(stats::na.omit(object$classification), object$weights, object$k,
                     noise = !is.null(object$noise))
    },
    noise = object$noise,
    na.action = object$na.action,
    pro = p$pro, mean = p$mean
  )
  if (object$d == 1L) out$sd <- stats::setNames(sqrt(p$sigma[1, 1, ]), names(p$pro))
  else out$sigma <- p$sigma
  structure(out, class = "summary.gmm")
}

#' @rdname print.gmm
#' @export
print.summary.gmm <- function(x, digits = getOption("digits") - 3L, ...) {
  cat(sprintf("Gaussian mixture model fitted by EM\n\nModel %s (%s) with %d component%s\n\n",
              x$model, x$description, x$k, if (x$k > 1L) "s" else ""))
  crit <- data.frame(logLik = x$loglik, n = x$nobs, df = x$df, BIC = x$bic, ICL = x$icl,
                     AIC = x$aic)
  num <- c("logLik", "BIC", "ICL", "AIC")
  crit[num] <- lapply(crit[num], sprintf, fmt = "%.3f")
  print(crit, row.names = FALSE)
  cat(sprintf("(K and the model chosen by %s)\n", toupper(x$criterion)))
  if (!is.null(x$na.action)) cat("(", stats::naprint(x$na.action), ")\n", sep = "")
  cat(sprintf("\nEM %s after %d iteration%s%s.\n",
              if (x$converged) "converged" else "did NOT converge", x$iterations,
              if (x$iterations == 1L) "" else "s",
              if (is.null(x$start)) "" else paste(", started from", x$start)))
  if (length(x$screened) && !is.na(x$screened) && x$screened < x$ntrace) {
    cat(sprintf("The first %d log-likelihood values are the fit to the screening tolerance, the rest its refinement.\n",
                x$screened))
  }
  if (!is.null(x$table)) {
    cat("\nClustering table:\n")
    print(x$table)
  }
  cat("\nMixing proportions:\n")
  print(x$pro, digits = digits)
  cat("\nMeans:\n")
  print(x$mean, digits = digits)
  if (!is.null(x$sd)) {
    cat("\nStandard deviations:\n")
    print(x$sd, digits = digits)
  } else {
    cat("\nCovariances:\n")
    for (j in seq_len(x$k)) {
      cat(sprintf("[component %d]\n", j))
      print(x$sigma[, , j], digits = digits)
    }
  }
  invisible(x)
}

# Counts of each class, weighted (w NULL: every row counts 1).
table_weighted <- function(cl, w, k, noise = FALSE) {
  lev <- c(seq_len(k), if (noise) 0L)
  if (is.null(w)) w <- rep(1, length(cl))
  counts <- vapply(lev, function(j) sum(w[cl == j]), numeric(1))
  if (all(w == round(w)) && all(counts <= .Machine$integer.max)) counts <- as.integer(counts)
  stats::setNames(counts, c(seq_len(k), if (noise) "noise"))
}
