#' Plot a fitted Gaussian mixture
#'
#' @param x A `gmm` object.
#' @param what Which plots, one or more of: `"density"` (1-D: histogram of the data
#'   with the mixture density and each weighted component; d >= 2: in each plane,
#'   the contours of the mixture density that enclose 25, 50, 75 and 95% of the
#'   data, labelled, as `densityMclust()`'s highest-density regions), `"bic"` (BIC
#'   against K for every model fitted, smaller is better, over the range that
#'   decides the choice, with the legend outside the curves), `"classification"`
#'   (the data coloured by component; for d >= 2 with each component's 95%
#'   ellipse), `"uncertainty"` (one minus the largest posterior probability: for
#'   d >= 2 the points coloured by component, with the ellipses, and sized on an
#'   absolute scale from 0 to its largest possible value 1 - 1/K, with a legend of
#'   sizes) and `"loglik"` (the chosen fit's path: how far each step's
#'   log-likelihood is below the final one, on a log scale). With several,
#'   each is drawn in turn, asking before each new page in an interactive session.
#'   Names are matched in any case and by unique prefix, so mclust's `"BIC"`,
#'   `"classification"`, `"uncertainty"` and `"density"` work as in
#'   `plot.Mclust()`. A fit to rows out of memory (a `big.matrix` or
#'   [gmm_shards()]) draws only `"bic"` and `"loglik"`, which do not show the rows.
#' @param dimens For d >= 2, the coordinates to show (indices or names); all by
#'   default, as a matrix of panels.
#' @param col Colours of the components; the default is the colour-blind-safe
#'   palette of Okabe and Ito.
#' @param criterion For `what = "bic"`, which table to draw: `"bic"`, `"icl"` or
#'   `"aic"`; by default the criterion the fit was chosen by.
#' @param breaks For `what = "density"` with 1-D data, the histogram's breaks, as
#'   in [graphics::hist()].
#' @param ... Further graphical arguments passed to the main plotting call
#'   (`xlab`, `main`, `xlim`, ...), which override the defaults.
#' @details Axis labels name the variable, with its units when the data gave them
#'   (a `"units"` attribute on the column, as in [heights]).
#'
#'   For d >= 3 the planes of every pair of `dimens` are drawn as a matrix of
#'   panels with axes on alternate outer sides, as [graphics::pairs()] draws
#'   them, and the title above. If a layout of several figures is set
#'   (`par(mfrow =)` or `par(mfcol =)`), each plane is drawn as a figure of its
#'   own in that layout instead, with its axes and title. `par()` is left as it was.
#' @return `x`, invisibly.
#' @export
#' @examples
#' fit <- gmm(faithful, k = 1:3, model = c("EEE", "VVV"))
#' plot(fit, what = "classification")
#' plot(fit, what = "bic")
#' h <- gmm(c(rnorm(200, 0), rnorm(100, 4)), k = 2)
#' plot(h, what = "density")
plot.gmm <- function(x, what = c("density", "bic", "classification", "uncertainty", "loglik"),
                     dimens = NULL, col = NULL, breaks = "FD",
                     criterion = if (is.null(x$criterion)) "bic" else x$criterion, ...) {
  criterion <- match.arg(tolower(criterion), c("bic", "icl", "aic"))
  if (!missing(what)) {
    what <- match_what(what)
    if (any(what %in% c("density", "classification", "uncertainty"))) {
      need_rows(x, sprintf("plot(what = \"%s\")", what[what %in% c("density", "classification", "uncertainty")][1]))
    }
  } else if (out_of_memory(x)) {
    what <- c("bic", "loglik")   # the plots that do not draw the rows
  }
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
      bic = plot_bic(x, criterion, ...),
      classification = if (x$d == 1L) class_1d(x, col, ...) else class_nd(x, dimens, col, ...),
      uncertainty = if (x$d == 1L) uncert_1d(x, col, ...) else uncert_nd(x, dimens, col, ...),
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
  v <- data_vars(x)[j]
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

# Colours of points by component; the noise component's (class 0) grey.
point_col <- function(cl, col) ifelse(cl %in% 0L, "grey55", col[pmax(cl, 1L)])

okabe_ito <- c("#E69F00", "#56B4E9", "#009E73", "#D55E00", "#0072B2", "#CC79A7",
               "#F0E442", "#000000")

check_dimens <- function(dimens, x) {
  vars <- data_vars(x)
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

# BIC against K, one curve per model, the chosen cell circled. The y range shows
# what matters for the choice: from the smallest BIC up to the worst of the models'
# own best values (at most half the whole range, so that a few very poor cells at
# K = 1 do not squash the rest into a band); points above it are left out, and the
# legend sits outside the curves, in the right margin.
plot_bic <- function(x, criterion = "bic", ...) {
  b <- unclass(x[[paste0(criterion, "_table")]])
  if (is.null(b)) b <- unclass(x$bic_table)   # a fit from before AIC tables were kept
  attr(b, "reasons") <- NULL
  name <- toupper(criterion)
  chosen <- x[[criterion]]
  ks <- as.numeric(rownames(b))
  pch <- seq_len(ncol(b)) %% 25
  col <- rep_len(c(okabe_ito[-8], "grey40"), ncol(b))
  ok <- is.finite(b)
  if (!any(ok)) return(invisible())
  lo <- min(b[ok])
  best_by_model <- apply(b, 2L, function(v) if (any(is.finite(v))) min(v, na.rm = TRUE) else NA)
  hi <- min(max(best_by_model, na.rm = TRUE), lo + 0.5 * diff(range(b[ok])))
  if (hi <= lo) hi <- max(b[ok])
  if (hi <= lo) hi <- lo + 1
  pad <- 0.05 * (hi - lo)
  old <- graphics::par(mar = graphics::par("mar") + c(0, 0, 0, 4.5))
  on.exit(graphics::par(old))
  draw(graphics::matplot, list(ks, b, type = "b", pch = pch, col = col, lty = 1, xaxt = "n",
                               ylim = c(lo - pad, hi + pad),
                               xlab = "Number of components K",
                               ylab = sprintf("%s (smaller is better)", name),
                               main = sprintf("%s by model and K (chosen: %s, K = %d)",
                                              name, x$model, x$k)), ...)
  graphics::axis(1, at = ks)
  if (length(chosen)) graphics::points(x$k, chosen, cex = 2.5, lwd = 2)
  graphics::legend("topleft", inset = c(1.01, 0), xpd = TRUE, legend = colnames(b), col = col,
                   pch = pch, lty = 1, bty = "n", cex = 0.85)
  if (any(b[ok] > hi + pad)) {
    graphics::mtext(sprintf("%d value%s above the top, left out", sum(b[ok] > hi + pad),
                            if (sum(b[ok] > hi + pad) == 1L) " is" else "s are"),
                    side = 3, line = 0.2, cex = 0.8, col = "grey40")
  }
}

class_1d <- function(x, col, ...) {
  v <- x$data[, 1]
  jitter <- stats::runif(length(v), -0.15, 0.15)
  draw(graphics::plot, list(v, x$classification + jitter, col = point_col(x$classification, col),
                            pch = 16, cex = 0.6, yaxt = "n", xlab = axis_label(x, 1L),
                            ylab = "component",
                            main = sprintf("Classification, model %s", x$model)), ...)
  graphics::axis(2, at = seq_len(x$k))
}

uncert_1d <- function(x, col, ...) {
  keep <- !is.na(x$uncertainty)
  v <- x$data[, 1]
  u <- x$uncertainty[keep]
  o <- order(v)
  draw(graphics::plot, list(v[o], u[o], type = "h", col = point_col(x$classification[keep][o], col),
                            xlab = axis_label(x, 1L), ylab = "uncertainty (1 - max posterior)",
                            ylim = c(0, 1 - 1 / max(x$k, 2L)),
                            main = sprintf("Classification uncertainty, model %s, K = %d",
                                           x$model, x$k)), ...)
  graphics::legend("topright", bty = "n", lty = 1, lwd = 2, col = col,
                   legend = sprintf("component %d", seq_len(x$k)), cex = 0.85)
}

# The panels for the pairs of coordinates in `dimens`: one panel for two; for more,
# a matrix of panels with axes on alternate outer sides and the title above, as
# pairs() draws them, unless the user has set a layout of several figures
# (par(mfrow) or par(mfcol)), which a matrix would replace: then one figure per
# pair, each with its axes and title, filling the user's layout. `panel(i, j,
# labels)` draws coordinate j against i with limits `lims`; `legend_fn`, if any,
# draws the legend (on the single panel, or in the top-left corner of the matrix).
pairs_panels <- function(x, dimens, panel, main, legend_fn = NULL) {
  if (length(dimens) == 2L || prod(graphics::par("mfrow")) > 1L) {
    pairs <- utils::combn(dimens, 2L)
    for (p in seq_len(ncol(pairs))) {
      panel(pairs[1, p], pairs[2, p], labels = TRUE)
      graphics::title(main = main)
      if (!is.null(legend_fn)) legend_fn()
    }
    return(invisible())
  }
  m <- length(dimens)
  lims <- var_limits(x)
  old <- graphics::par(mfrow = c(m, m), mar = rep(0.25, 4), oma = c(4, 4, 5, 4))
  on.exit(graphics::par(old))
  for (a in seq_len(m)) for (b in seq_len(m)) {
    i <- dimens[b]
    j <- dimens[a]
    if (a == b) {
      graphics::plot.new()
      graphics::plot.window(lims[, i], lims[, i])
      graphics::box(col = "grey70")
      graphics::text(mean(lims[, i]), mean(lims[, i]), axis_label(x, i), cex = 1.2)
      if (a == 1L && !is.null(legend_fn)) legend_fn(small = TRUE)
    } else {
      panel(i, j, labels = FALSE)
    }
    # axes on the outer sides, alternating as pairs() does
    if (a == m && b %% 2L == 1L) graphics::axis(1)
    if (a == 1L && b %% 2L == 0L) graphics::axis(3)
    if (b == 1L && a %% 2L == 0L) graphics::axis(2)
    if (b == m && a %% 2L == 1L) graphics::axis(4)
  }
  graphics::mtext(main, side = 3, outer = TRUE, line = 2.5, font = 2, cex = 1.1)
}

# Axis limits for each coordinate: the data and every component's 95% ellipse
# (mean +- sqrt(qchisq(0.95, 2)) standard deviations), the same in every panel.
var_limits <- function(x) {
  p <- x$parameters
  r <- sqrt(stats::qchisq(0.95, 2))
  vapply(seq_len(x$d), function(v) {
    s <- sqrt(p$sigma[v, v, ])
    range(x$data[, v], p$mean[v, ] - r * s, p$mean[v, ] + r * s)
  }, numeric(2))
}

# The scatter of coordinates i and j; axes and labels only when `labels` (a panel
# of its own), else the matrix draws them on its outer sides.
panel_plot <- function(x, i, j, labels, ...) {
  lims <- var_limits(x)
  defaults <- list(x$data[, i], x$data[, j], xlim = lims[, i], ylim = lims[, j],
                   xlab = if (labels) axis_label(x, i) else "",
                   ylab = if (labels) axis_label(x, j) else "",
                   xaxt = if (labels) "s" else "n", yaxt = if (labels) "s" else "n",
                   main = "")
  draw(graphics::plot, defaults, ...)
}

# Each component's 95% ellipse in the plane of coordinates i and j, and its mean.
draw_ellipses <- function(x, i, j, col) {
  p <- x$parameters
  for (c in seq_len(x$k)) {
    graphics::lines(ellipse_points(p$mean[c(i, j), c], p$sigma[c(i, j), c(i, j), c]),
                    col = col[c], lwd = 2)
    graphics::points(p$mean[i, c], p$mean[j, c], pch = 3, cex = 1.5, lwd = 2)
  }
}

class_nd <- function(x, dimens, col, ...) {
  p <- x$parameters
  legend_fn <- function(small = FALSE) {
    nz <- x$noise
    graphics::legend("topleft", bty = "n", pch = c(rep(16, x$k), if (!is.null(nz)) 4),
                     col = c(col[seq_len(x$k)], if (!is.null(nz)) "grey55"),
                     cex = if (small) 0.7 else 0.85,
                     legend = c(sprintf("component %d (%.2f)", seq_len(x$k), p$pro),
                                if (!is.null(nz)) sprintf("noise (%.2f)", nz$proportion)))
  }
  pairs_panels(x, dimens, function(i, j, labels) {
    panel_plot(x, i, j, labels, col = point_col(x$classification, col),
               pch = ifelse(x$classification %in% 0L, 4, 16), cex = 0.6, ...)
    draw_ellipses(x, i, j, col)
  }, sprintf("Classification, model %s, K = %d", x$model, x$k), legend_fn)
}

# Boundary of the region holding 95% of a bivariate normal.
ellipse_points <- function(mu, S, level = 0.95) {
  t <- seq(0, 2 * pi, length.out = 100L)
  r <- sqrt(stats::qchisq(level, 2))
  circle <- r * cbind(cos(t), sin(t))
  sweep(circle %*% chol(S), 2L, mu, "+")
}

# Contours of the mixture density in each plane (the marginal mixture of the two
# coordinates) at its highest-density-region levels: the density values that 25%,
# 50%, 75% and 95% of the data points exceed (as densityMclust()'s "hdr" levels),
# so that each labelled contour encloses about that share of the data.
density_nd <- function(x, dimens, ...) {
  p <- x$parameters
  probs <- c(0.25, 0.5, 0.75, 0.95)
  pairs_panels(x, dimens, function(i, j, labels) {
    lims <- var_limits(x)
    gx <- seq(lims[1, i], lims[2, i], length.out = 100L)
    gy <- seq(lims[1, j], lims[2, j], length.out = 100L)
    pts <- as.matrix(expand.grid(gx, gy))
    sub <- list(p$pro, p$mean[c(i, j), , drop = FALSE], p$sigma[c(i, j), c(i, j), , drop = FALSE])
    dens <- exp(.Call(C_gmm_estep, pts, sub[[1]], sub[[2]], sub[[3]])$logdens)
    at_data <- exp(.Call(C_gmm_estep, x$data[, c(i, j)], sub[[1]], sub[[2]], sub[[3]])$logdens)
    levels <- stats::quantile(at_data, 1 - probs, names = FALSE)
    panel_plot(x, i, j, labels, col = "grey65", pch = 16, cex = 0.5, ...)
    graphics::contour(gx, gy, matrix(dens, length(gx)), add = TRUE, levels = levels,
                      labels = sprintf("%d%%", round(100 * probs)), labcex = 0.7,
                      col = "#0072B2", lwd = 1.5)
  }, sprintf("Mixture density, model %s, K = %d: regions holding 25, 50, 75 and 95%% of the data",
             x$model, x$k))
}

# Points coloured by component, with the classification's ellipses, and sized by
# their uncertainty on an absolute scale (from 0 to its largest possible value,
# 1 - 1/K), so that a fit with no uncertain point shows only small points.
uncert_nd <- function(x, dimens, col, ...) {
  u <- x$uncertainty[!is.na(x$uncertainty)]
  umax <- 1 - 1 / x$k
  size <- function(v) 0.3 + 2.7 * v / umax
  shown <- c(0.01, 0.1, 0.3)
  shown <- shown[shown < umax]
  legend_fn <- function(small = FALSE) {
    graphics::legend("topleft", bty = "n", pch = 1, pt.cex = size(shown), col = "grey30",
                     cex = if (small) 0.7 else 0.85, title = "uncertainty",
                     legend = format(shown))
  }
  pairs_panels(x, dimens, function(i, j, labels) {
    panel_plot(x, i, j, labels, col = point_col(x$classification[!is.na(x$classification)], col),
               pch = 1, cex = size(u), ...)
    draw_ellipses(x, i, j, col)
  }, sprintf("Classification uncertainty, model %s, K = %d (largest %.2g)", x$model, x$k,
             max(u)), legend_fn)
}
