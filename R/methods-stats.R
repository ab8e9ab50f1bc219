#' Log-likelihood, number of observations and coefficients
#'
#' `logLik()` returns a `"logLik"` object with the `df` and `nobs` attributes,
#' so [stats::AIC()] and [stats::BIC()] work on a `gmm` fit. BIC has R's sign:
#' smaller is better ('mclust' reports the negative of this number).
#'
#' @param object A `gmm` object.
#' @param ... Unused.
#' @return `logLik()`: a `"logLik"` object. `nobs()`: the sum of the weights (the
#'   number of rows when no weights were given). `weights()`: the frequency weights
#'   of the fitted rows (1 for each when none were given; NA for the rows that
#'   `na.action = na.exclude` set aside). `coef()`: a matrix with one
#'   column per component and the rows `pro`, the means (`mean.<variable>`) and
#'   the upper triangle of each covariance (`var.<variable>` on the diagonal,
#'   `cov.<variable>.<variable>` off it).
#' @export
#' @examples
#' fit <- gmm(faithful, k = 2, model = "VVV")
#' logLik(fit)
#' AIC(fit)
#' BIC(fit)
#' nobs(fit)
#' head(weights(fit))
#' coef(fit)
logLik.gmm <- function(object, ...) {
  structure(object$loglik, df = object$df, nobs = nobs(object), class = "logLik")
}

#' @rdname logLik.gmm
#' @export
nobs.gmm <- function(object, ...) {
  if (is.null(object$weights)) as.double(object$n) else sum(object$weights)
}

#' @rdname logLik.gmm
#' @export
weights.gmm <- function(object, ...) stats::naresid(object$na.action, fit_weights(object))

#' @rdname logLik.gmm
#' @export
coef.gmm <- function(object, ...) {
  p <- object$parameters
  vars <- rownames(p$mean)
  up <- which(upper.tri(diag(object$d), diag = TRUE), arr.ind = TRUE)
  up <- up[order(up[, 1], up[, 2]), , drop = FALSE]
  cov_names <- ifelse(up[, 1] == up[, 2], paste0("var.", vars[up[, 1]]),
                      paste0("cov.", vars[up[, 1]], ".", vars[up[, 2]]))
  d <- object$d
  covs <- vapply(seq_len(object$k), function(j) matrix(p$sigma[, , j], d, d)[up], numeric(nrow(up)))
  out <- rbind(pro = p$pro, p$mean, matrix(covs, nrow = nrow(up)))
  rownames(out) <- c("pro", paste0("mean.", vars), unname(cov_names))
  colnames(out) <- names(p$pro)
  out
}

#' Fitted values and residuals of a Gaussian mixture
#'
#' As for [stats::kmeans()] (whose `fitted()` method is the precedent): a
#' mixture's fitted value for a row is the mean of the component it is assigned
#' to, its classification (largest posterior probability), and its residual is
#' the row less that mean. Posterior probabilities, which weigh all components,
#' are `object$z` and `predict(object, type = "prob")`.
#'
#' @param object A `gmm` object.
#' @param method `"means"`: an n x d matrix, each row the mean of the row's
#'   component; `"classes"`: the classification, an integer vector of component
#'   labels.
#' @param ... Unused.
#' @return `fitted()`: as `method` says, with the data's row names. `residuals()`:
#'   the n x d matrix of the data less `fitted(object, "means")`.
#' @export
#' @examples
#' fit <- gmm(faithful, k = 2, model = "VVV")
#' head(fitted(fit))
#' table(fitted(fit, "classes"))
#' # within-component spread, as for kmeans
#' colSums(residuals(fit)^2)
fitted.gmm <- function(object, method = c("means", "classes"), ...) {
  method <- match.arg(method)
  need_rows(object, "fitted()")
  cl <- object$classification   # padded with NA under na.exclude
  if (method == "classes") return(cl)
  m <- t(object$parameters$mean)[replace(cl, cl %in% 0L, NA), , drop = FALSE]   # noise: NA
  rownames(m) <- names(cl)
  m
}

#' @rdname fitted.gmm
#' @export
residuals.gmm <- function(object, ...) {
  need_rows(object, "residuals()")
  cl <- object$classification
  cl <- cl[!is.na(cl)]   # the fitted rows (na.exclude pads the others with NA)
  r <- fit_data(object) - t(object$parameters$mean)[replace(cl, cl == 0L, NA), , drop = FALSE]
  stats::naresid(object$na.action, r)
}

