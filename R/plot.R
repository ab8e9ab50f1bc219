#' Plot a fitted Gaussian mixture
#'
#' @param x A `gmm` object.
#' @param what Which plots, one or more of: `"density"` (1-D: histogram of the data
#'   with the mixture density and each weighted component; d >= 2: contours of the
#'   mixture density over the data), `"bic"` (BIC against K for every model
#'   fitted, smaller is better), `"classification"` (the data coloured by
#'   component; for d >= 2 with each component's 95% ellipse) and
#'   `"uncertainty"` (one minus the largest posterior probability), `"loglik"`
#'   (the log-likelihood after each EM iteration of the chosen fit). With several,
#'   each is drawn in turn, asking before each new page in an interactive session.
#'   Names are matched in any case and by unique prefix, so mclust's `"BIC"`,
#'   `"classification"`, `"uncertainty"` and `"density"` work as in
#'   `plot.Mclust()`.
#' @param dimens For d >= 2, the coordinates to show (indices or names); all by
#'   default, as a matrix of panels.
#' @param col Colours of the components; the default is the colour-blind-safe
#'   palette of Okabe and Ito.
#' @param breaks For `what = "density"` with 1-D data, the histogram's breaks, as
#'   in [graphics::hist()].
#' @param ... Further graphical arguments passed to the main plotting call
#'   (`xlab`, `main`, `xlim`, ...), which override the defaults.
#' @details Axis labels name the variable, with its units when the data gave them
#'   (a `"units"` attribute on the column, as in [heights]).
#' @return `x`, invisibly.
#' @export
#' @examples
#' fit <- gmm(faithful, k = 1:3, model = c("EEE", "VVV"))
#' plot(fit, what = "classification")
#' plot(fit, what = "bic")
#' h <- gmm(c(rnorm(200, 0), rnorm(100, 4)), k = 2)
#' plot(h, what = "density")
plot.gmm <- function(x, what = c("density", "bic", "classification", "uncertainty", "loglik"),
                     dimens = NULL, col = NULL, breaks = "FD", ...) {
  if (!missing(what)) what <- match_what(what)
  if (is.null(col)) col <- okabe_ito
  col <- rep_len(col, x$k)
  dimens <- check_dimens(dimens, x)
  if (length(what) > 1L && grDevices::dev.interactive()) {
    old <- grDevices::devAskNewPage(TRUE)
    on.exit(grDevices::devAskNewPage(old))
  }
  for (w in what) {
    switch(w,
      density = if (x$d == 1L) density_1d(x, col, breaks, ...) else density_nd(x, dimens, ...),
      bic = plot_bic(x, ...),
      classification = if (x$d == 1L) class_1d(x, col, ...) else class_nd(x, dimens, col, ...),
      uncertainty = if (x$d == 1L) uncert_1d(x, ...) else uncert_nd(x, dimens, ...),
      loglik = plot_loglik(x, ...)
    )
  }
  invisible(x)
}

# `what` matched case-insensitively and by unique prefix, so that mclust's names
# ("BIC", "classification", ...) work as they do in plot.Mclust().
match_what <- function(what) {
  choices <- c("density", "bic", "classification", "uncertainty", "loglik")
  if (!is.character(what) || !length(what) || anyNA(what)) {
    stop("`what` must be one or more of ", paste0('"', choices, '"', collapse = ", "),
         ".", call. = FALSE)
  }
  i <- pmatch(tolower(what), choices, duplicates.ok = TRUE)
  if (anyNA(i)) {
    stop(sprintf("`what` must be one or more of %s (in any case, as mclust's \"BIC\"), not %s.",
                 paste0('"', choices, '"', collapse = ", "),
                 paste0('"', what[is.na(i)], '"', collapse = ", ")), call. = FALSE)
  }
  unique(choices[i])
}

# Calls a plotting function with our defaults, any of which the user's `...` overrides.
draw <- function(fun, defaults, ...) do.call(fun, utils::modifyList(defaults, list(...)))

# "height (cm)" where the units of column j are known, else the column name.
axis_label <- function(x, j) {
  v <- colnames(x$data)[j]
  u <- if (is.null(x$units)) NA else x$units[[j]]
  if (is.na(u)) v else sprintf("%s (%s)", v, u)
}

