# The K x model grid. R prepares what the C sweep needs (the starts of every K, the
# priors, which cells have too many parameters to be fitted) and turns its result
# into the BIC, ICL and AIC tables with the reasons of the failed cells; src/sweep.c fits
# the cells, with the cross starts and the refinement of the best ones, and chooses.

# With `ext` (rows out of memory: list(src, mom, all), see gmm_source()), x holds the
# subset the starts are computed from, or every row when `all`.
fit_grid <- function(x, w, ks, models, start, n_init, control, threads, ws,
                     verbose = FALSE, criterion = "bic", labels = NULL, noise = NULL,
                     ext = NULL) {
  dn <- list(as.character(ks), models)
  # Cells with as many free parameters as distinct rows are not fitted.
  df <- outer(ks, models, Vectorize(function(k, m) model_df(m, ncol(x), k))) +
    2 * !is.null(noise)   # the noise's proportion and volume, as mclust counts them
  dimnames(df) <- dn
  nd <- if (control$keep_degenerate) Inf
        else if (is.null(ext)) distinct_rows(x, w, max(df))
        else source_distinct(ext$src, x, max(df))
  spurious <- df >= nd
  if (!is.null(noise)) {   # the Gaussians start from the other rows, on all of them
    keep <- !noise$rows
    xn <- x[keep, , drop = FALSE]
    wn <- w[keep]
    prep <- prepare_starts(xn, wn, start, control, ks, threads)
    starts <- lapply(ks, function(k) full_starts(make_starts(prep, xn, wn, k, n_init, control), prep, xn, wn, k))
    if (!is.null(prep$hc)) prep$hc$sub <- NULL
  } else if (is.null(labels)) {
    prep <- prepare_starts(x, w, start, control, ks, threads)
    partial <- !is.null(ext) && !ext$all   # x is a subset of the rows
    if (partial && !is.null(prep$hc)) prep$hc$sub <- seq_len(nrow(x))
    starts <- lapply(ks, function(k) make_starts(prep, x, w, k, n_init, control))
    if (partial) starts <- Map(subset_starts, starts, ks, MoreArgs = list(mom = ext$mom))
  } else {   # K is the number of label classes: one start, from the labels
    prep <- list()
    starts <- list(label_start(x, w, labels, ks))
  }
  priors <- lapply(ks, function(k) resolve_prior(control$prior, x, w, k, ext$mom))
  sub <- if (!is.null(ext) && !ext$all) seq_len(nrow(x)) else prep$hc$sub
  progress <- if (verbose) progress_line()
  if (!is.null(progress)) on.exit(attr(progress, "done")())
  res <- .Call(C_gmm_sweep, list(
    if (is.null(ext)) x, if (is.null(ext)) w, as.integer(ks), models, !spurious, starts,
    if (!is.null(sub)) x[sub, , drop = FALSE], if (!is.null(sub)) w[sub], priors,
    control_vector(control, threads),
    c(control$screen_tol, control$refine_bic, control$cross_starts, ws$scale, ws$logn,
      match(criterion, c("bic", "icl", "aic")) - 1, isTRUE(control$screen_single)),
    as.integer(threads), progress, labels,
    if (!is.null(noise)) c(-noise$logv, sum(w[noise$rows])),
    if (!is.null(ext)) {
      list(source_pass(ext$src, threads), as.double(c(ext$src$n, ncol(x))), ext$mom$var)
    }))
  bic <- matrix(res$bic, length(ks), dimnames = dn)
  icl <- matrix(res$icl, length(ks), dimnames = dn)
  aic <- matrix(-2 * res$loglik + 2 * df, length(ks), dimnames = dn)
  reasons <- matrix(NA_character_, length(ks), length(models), dimnames = dn)
  reasons[spurious] <- sprintf("%g free parameters, not fewer than the %d distinct rows (a fit would be spurious)",
                               df[spurious], nd)
  failed <- which(!is.na(res$status) & res$status > 0L)
  reasons[failed] <- paste0(
    failure_reason(res$status[failed], res$bad[failed], res$iterations[failed], res$value[failed]),
    ifelse(res$refining[failed], " (while refining to tol)", ""))
  best <- res$best
  if (!is.null(best)) {   # where the chosen fit started, in words
    r <- match(length(best$pro), ks)
    best$start <- if (best$origin > 0L) names(starts[[r]])[best$origin]
                  else sprintf("the responsibilities of the %s fit with K = %d (a cross start)",
                               models[-best$origin], ks[r])
  }
  list(best = best, bic_table = with_reasons(bic, reasons), icl_table = icl, aic_table = aic)
}

# The starts of one K computed on a subset of the rows (ext in fit_grid()) as the
# sweep reads them: partitions of the subset (kind 0 there) become kind 1, which the
# sweep carries to all rows, except the one group of K = 1, which is all rows (its
# statistics from the moments `mom` of all rows).
subset_starts <- function(starts, k, mom) {
  out <- lapply(starts, function(st) {
    if (st[[1]] != 0L) return(st)
    if (k == 1L) {
      return(list(0L, list(mom$n, matrix(mom$mean), array(mom$scatter, c(dim(mom$scatter), 1L)))))
    }
    list(1L, st[[2]])
  })
  quant <- grepl("cut at the quantiles$", names(out))
  names(out)[quant] <- paste(names(out)[quant], "(on a subset)")
  out
}