#' Predict component membership or density for new data
#'
#' @param object A `gmm` object.
#' @param newdata Data with the columns of the fit: a data frame or matrix with
#'   column names is matched by name (other columns are ignored, and a missing one
#'   is an error; a missing or empty name counts as `x<column number>`, as in
#'   [gmm()]); without names, by position. A plain vector for a 1-D fit.
#'   Missing means the data the model was fitted to. Also a
#'   `bigmemory::big.matrix`, read in blocks, or data on a cluster's workers
#'   ([gmm_shards()]), predicted where they are.
#' @param type `"class"`: the component of highest posterior probability (0
#'   for the noise component of a fit with `noise`); `"prob"`: the n x K matrix of
#'   posterior probabilities (a last column `"noise"` with noise); `"density"`: the
#'   mixture density at each row; `"logdensity"`: its logarithm, computed in log
#'   space, so it stays finite where the density underflows to 0.
#' @param out For a `big.matrix` `newdata`: `NULL` to return the results in
#'   memory, or a `big.matrix` with a row per row of `newdata` and a column (K
#'   columns for `"prob"`), which receives them block by block and is returned.
#' @param name For [gmm_shards()] `newdata`: the variable in which each worker
#'   keeps the results for its rows (by default the data's name followed by
#'   `"_"` and `type`).
#' @param ... Unused.
#' @return An integer vector (`"class"`), a matrix (`"prob"`) or a numeric vector,
#'   named (rows named) by the row names of `newdata` when it has any; `out` when
#'   given. For [gmm_shards()] `newdata` the results stay on the workers, in the
#'   variable `name`, and the value is a `gmm_shards` object describing them
#'   (`parallel::clusterEvalQ(cl, <name>)` or `parallel::clusterCall(cl, get,
#'   <name>)` fetches them, one element per worker).
#' @export
#' @examples
#' fit <- gmm(faithful, k = 2, model = "VVV")
#' new <- data.frame(eruptions = c(2, 4.5), waiting = c(55, 80))
#' predict(fit, new)
#' predict(fit, new, type = "prob")
#' predict(fit, new, type = "logdensity")
predict.gmm <- function(object, newdata, type = c("class", "prob", "density", "logdensity"),
                        out = NULL, name = NULL, ...) {
  type <- match.arg(type)
  src <- as_source(if (missing(newdata)) object$data else newdata)
  if (!is.null(src)) return(predict_source(object, src, type, out, name))
  if (missing(newdata)) {   # the fitted rows, padded back under na.exclude
    out <- stats::predict(object, fit_data(object), type = type)
    return(stats::napredict(object$na.action, out))
  }
  x <- match_newdata(newdata, data_vars(object))
  p <- object$parameters
  nz <- object$noise
  e <- if (is.null(nz)) .Call(C_gmm_estep, x, p$pro, p$mean, p$sigma)
       else estep_all(x, c(p$pro, nz$proportion), p$mean, p$sigma, log(nz$hypervolume))
  rn <- rownames(x)
  switch(type,
    class = {   # 0 for the noise
      cl <- .Call(C_gmm_classify, e$z)$classification
      if (!is.null(nz)) cl[cl == object$k + 1L] <- 0L
      stats::setNames(cl, rn)
    },
    prob = {
      dimnames(e$z) <- list(rn, c(names(p$pro), if (!is.null(nz)) "noise"))
      e$z
    },
    density = stats::setNames(exp(e$logdens), rn),
    logdensity = stats::setNames(e$logdens, rn)
  )
}

match_newdata <- function(newdata, vars) {
  if (is.numeric(newdata) && is.null(dim(newdata)) && length(vars) > 1L) {
    stop(sprintf("`newdata` must have %d columns (%s), not be a vector.", length(vars),
                 paste(vars, collapse = ", ")), call. = FALSE)
  }
  given <- colnames(newdata)
  if (!is.null(given) && (is.data.frame(newdata) || is.matrix(newdata))) {
    given <- column_names(given, length(given), "newdata", needed = vars)   # as gmm() does
    colnames(newdata) <- given
    # Columns are matched by name: the fit's columns are taken, others ignored.
    missing_vars <- setdiff(vars, given)
    if (length(missing_vars)) {
      stop(sprintf("`newdata` lacks the column%s %s that the model was fitted to.",
                   if (length(missing_vars) > 1L) "s" else "",
                   paste0("'", missing_vars, "'", collapse = ", ")), call. = FALSE)
    }
    newdata <- newdata[, vars, drop = FALSE]
  }
  nd <- as_data_matrix(newdata, "newdata")
  if (ncol(nd) != length(vars)) {
    stop(sprintf("`newdata` must have %d column%s (%s), not %d.", length(vars),
                 if (length(vars) > 1L) "s" else "", paste(vars, collapse = ", "), ncol(nd)),
         call. = FALSE)
  }
  colnames(nd) <- vars
  nd
}