# The chosen fit's path: the gap between each step's log-likelihood and the final
# one, on a log scale, so that changes of 1e-10 are as visible as changes of 100
# (the log-likelihood itself would read the same at every tick); the final point,
# at gap 0, is marked on the bottom axis. A dashed line marks where the screened
# fit was refined to tol, and the subtitle says where EM started.
plot_loglik <- function(x, ...) {
  tr <- x$loglik_trace
  it <- seq_along(tr) - 1L
  gap <- max(tr) - tr
  pos <- gap > 0
  sub <- if (is.null(x$start)) NULL else paste("started from", x$start)
  main <- sprintf("EM path, model %s, K = %d (final log-likelihood %.6g)", x$model, x$k,
                  max(tr))
  if (!any(pos)) {   # converged at once: nothing to show on a log scale
    draw(graphics::plot, list(it, tr, type = "o", pch = 16, cex = 0.6, xlab = "EM iteration",
                              ylab = "log-likelihood", main = main, sub = sub), ...)
    return(invisible())
  }
  lo <- min(gap[pos]) / 10
  draw(graphics::plot, list(it, pmax(gap, lo), type = "o", pch = ifelse(pos, 16, 1), cex = 0.6,
                            log = "y", xlab = "EM iteration",
                            ylab = "final log-likelihood minus log-likelihood",
                            main = main, sub = sub), ...)
  if (length(x$screened) && !is.na(x$screened) && x$screened < length(tr)) {
    graphics::abline(v = x$screened - 1L, lty = 2, col = "grey40")
    graphics::mtext("refined to tol", side = 3, at = x$screened - 1L, adj = -0.05, cex = 0.8,
                    col = "grey40")
  }
}

okabe_ito <- c("#E69F00", "#56B4E9", "#009E73", "#D55E00", "#0072B2", "#CC79A7",
               "#F0E442", "#000000")

check_dimens <- function(dimens, x) {
  vars <- colnames(x$data)
  if (is.null(dimens)) return(seq_along(vars))
  if (is.character(dimens)) dimens <- match(dimens, vars)
  if (!is.numeric(dimens) || anyNA(dimens) || any(!dimens %in% seq_along(vars)) ||
      length(dimens) < min(2L, length(vars))) {
    stop(sprintf("`dimens` must name or number at least %d of the columns %s.",
                 min(2L, length(vars)), paste(vars, collapse = ", ")), call. = FALSE)
  }
  as.integer(unique(dimens))
}

density_1d <- function(x, col, breaks = "FD", ...) {
  v <- x$data[, 1]
  p <- x$parameters
  grid <- seq(min(v), max(v), length.out = 512L)
  grid <- seq(grid[1] - 0.05 * diff(range(grid)), grid[512] + 0.05 * diff(range(grid)),
              length.out = 512L)
  comp <- vapply(seq_len(x$k), function(j) {
    p$pro[j] * stats::dnorm(grid, p$mean[1, j], sqrt(p$sigma[1, 1, j]))
  }, numeric(length(grid)))
  comp <- matrix(comp, ncol = x$k)
  dens <- rowSums(comp)
  h <- graphics::hist(v, breaks = breaks, plot = FALSE)
  draw(graphics::plot, list(h, freq = FALSE, col = "grey90", border = "white",
                            xlim = range(grid), ylim = c(0, max(dens, h$density) * 1.05),
                            xlab = axis_label(x, 1L), ylab = "density",
                            main = sprintf("Model %s, K = %d", x$model, x$k)), ...)
  graphics::matlines(grid, comp, col = col, lty = 2, lwd = 2)
  graphics::lines(grid, dens, lwd = 2)
  graphics::legend("topright", bty = "n", lty = c(1, rep(2, x$k)), lwd = 2,
                   col = c("black", col),
                   legend = c("mixture", sprintf("component %d (%.2f)", seq_len(x$k), p$pro)))
}

plot_bic <- function(x, ...) {
  b <- x$bic_table
  ks <- as.numeric(rownames(b))
  pch <- seq_len(ncol(b)) %% 25
  col <- rep_len(c(okabe_ito[-8], "grey40"), ncol(b))
  ok <- is.finite(b)
  if (!any(ok)) return(invisible())
  r <- range(b[ok])
  ncol_legend <- min(7L, ncol(b))
  headroom <- 0.08 * ceiling(ncol(b) / ncol_legend) + 0.04   # room above the curves
  draw(graphics::matplot, list(ks, b, type = "b", pch = pch, col = col, lty = 1, xaxt = "n",
                               ylim = c(r[1], r[2] + headroom * diff(r)),
                               xlab = "Number of components K",
                               ylab = "BIC (smaller is better)", main = "BIC by model and K"),
       ...)
  graphics::axis(1, at = ks)
  graphics::points(x$k, x$bic, cex = 2.5, lwd = 2)
  graphics::legend("top", legend = colnames(b), col = col, pch = pch, lty = 1,
                   bty = "n", ncol = ncol_legend, cex = 0.85)
}

class_1d <- function(x, col, ...) {
  v <- x$data[, 1]
  jitter <- stats::runif(length(v), -0.15, 0.15)
  draw(graphics::plot, list(v, x$classification + jitter, col = col[x$classification],
                            pch = 16, cex = 0.6, yaxt = "n", xlab = axis_label(x, 1L),
                            ylab = "component",
                            main = sprintf("Classification, model %s", x$model)), ...)
  graphics::axis(2, at = seq_len(x$k))
}

