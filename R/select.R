# The K x model grid: one C fit per start and cell, the best start per cell, and
# the cell with the smallest BIC.

fit_grid <- function(x, w, ks, models, start, n_init, control, threads, ws) {
  # With more than one cell, every cell is first fitted to the looser screen_tol,
  # then the cells within refine_bic of the best BIC continue to tol.
  screening <- length(ks) * length(models) > 1L && control$screen_tol > control$tol
  final_cv <- control_vector(control, threads)
  cv <- if (screening) replace(final_cv, 1L, control$screen_tol) else final_cv
  dn <- list(as.character(ks), models)
  bic <- matrix(NA_real_, length(ks), length(models), dimnames = dn)
  icl <- bic
  reasons <- matrix(NA_character_, length(ks), length(models), dimnames = dn)
  kept <- list()   # the screened fit of every cell, without its responsibilities
  # Cells with as many free parameters as distinct rows are not fitted.
  df <- outer(ks, models, Vectorize(function(k, m) model_df(m, ncol(x), k)))
  dimnames(df) <- dn
  nd <- if (control$keep_degenerate) Inf else distinct_rows(x, max(df))
  spurious <- df >= nd
  reasons[spurious] <- sprintf("%g free parameters, not fewer than the %d distinct rows (a fit would be spurious)",
                               df[spurious], nd)
  prep <- prepare_starts(x, w, start, control, max(ks))
  for (i in seq_along(ks)) {
    fit_models <- models[!spurious[i, ]]
    if (!length(fit_models)) next
    starts <- make_starts(prep, x, w, ks[i], n_init, control)
    prior <- resolve_prior(control$prior, x, w, ks[i])
    cells <- lapply(stats::setNames(fit_models, fit_models), fit_cell, x = x, w = w,
                    starts = starts, cv = cv, prior = prior, ws = ws)
    if (control$cross_starts && length(fit_models) > 1L && ks[i] > 1L) {
      cells <- cross_start(cells, x, w, cv, prior, ws)
    }
    for (m in fit_models) {
      f <- cells[[m]]$fit
      if (is.null(f)) {
        reasons[i, m] <- cells[[m]]$reason
        next
      }
      bic[i, m] <- f$bic
      icl[i, m] <- f$bic + 2 * f$entropy
      f$z <- NULL
      f$prior <- prior
      f$row <- i
      kept[[paste(i, m)]] <- f
    }
  }
  # Refines one screened cell to tol; a cell that breaks down on the way fails.
  refine_cell <- function(key) {
    f <- kept[[key]]
    g <- refine(f, x, w, final_cv, control$max_iter, ws)
    if (is.character(g)) {
      bic[f$row, f$model] <<- icl[f$row, f$model] <<- NA_real_
      reasons[f$row, f$model] <<- g
      kept[[key]] <<- NULL
    } else {
      bic[f$row, f$model] <<- g$bic
      icl[f$row, f$model] <<- g$bic + 2 * g$entropy
      kept[[key]] <<- g
    }
  }
  if (screening && length(kept)) {
    near <- which(bic <= min(bic, na.rm = TRUE) + control$refine_bic, arr.ind = TRUE)
    for (r in seq_len(nrow(near))) refine_cell(paste(near[r, 1], models[near[r, 2]]))
  }
  # The chosen cell is always one refined to tol: if the refined ones all broke
  # down, the next best is refined in turn.
  repeat {
    if (!length(kept)) {
      return(list(best = NULL, bic_table = with_reasons(bic, reasons), icl_table = icl))
    }
    key <- names(kept)[which.min(vapply(kept, `[[`, numeric(1), "bic"))]
    if (!screening || isTRUE(kept[[key]]$refined)) break
    refine_cell(key)
  }
  best <- kept[[key]]
  if (is.null(best$z)) best$z <- .Call(C_gmm_estep, x, best$pro, best$mean, best$sigma)$z
  list(best = best, bic_table = with_reasons(bic, reasons), icl_table = icl)
}

# The number of distinct rows of x, or a lower bound of it that is above `enough`:
# the distinct values of a column, which settle it on most data from the first
# column, without comparing whole rows.
distinct_rows <- function(x, enough) {
  if (nrow(x) > enough) {
    for (j in seq_len(ncol(x))) {
      u <- length(unique(x[, j]))
      if (u > enough) return(u)
    }
  }
  nrow(unique(x))
}

with_reasons <- function(bic, reasons) {
  attr(bic, "reasons") <- reasons
  class(bic) <- "gmm_bic_table"
  bic
}

# Continues a screened fit to the final tolerance from its parameters, within what
# is left of max_iter, or returns why it broke down on the way (a component
# collapsing late). The trace and the iteration count run on from the screened
# fit's.
refine <- function(f, x, w, cv, max_iter, ws) {
  cv[2L] <- max(0, max_iter - f$iterations)
  g <- run_fit(x, w, f$model, NULL, list(f$pro, f$mean, f$sigma), cv, f$prior, ws)
  if (g$status != 0L) {
    g$iterations <- f$iterations + g$iterations
    return(paste(failure_reason(g), "(while refining to tol)"))
  }
  g$model <- f$model
  g$prior <- f$prior
  g$row <- f$row
  g$refined <- TRUE
  g$trace <- c(f$trace, g$trace[-1L])
  g$iterations <- f$iterations + g$iterations
  g$inner_fail <- f$inner_fail + g$inner_fail
  g
}

# Fits one model from every start; keeps the highest log-likelihood, or the reason
# the first start failed when none succeeded.
fit_cell <- function(x, w, model, starts, cv, prior, ws) {
  best <- NULL
  reason <- NULL
  for (s in starts) {
    f <- fit_start(x, w, model, s, cv, prior, ws)
    if (f$status == 0L) {
      if (is.null(best) || f$loglik > best$loglik) best <- f
    } else if (is.null(reason)) {
      reason <- failure_reason(f)
    }
  }
  if (!is.null(best)) best$model <- model
  list(fit = best, reason = reason)
}