# The number of distinct rows of x among the rows of positive weight, or enough + 1
# when there are more than `enough` (counted in C, stopping there).
distinct_rows <- function(x, w, enough) {
  .Call(C_gmm_distinct, x, w, as.double(enough))
}

with_reasons <- function(bic, reasons) {
  attr(bic, "reasons") <- reasons
  class(bic) <- "gmm_bic_table"
  bic
}

# Why fits failed, from the C core's status codes (see src/gaussmix.h), the failing
# components, the iterations done and, for a spurious fit, its effective rows or
# eigenvalue ratio; vectorised over fits.
failure_reason <- function(status, bad, iterations, value) {
  when <- ifelse(iterations == 0L, "at the start", sprintf("at iteration %d", iterations))
  vapply(seq_along(status), function(i) {
    switch(status[i],
      if (is.na(bad[i])) sprintf("a covariance is singular %s", when[i])
      else sprintf("covariance of component %d is singular %s", bad[i], when[i]),
      sprintf("component %d lost its weight %s", bad[i], when[i]),
      sprintf("log-likelihood is not finite %s", when[i]),
      spurious_reason(bad[i], rows = value[i]),
      spurious_reason(bad[i], rc = value[i]))
  }, character(1))
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

# A progress line for the sweep, as `progress(phase, done, total)` that the C sweep
# calls now and then: nothing for the first getOption("gaussmix.progress_after", 2)
# seconds (short sweeps stay silent), then one line, redrawn in place, with the
# phase, its tasks done and the time left in it at the rate so far; cleared when the
# sweep ends (the returned function's "done" attribute).
progress_line <- function(labels = c("fitting the cells", "cross starts",
                                     "refining the best cells", "refining the best cells")) {
  after <- getOption("gaussmix.progress_after", 2)
  t0 <- proc.time()[["elapsed"]]
  phase_t0 <- t0
  phase_now <- 0L
  width <- 0L
  show <- function(text) {
    cat("\r", formatC(text, width = -width), sep = "")
    width <<- max(width, nchar(text))
    utils::flush.console()
  }
  f <- function(phase, done, total) {
    now <- proc.time()[["elapsed"]]
    if (phase != phase_now) {
      phase_now <<- phase
      phase_t0 <<- now
    }
    if (now - t0 < after) return(invisible())
    left <- if (done > 0L && done < total) (now - phase_t0) / done * (total - done) else NA
    filled <- if (total > 0L) round(20 * done / total) else 20L
    show(sprintf("gmm: %s [%s%s] %d of %d done, %s elapsed%s", labels[phase],
                 strrep("=", filled), strrep(" ", 20L - filled), done, total,
                 format_seconds(now - t0),
                 if (is.na(left)) "" else if (left < 1) ", under 1 s left"
                 else paste0(", about ", format_seconds(left), " left")))
    invisible()
  }
  attr(f, "done") <- function() if (width > 0L) cat("\r", strrep(" ", width), "\r", sep = "")
  f
}

format_seconds <- function(s) {
  if (s < 60) sprintf("%.0f s", s) else sprintf("%d min %02.0f s", as.integer(s %/% 60), s %% 60)
}

# The start of a fit with known labels (integer, 0 unknown): the labelled rows in
# their classes and every other row in the class with the nearest mean (on the
# columns scaled to unit variance), as sufficient statistics for the sweep.
label_start <- function(x, w, labels, k) {
  xs <- unit_columns(x)
  known <- labels > 0L
  centres <- rowsum(xs[known, , drop = FALSE], labels[known]) / as.vector(table(labels[known]))
  part <- labels
  if (any(!known)) part[!known] <- nearest_centre(xs[!known, , drop = FALSE], centres)
  list("the labelled rows, and each other row in the class of nearest mean" =
         list(0L, part_suff(x, w, part, k)))
}

# Starts that partition a subset (kind 1) made whole: every row of x goes to the
# group of nearest mean (on the columns scaled to unit variance); the noise fits
# start from the rows outside the noise guess, which the subset does not cover.
full_starts <- function(starts, prep, x, w, k) {
  xs <- unit_columns(x)
  s <- attr(xs, "scale")
  lapply(starts, function(st) {
    if (st[[1]] != 1L) return(st)
    part <- nearest_centre(xs, t(st[[2]][[2]] / s))   # the groups' means, scaled
    list(0L, part_suff(x, w, part, k))
  })
}

# x's columns divided by their standard deviations (kept as the "scale" attribute).
unit_columns <- function(x) {
  s <- sqrt(pmax(apply(x, 2L, stats::var), .Machine$double.eps))
  structure(sweep(x, 2L, s, "/"), scale = s)
}

# For each row of xs, the row of `centres` nearest to it (the first of equal ones).
nearest_centre <- function(xs, centres) {
  d2 <- vapply(seq_len(nrow(centres)), function(j) rowSums(sweep(xs, 2L, centres[j, ])^2),
               numeric(nrow(xs)))
  max.col(-matrix(d2, ncol = nrow(centres)), ties.method = "first")
}