#' Simulate data from a fitted Gaussian mixture
#'
#' Draws data sets from the fitted mixture, following the contract of
#' [stats::simulate()]: `nsim` replicates, each of `rows` rows (by default as many as
#' the fit's observations), with the generator's state recorded in a `"seed"`
#' attribute. Each row draws a component with the mixing proportions, then a
#' normal vector from that component.
#'
#' @param object A `gmm` object.
#' @param nsim Number of data sets to draw.
#' @param seed Optional seed for [set.seed()]; the random number generator state
#'   is restored afterwards, as in [stats::simulate()].
#' @param rows Rows per data set: by default [nobs()] of the fit (rounded, when
#'   weights that are not whole numbers make it fractional).
#' @param ... Unused.
#' @return A list of class `gmm_simulation` of `nsim` numeric matrices named
#'   `sim_1`, `sim_2`, ..., each with `rows` rows, the columns of the data and an
#'   attribute `"classification"` (the component of each row). Its attribute
#'   `"seed"` is the generator's state before drawing, as [stats::simulate()]
#'   records it (the integer `seed` with the generator's kinds, or
#'   `.Random.seed`); printing shows it in a line.
#' @export
#' @examples
#' fit <- gmm(faithful, k = 2, model = "VVV")
#' sims <- simulate(fit, nsim = 3, seed = 1)
#' sims
#' head(sims$sim_1)
#' table(attr(sims$sim_1, "classification"))
#' # one large sample
#' big <- simulate(fit, rows = 5000, seed = 2)[[1]]
simulate.gmm <- function(object, nsim = 1, seed = NULL, rows = NULL, ...) {
  nsim <- check_whole(nsim, "nsim", min = 1)
  if (length(nsim) != 1L) stop("`nsim` must be a single whole number.", call. = FALSE)
  n <- if (is.null(rows)) round(nobs(object)) else rows
  n <- check_whole(n, "rows", min = 0)
  if (length(n) != 1L) stop("`rows` must be a single whole number.", call. = FALSE)
  st <- use_seed(seed)
  on.exit(st$restore(), add = TRUE)
  rng <- st$rng
  p <- object$parameters
  d <- object$d
  roots <- lapply(seq_len(object$k), function(j) chol(matrix(p$sigma[, , j], d, d)))
  nz <- object$noise
  draw <- function() {
    cl <- if (is.null(nz)) sample.int(object$k, n, replace = TRUE, prob = p$pro)
          else sample.int(object$k + 1L, n, replace = TRUE, prob = c(p$pro, nz$proportion)) %% (object$k + 1L)
    out <- matrix(0, n, d, dimnames = list(NULL, rownames(p$mean)))
    if (any(cl == 0L)) {   # the noise: uniform over the data's bounding box
      i0 <- which(cl == 0L)
      out[i0, ] <- vapply(seq_len(d), function(j) stats::runif(length(i0), nz$box[1, j], nz$box[2, j]),
                          numeric(length(i0)))
    }
    for (j in seq_len(object$k)) {
      idx <- which(cl == j)
      if (!length(idx)) next
      u <- matrix(stats::rnorm(length(idx) * d), length(idx), d)
      out[idx, ] <- sweep(u %*% roots[[j]], 2L, p$mean[, j], "+")
    }
    structure(out, classification = cl)
  }
  sims <- lapply(seq_len(nsim), function(i) draw())
  names(sims) <- paste0("sim_", seq_len(nsim))
  structure(sims, seed = rng, class = "gmm_simulation")
}

#' @export
print.gmm_simulation <- function(x, ...) {
  n <- if (length(x)) nrow(x[[1]]) else 0L
  cat(sprintf("%d simulated data set%s of %d row%s and %d column%s (%s)\n", length(x),
              if (length(x) == 1L) "" else "s", n, if (n == 1L) "" else "s",
              if (length(x)) ncol(x[[1]]) else 0L, if (length(x) && ncol(x[[1]]) == 1L) "" else "s",
              if (length(x)) paste(colnames(x[[1]]), collapse = ", ") else ""))
  seed <- attr(x, "seed")
  kind <- attr(seed, "kind")
  cat("seed: ", if (is.null(kind)) {
    sprintf("the generator's state (.Random.seed, %d integers)", length(seed))
  } else {
    sprintf("%s (%s)", format(as.vector(seed)), paste(unlist(kind), collapse = ", "))
  }, "\n", sep = "")
  if (length(x)) {
    cat("first rows of sim_1:\n")
    print(utils::head(unclass(x[[1]])[, , drop = FALSE], 3))
  }
  invisible(x)
}