# Second pass for one K (K > 1; with one component every start is the same): the
# responsibilities of the fit with the smallest BIC and of the fit with the largest
# log-likelihood (passed as their sufficient statistics) start every other model
# once more, and a model keeps the result when it reaches a higher log-likelihood. A good
# partition found under one covariance model often leads another model out of a
# poor local optimum, at the cost of at most two more fits per cell. A cell that
# failed from every start tries the same two donors, and keeps its reason if
# neither works.
cross_start <- function(cells, x, w, cv, prior, ws) {
  fits <- Filter(Negate(is.null), lapply(cells, `[[`, "fit"))
  if (!length(fits)) return(cells)
  by_bic <- names(fits)[order(vapply(fits, `[[`, numeric(1), "bic"))]
  top <- unique(c(by_bic[1L], names(fits)[which.max(vapply(fits, `[[`, numeric(1), "loglik"))]))
  from <- function(m, donor) {
    f <- run_fit(x, w, m, fits[[donor]]$suff, NULL, cv, prior, ws)
    if (f$status != 0L) return(NULL)
    f$model <- m
    f
  }
  for (m in names(cells)) {
    if (is.null(cells[[m]]$fit)) {
      for (donor in setdiff(top, m)) {   # until one start works
        f <- from(m, donor)
        if (!is.null(f)) {
          cells[[m]] <- list(fit = f, reason = NULL)
          break
        }
      }
    } else {
      for (donor in setdiff(top, m)) {      # at most two more fits
        f <- from(m, donor)
        if (!is.null(f) && f$loglik > cells[[m]]$fit$loglik) cells[[m]] <- list(fit = f, reason = NULL)
      }
    }
  }
  cells
}

# One EM fit from a start of make_starts(). A partition of a subset of the rows is
# carried to all rows by one M-step of the model on the subset, then EM on all rows
# from the parameters it gives (an E-step first).
fit_start <- function(x, w, model, s, cv, prior, ws) {
  if (is.null(s$sub)) return(run_fit(x, w, model, s$z0, s$par0, cv, prior, ws))
  cv_m <- replace(cv, c(2L, 9L), 0)   # max_iter = 0; the subset's fit is not judged
  p <- .Call(C_gmm_fit, s$sub$x, s$sub$w, model, s$sub$z0, NULL, cv_m, prior)
  if (p$status != 0L) return(p)
  run_fit(x, w, model, NULL, list(p$pro, p$mean, p$sigma), cv, prior, ws)
}

# One EM fit by the C core, its log-likelihood, trace, entropy and BIC in the units
# of the user's weights (see weight_scale(); the core sees weights of mean 1).
run_fit <- function(x, w, model, z0, par0, cv, prior, ws) {
  f <- .Call(C_gmm_fit, x, w, model, z0, par0, cv, prior)
  if (f$status != 0L || ws$scale == 1) return(f)
  f$loglik <- ws$scale * f$loglik
  if (!is.finite(f$loglik)) {
    stop("the log-likelihood weighted by `weights` overflows; rescale them.", call. = FALSE)
  }
  f$trace <- ws$scale * f$trace
  f$entropy <- ws$scale * f$entropy
  f$bic <- -2 * f$loglik + f$df * ws$logn
  f
}

failure_reason <- function(f) {
  when <- if (f$iterations == 0L) "at the start" else sprintf("at iteration %d", f$iterations)
  switch(f$status,
    if (is.na(f$bad)) sprintf("a covariance is singular %s", when)
    else sprintf("covariance of component %d is singular %s", f$bad, when),
    sprintf("component %d lost its weight %s", f$bad, when),
    sprintf("log-likelihood is not finite %s", when),
    spurious_reason(f$degenerate[2L], f$value, NULL),
    spurious_reason(f$degenerate[2L], NULL, f$value)
  )
}

# Why a converged fit is spurious: component j has `rows` effective rows, or a
# covariance out of proportion with the others by the ratio `rc` (see gmm_control()).
spurious_reason <- function(j, rows = NULL, rc = NULL) {
  if (!is.null(rows)) {
    sprintf("spurious: component %d sits on %s effective rows, fewer than its covariance needs",
            j, format(floor(rows * 100) / 100))   # 1.999 shows as 1.99, not 2
  } else {
    sprintf("spurious: component %d's covariance is out of proportion with the pooled one (eigenvalue ratio %.2g, below rcond)", j, rc)
  }
}

# The reasons of the failed cells, one line each (at most 10), except that the cells
# not fitted for having too many parameters share one line.
format_reasons <- function(reasons) {
  idx <- which(!is.na(reasons), arr.ind = TRUE)
  why <- reasons[idx]
  many <- grepl("free parameters, not fewer than", why, fixed = TRUE)
  lines <- sprintf("  K = %s, %s: %s", rownames(reasons)[idx[!many, 1]],
                   colnames(reasons)[idx[!many, 2]], why[!many])
  if (length(lines) > 10L) lines <- c(lines[1:10], sprintf("  ... and %d more", length(lines) - 10L))
  if (any(many)) {
    nd <- sub(".*not fewer than the ([0-9]+) distinct rows.*", "\\1", why[many][1])
    lines <- c(lines, sprintf("  %d cell%s not fitted: %s free parameters are not fewer than the %s distinct rows (a fit would be spurious)",
                              sum(many), if (sum(many) > 1L) "s" else "",
                              if (sum(many) > 1L) "their" else "its", nd))
  }
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