uncert_1d <- function(x, ...) {
  v <- x$data[, 1]
  o <- order(v)
  draw(graphics::plot, list(v[o], x$uncertainty[o], type = "h", col = "grey40",
                            xlab = axis_label(x, 1L), ylab = "uncertainty (1 - max posterior)",
                            ylim = c(0, max(1 - 1 / x$k, 1e-3)),
                            main = "Classification uncertainty"), ...)
}

# A matrix of panels for the pairs of coordinates in `dimens`; a single panel for two.
pairs_panels <- function(x, dimens, panel) {
  vars <- colnames(x$data)
  if (length(dimens) == 2L) {
    panel(dimens[1], dimens[2], labels = TRUE)
    return(invisible())
  }
  m <- length(dimens)
  old <- graphics::par(mfrow = c(m, m), mar = c(0.4, 0.4, 0.4, 0.4), oma = c(3, 3, 3, 3))
  on.exit(graphics::par(old))
  for (a in seq_len(m)) for (b in seq_len(m)) {
    if (a == b) {
      graphics::plot.new()
      graphics::text(0.5, 0.5, axis_label(x, dimens[a]), cex = 1.3)
    } else {
      panel(dimens[b], dimens[a], labels = FALSE)
    }
  }
}

# The scatter of coordinates i and j; axes and titles only on a single panel.
panel_plot <- function(x, i, j, labels, main, ...) {
  defaults <- list(x$data[, i], x$data[, j],
                   xlab = if (labels) axis_label(x, i) else "",
                   ylab = if (labels) axis_label(x, j) else "",
                   xaxt = if (labels) "s" else "n", yaxt = if (labels) "s" else "n",
                   main = if (labels) main else "")
  draw(graphics::plot, defaults, ...)
}

class_nd <- function(x, dimens, col, ...) {
  p <- x$parameters
  pairs_panels(x, dimens, function(i, j, labels) {
    ell <- lapply(seq_len(x$k), function(c) {
      ellipse_points(p$mean[c(i, j), c], p$sigma[c(i, j), c(i, j), c])
    })
    around <- do.call(rbind, c(list(x$data[, c(i, j)]), ell))   # axes hold the ellipses too
    panel_plot(x, i, j, labels, sprintf("Classification, model %s", x$model),
               col = col[x$classification], pch = 16, cex = 0.6,
               xlim = range(around[, 1]), ylim = range(around[, 2]), ...)
    for (c in seq_len(x$k)) {
      e <- ell[[c]]
      graphics::lines(e, col = col[c], lwd = 2)
      graphics::points(p$mean[i, c], p$mean[j, c], pch = 3, cex = 1.5, lwd = 2)
    }
    if (labels) {
      graphics::legend("topleft", bty = "n", pch = 16, col = col, cex = 0.85,
                       legend = sprintf("component %d (%.2f)", seq_len(x$k), p$pro))
    }
  })
}

# Boundary of the region holding 95% of a bivariate normal.
ellipse_points <- function(mu, S, level = 0.95) {
  t <- seq(0, 2 * pi, length.out = 100L)
  r <- sqrt(stats::qchisq(level, 2))
  circle <- r * cbind(cos(t), sin(t))
  sweep(circle %*% chol(S), 2L, mu, "+")
}

density_nd <- function(x, dimens, ...) {
  p <- x$parameters
  pairs_panels(x, dimens, function(i, j, labels) {
    gx <- pretty_grid(x$data[, i])
    gy <- pretty_grid(x$data[, j])
    pts <- as.matrix(expand.grid(gx, gy))
    sub <- list(p$pro, p$mean[c(i, j), , drop = FALSE], p$sigma[c(i, j), c(i, j), , drop = FALSE])
    dens <- exp(.Call(C_gmm_estep, pts, sub[[1]], sub[[2]], sub[[3]])$logdens)
    panel_plot(x, i, j, labels, sprintf("Mixture density, model %s, K = %d", x$model, x$k),
               col = "grey60", pch = 16, cex = 0.5, ...)
    graphics::contour(gx, gy, matrix(dens, length(gx)), add = TRUE, drawlabels = FALSE,
                      nlevels = 12, col = "#0072B2")
  })
}

pretty_grid <- function(v, n = 80L) {
  r <- range(v)
  seq(r[1] - 0.1 * diff(r), r[2] + 0.1 * diff(r), length.out = n)
}

uncert_nd <- function(x, dimens, ...) {
  u <- x$uncertainty
  pairs_panels(x, dimens, function(i, j, labels) {
    panel_plot(x, i, j, labels, "Classification uncertainty (larger, darker = less certain)",
               pch = 16, cex = 0.3 + 2.5 * u / max(u, 1e-12),
               col = grDevices::gray(0.8 * (1 - u / max(u, 1e-12))), ...)
  })
}
