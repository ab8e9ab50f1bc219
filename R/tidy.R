#' Tidy summaries of a Gaussian mixture fit
#'
#' Methods for the [generics][generics::tidy] `tidy()`, `glance()` and
#' `augment()`, which 'broom' and other packages re-export. They are registered
#' when the 'generics' package is loaded (it is suggested, not required), so
#' `broom::tidy(fit)` works without 'gaussmix' depending on 'broom'. The columns
#' follow 'broom''s methods for 'mclust' fits, with BIC and ICL on R's scale
#' (smaller is better).
#'
#' @param x A `gmm` object.
#' @param data For `augment()`, the data to add columns to: by default the data
#'   the model was fitted to.
#' @param newdata For `augment()`, new data to classify instead (see
#'   [predict.gmm()] for how its columns are matched).
#' @param ... Unused.
#' @return Data frames. `tidy()`: one row per component, with `component`, `size`
#'   (the weighted number of rows classified to it; `NA` for a fit to rows out of
#'   memory), `proportion`, and for each
#'   variable `mean.<variable>` and `sd.<variable>` (the component's standard
#'   deviation along it). `glance()`: one row with `model`, `k`, `logLik`, `df`,
#'   `BIC`, `ICL`, `AIC`, `nobs`, `converged` and `iterations`. `augment()`: the
#'   data with `.class` (a factor of component labels) and `.uncertainty`.
#' @name gmm-tidiers
#' @examples
#' fit <- gmm(faithful, k = 2, model = "VVV")
#' if (requireNamespace("generics", quietly = TRUE)) {
#'   generics::tidy(fit)
#'   generics::glance(fit)
#'   head(generics::augment(fit))
#' }
NULL

#' @rdname gmm-tidiers
#' @exportS3Method generics::tidy
tidy.gmm <- function(x, ...) {
  p <- x$parameters
  vars <- data_vars(x)
  sds <- vapply(seq_len(x$k), function(j) sqrt(diag(matrix(p$sigma[, , j], x$d, x$d))),
                numeric(x$d))
  out <- data.frame(
    component = seq_len(x$k),
    size = if (out_of_memory(x)) NA_integer_   # the classes are not in memory
           else table_weighted(stats::na.omit(x$classification), x$weights, x$k),
    proportion = unname(p$pro)
  )
  means <- t(matrix(p$mean, x$d))
  sds <- t(matrix(sds, x$d))
  colnames(means) <- paste0("mean.", vars)
  colnames(sds) <- paste0("sd.", vars)
  out <- cbind(out, means, sds)
  rownames(out) <- NULL
  out
}

#' @rdname gmm-tidiers
#' @exportS3Method generics::glance
glance.gmm <- function(x, ...) {
  ll <- logLik(x)
  data.frame(model = x$model, k = x$k, logLik = as.numeric(ll), df = x$df, BIC = x$bic,
             ICL = x$icl, AIC = stats::AIC(ll), nobs = nobs(x), converged = x$converged,
             iterations = x$iterations)
}

#' @rdname gmm-tidiers
#' @exportS3Method generics::augment
augment.gmm <- function(x, data = NULL, newdata = NULL, ...) {
  if (is.null(newdata)) need_rows(x, "augment() without newdata")
  if (!is.null(newdata)) {
    z <- predict(x, newdata, type = "prob")
    cu <- .Call(C_gmm_classify, z)
    out <- as.data.frame(newdata)
  } else {
    cu <- list(classification = x$classification, uncertainty = x$uncertainty)
    out <- if (is.null(data)) as.data.frame(fit_data(x)) else as.data.frame(data)
    if (nrow(out) != length(cu$classification)) {
      stop(sprintf("`data` has %d rows, but the fit classified %d.", nrow(out),
                   length(cu$classification)), call. = FALSE)
    }
  }
  out$.class <- factor(unname(cu$classification), levels = seq_len(x$k))
  out$.uncertainty <- unname(cu$uncertainty)
  out
}
