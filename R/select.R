# The K x model grid: one C fit per start and cell, the best start per cell, and
# the cell with the smallest BIC.

fit_grid <- function(x, w, ks, models, start, n_init, control, threads = 1L) {
  cv <- control_vector(control, threads)
  dn <- list(as.character(ks), models)
  bic <- matrix(NA_real_, length(ks), length(models), dimnames = dn)
  icl <- bic
  reasons <- matrix(NA_character_, length(ks), length(models), dimnames = dn)
  best <- NULL
  prep <- prepare_starts(x, w, start, control)
  for (i in seq_along(ks)) {
    starts <- make_starts(prep, w, ks[i], n_init, control)
    prior <- resolve_prior(control$prior, x, w, ks[i])
    cells <- lapply(stats::setNames(models, models), fit_cell, x = x, w = w,
                    starts = starts, cv = cv, prior = prior)
    if (control$cross_starts && length(models) > 1L) {
      cells <- cross_start(cells, x, w, cv, prior)
    }
    for (m in models) {
      if (is.null(cells[[m]]$fit)) {
        reasons[i, m] <- cells[[m]]$reason
        next
      }
      bic[i, m] <- cells[[m]]$fit$bic
      icl[i, m] <- cells[[m]]$fit$bic + 2 * entropy(cells[[m]]$fit$z, w)
      if (is.null(best) || cells[[m]]$fit$bic < best$bic) best <- cells[[m]]$fit
    }
  }
  attr(bic, "reasons") <- reasons
  class(bic) <- "gmm_bic_table"
  list(best = best, bic_table = bic, icl_table = icl)
}

# -sum_i w_i sum_k z_ik log z_ik, with 0 log 0 = 0.
entropy <- function(z, w) -sum(w * rowSums(ifelse(z > 0, z * log(z), 0)))

# Fits one model from every start; keeps the highest log-likelihood, or the reason
# the first start failed when none succeeded.
fit_cell <- function(x, w, model, starts, cv, prior) {
  best <- NULL
  reason <- NULL
  for (s in starts) {
    f <- .Call(C_gmm_fit, x, w, model, s$z0, s$par0, cv, prior)
    if (f$status == 0L) {
      if (is.null(best) || f$loglik > best$loglik) best <- f
    } else if (is.null(reason)) {
      reason <- failure_reason(f)
    }
  }
  if (!is.null(best)) best$model <- model
  list(fit = best, reason = reason)
}

# Second pass for one K: the responsibilities of the fit with the smallest BIC and
# of the fit with the largest log-likelihood start every other model once more,
# and a model keeps the result when it reaches a higher log-likelihood. A good
# partition found under one covariance model often leads another model out of a
# poor local optimum, at the cost of at most two more fits per cell.
cross_start <- function(cells, x, w, cv, prior) {
  fits <- Filter(Negate(is.null), lapply(cells, `[[`, "fit"))
  if (!length(fits)) return(cells)
  donors <- unique(c(names(fits)[which.min(vapply(fits, `[[`, numeric(1), "bic"))],
                     names(fits)[which.max(vapply(fits, `[[`, numeric(1), "loglik"))]))
  for (m in names(cells)) {
    for (donor in setdiff(donors, m)) {
      f <- .Call(C_gmm_fit, x, w, m, fits[[donor]]$z, NULL, cv, prior)
      old <- cells[[m]]$fit
      if (f$status == 0L && (is.null(old) || f$loglik > old$loglik)) {
        f$model <- m
        cells[[m]] <- list(fit = f, reason = NULL)
      }
    }
  }
  cells
}

failure_reason <- function(f) {
  when <- if (f$iterations == 0L) "at the start" else sprintf("at iteration %d", f$iterations)
  switch(f$status,
    if (is.na(f$bad)) sprintf("a covariance is singular %s", when)
    else sprintf("covariance of component %d is singular %s", f$bad, when),
    sprintf("component %d lost its weight %s", f$bad, when),
    sprintf("log-likelihood is not finite %s", when)
  )
}

format_reasons <- function(reasons) {
  idx <- which(!is.na(reasons), arr.ind = TRUE)
  lines <- sprintf("  K = %s, %s: %s", rownames(reasons)[idx[, 1]],
                   colnames(reasons)[idx[, 2]], reasons[idx])
  if (length(lines) > 10L) lines <- c(lines[1:10], sprintf("  ... and %d more", length(lines) - 10L))
  paste(lines, collapse = "\n")
}

#' @export
print.gmm_bic_table <- function(x, digits = getOption("digits"), ...) {
  reasons <- attr(x, "reasons")
  cat("BIC (smaller is better; NA where the fit failed):\n")
  print(matrix(unclass(x), nrow(x), dimnames = dimnames(x)), digits = digits, na.print = "NA")
  if (!is.null(reasons) && any(!is.na(reasons))) {
    cat("Failed fits:\n", format_reasons(reasons), "\n", sep = "")
  }
  invisible(x)
}
