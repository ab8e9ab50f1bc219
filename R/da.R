#' Model-based discriminant analysis
#'
#' Fits a Gaussian density to each class of labelled training data, and
#' classifies new rows by their posterior class probabilities: the class priors
#' times the class densities, normalised.
#'
#' `type = "EDDA"` (eigenvalue decomposition discriminant analysis; Bensmail and
#' Celeux 1996) gives each class one Gaussian component, all classes sharing one
#' covariance model (`EEE` is linear discriminant analysis, `VVV` quadratic), and
#' chooses that model by BIC. `type = "general"` (Fraley and Raftery 2002) fits a
#' mixture to each class with [gmm()], its K and model chosen by BIC within the
#' class. The log-likelihood, as 'mclust''s `MclustDA()` reports it, is that of
#' the training rows under the class densities mixed in the training proportions,
#' \eqn{\sum_i \log \sum_c \pi_c f_c(x_i)}; BIC has R's sign, smaller is better:
#' \eqn{-2 \log L + df \log n}, with `df` the means and covariance parameters (and,
#' for `"general"`, each class mixture's proportions), not the class proportions.
#'
#' Cross-validation (`cv`) splits the rows into that many folds, stratified by
#' class (each class's rows are shuffled and dealt to the folds in turn), refits
#' the chosen models (for `"EDDA"` the chosen covariance model, for `"general"`
#' each class's chosen K and model) without each fold, and classifies the fold.
#' The error is the share of rows misclassified; its standard error is the
#' standard deviation of the folds' error rates over the square root of the
#' number of folds.
#'
#' @param x Training data, as for [gmm()].
#' @param class The class of each row: a factor, or a vector turned into one; no
#'   missing values. Every class needs at least two rows, and as many as its
#'   covariance needs (see the error messages).
#' @param type `"EDDA"` or `"general"`, see Details.
#' @param model Covariance models to consider (see [gmm_models()]); `NULL` means
#'   all for the dimension of `x`.
#' @param k For `type = "general"`, the numbers of components to try in each class
#'   (`1:5` by default, as `MclustDA()`); each class keeps those below its number
#'   of rows. Ignored for `"EDDA"`, where it is 1.
#' @param prior Class prior probabilities for classifying, named by class or in
#'   the order of the class levels; by default the training proportions.
#' @param cv Number of cross-validation folds; `0` for none.
#' @param seed For `cv`, an optional seed for the folds; the random number
#'   generator's state is restored afterwards, as in [stats::simulate()].
#' @param control,threads As for [gmm()].
#' @return An object of class `gmm_da` with `type`, `classes` (the levels),
#'   `prior`, `n`, `d`, `models` (for `"EDDA"` the chosen model's parameters per
#'   class, for `"general"` the `gmm` fit of each class), `model` (for `"EDDA"`, the
#'   chosen covariance model), `loglik`, `df`, `bic`, `bic_table` (for `"EDDA"`,
#'   the BIC of every model tried, `NA` where the fit failed), the training data
#'   and classes, and with `cv > 0`, `cv` (a list of `error`, `se`, `folds` and
#'   the cross-validated `classification`).
#' @seealso [predict.gmm_da()], [gmm()]
#' @export
#' @examples
#' da <- gmm_da(iris[1:4], iris$Species, type = "EDDA")
#' da
#' table(predict(da, iris[1:4]), iris$Species)
#' head(predict(da, iris[c(1, 51, 101), 1:4], type = "prob"))
gmm_da <- function(x, class, type = c("general", "EDDA"), model = NULL, k = 1:5,
                   prior = NULL, cv = 0, seed = NULL, control = gmm_control(),
                   threads = gmm_threads()) {
  type <- match.arg(type)
  control <- as_control(control)
  x <- as_data_matrix(x, na_hint = FALSE)
  n <- nrow(x)
  d <- ncol(x)
  class <- check_class(class, n)
  model <- check_model(model, d)
  cv <- check_whole(cv, "cv", min = 0)
  if (length(cv) != 1L || cv == 1L || cv > n) {
    stop(sprintf("`cv` must be 0 or a number of folds from 2 to the number of rows (%d).", n),
         call. = FALSE)
  }
  classes <- levels(class)
  prior <- check_class_prior(prior, classes, class)
  fit <- da_fit(x, class, type, model, k, control, threads)
  out <- c(list(type = type, classes = classes, prior = prior, n = n, d = d),
           fit, list(data = x, class = class, call = match.call()))
  class(out) <- "gmm_da"
  if (cv > 0L) out$cv <- da_cv(out, cv, seed, control, threads)
  out
}

# The training classes as a factor without empty levels, or an error.
check_class <- function(class, n) {
  if (length(class) != n) {
    stop(sprintf("`class` must have one label per row (%d), not %d.", n, length(class)),
         call. = FALSE)
  }
  if (anyNA(class)) {
    stop(sprintf("`class` has missing labels in %d row(s), the first row %d.",
                 sum(is.na(class)), which(is.na(class))[1]), call. = FALSE)
  }
  class <- droplevels(as.factor(class))
  if (nlevels(class) < 2L) stop("`class` must have at least two classes.", call. = FALSE)
  small <- table(class) < 2L
  if (any(small)) {
    stop(sprintf("class%s %s ha%s fewer than 2 rows.", if (sum(small) > 1L) "es" else "",
                 paste0("'", names(small)[small], "'", collapse = ", "),
                 if (sum(small) > 1L) "ve" else "s"), call. = FALSE)
  }
  class
}

check_class_prior <- function(prior, classes, class) {
  if (is.null(prior)) return(c(table(class)) / length(class))
  if (!is.numeric(prior) || length(prior) != length(classes) || anyNA(prior) ||
      any(prior <= 0)) {
    stop(sprintf("`prior` must be %d positive class probabilities, not %s.", length(classes),
                 describe(prior)), call. = FALSE)
  }
  if (!is.null(names(prior))) {
    if (!setequal(names(prior), classes)) {
      stop(sprintf("`prior` must be named by the classes %s.",
                   paste0("'", classes, "'", collapse = ", ")), call. = FALSE)
    }
    prior <- prior[classes]
  }
  stats::setNames(prior / sum(prior), classes)
}

# The class densities: for "EDDA" every covariance model on the classes as known
# groups (one M-step on the hard partition), the smallest BIC kept; for "general" a
# gmm() per class.
da_fit <- function(x, class, type, model, k, control, threads) {
  n <- nrow(x)
  d <- ncol(x)
  G <- nlevels(class)
  if (type == "general") {
    fits <- lapply(levels(class), function(g) {
      xg <- x[class == g, , drop = FALSE]
      kg <- k[k < nrow(xg)]
      if (!length(kg)) kg <- 1L
      tryCatch(gmm(xg, k = kg, model = model, control = control, threads = threads,
                   verbose = FALSE),
               error = function(e) stop(sprintf("class '%s': %s", g, conditionMessage(e)),
                                        call. = FALSE))
    })
    names(fits) <- levels(class)
    ll <- da_loglik(list(type = "general", classes = levels(class), models = fits), x, class)
    df <- sum(vapply(fits, function(f) f$df, numeric(1)))
    return(list(models = fits, model = NULL, loglik = ll, df = df,
                bic = -2 * ll + df * log(n), bic_table = NULL))
  }
  z <- diag(G)[as.integer(class), , drop = FALSE]
  w <- rep(1, n)
  cv <- control_vector(control, 1L)
  tried <- lapply(model, function(m) {
    p <- .Call(C_gmm_mstep, x, w, z, m, cv, resolve_prior(control$prior, x, w, G))
    if (p$status != 0L) return(NULL)
    ll <- da_loglik(list(type = "EDDA", classes = levels(class), models = p), x, class)
    df <- model_df(m, d, G) - (G - 1)
    list(model = m, parameters = p[c("mean", "sigma")], loglik = ll, df = df,
         bic = -2 * ll + df * log(n))
  })
  bic <- vapply(tried, function(t) if (is.null(t)) NA_real_ else t$bic, numeric(1))
  names(bic) <- model
  if (all(is.na(bic))) {
    stop("no covariance model could be fitted to the classes; try gmm_control(prior = gmm_prior()).",
         call. = FALSE)
  }
  best <- tried[[which.min(bic)]]
  list(models = best$parameters, model = best$model, loglik = best$loglik, df = best$df,
       bic = best$bic, bic_table = bic)
}

# log f_c(x_i) for every row and class: the n x G matrix of class log densities.
da_logdens <- function(object, x) {
  G <- length(object$classes)
  if (object$type == "general") {
    lf <- vapply(object$models, function(f) predict(f, x, type = "logdensity"), numeric(nrow(x)))
  } else {
    p <- object$models
    lf <- vapply(seq_len(G), function(g) {
      .Call(C_gmm_estep, x, 1, p$mean[, g, drop = FALSE], p$sigma[, , g, drop = FALSE])$logdens
    }, numeric(nrow(x)))
  }
  matrix(lf, nrow(x), G)   # a matrix also for one row
}

# sum_i log sum_c pi_c f_c(x_i), pi the training proportions (see ?gmm_da).
da_loglik <- function(object, x, class) {
  lp <- sweep(da_logdens(object, x), 2L, log(c(table(class)) / length(class)), "+")
  top <- apply(lp, 1L, max)
  sum(top + log(rowSums(exp(lp - top))))
}

#' Classify new data with a discriminant analysis fit
#'
#' @param object A `gmm_da` object.
#' @param newdata Data with the training columns (matched as in
#'   [predict.gmm()]); by default the training data.
#' @param type `"class"`: the class of largest posterior probability, a factor
#'   with the training levels; `"prob"`: the n x G matrix of posterior class
#'   probabilities.
#' @param prior Class priors to classify with, by default the fit's.
#' @param ... Unused.
#' @return A factor or a matrix, as `type` says, with the row names of `newdata`.
#' @export
predict.gmm_da <- function(object, newdata, type = c("class", "prob"), prior = object$prior,
                           ...) {
  type <- match.arg(type)
  x <- if (missing(newdata)) object$data else match_newdata(newdata, colnames(object$data))
  if (is.null(prior)) prior <- object$prior
  prior <- check_class_prior(prior, object$classes, NULL)
  lp <- sweep(da_logdens(object, x), 2L, log(prior), "+")
  top <- apply(lp, 1L, max)
  post <- exp(lp - top)
  post <- post / rowSums(post)
  dimnames(post) <- list(rownames(x), object$classes)
  if (type == "prob") return(post)
  stats::setNames(factor(object$classes[max.col(post, ties.method = "first")],
                         levels = object$classes), rownames(x))
}

# Stratified cross-validation of the chosen models (see ?gmm_da).
da_cv <- function(object, folds, seed, control, threads) {
  st <- use_seed(seed)
  on.exit(st$restore(), add = TRUE)
  class <- object$class
  fold <- integer(length(class))
  for (g in levels(class)) {
    rows <- which(class == g)
    rows <- rows[sample.int(length(rows))]
    fold[rows] <- rep_len(seq_len(folds), length(rows))
  }
  pred <- factor(rep(NA_character_, length(class)), levels = object$classes)
  for (f in seq_len(folds)) {
    train <- fold != f
    if (object$type == "general") {   # each class's chosen K and model
      fits <- lapply(object$classes, function(g) {
        m <- object$models[[g]]
        gmm(object$data[train & class == g, , drop = FALSE], k = m$k, model = m$model,
            control = control, threads = threads, verbose = FALSE)
      })
      names(fits) <- object$classes
      part <- list(type = "general", classes = object$classes, models = fits)
    } else {
      part <- c(list(type = "EDDA", classes = object$classes),
                da_fit(object$data[train, , drop = FALSE], droplevels(class[train]), "EDDA",
                       object$model, 1L, control, threads))
    }
    part$prior <- object$prior
    part$data <- object$data   # for the column names
    pred[!train] <- predict.gmm_da(part, object$data[!train, , drop = FALSE])
  }
  errors <- vapply(seq_len(folds), function(f) mean(pred[fold == f] != class[fold == f]), 1)
  list(error = mean(pred != class), se = stats::sd(errors) / sqrt(folds), folds = folds,
       classification = pred)
}

#' @export
print.gmm_da <- function(x, ...) {
  cat(sprintf("Gaussian mixture discriminant analysis (%s), %d classes, n = %d, d = %d\n",
              x$type, length(x$classes), x$n, x$d))
  if (x$type == "EDDA") {
    cat(sprintf("Covariance model %s (%s), one component per class\n", x$model,
                model_description(x$model)))
  } else {
    for (g in x$classes) {
      cat(sprintf("  class '%s': model %s, K = %d\n", g, x$models[[g]]$model, x$models[[g]]$k))
    }
  }
  cat(sprintf("log-likelihood = %.3f, df = %d, BIC = %.3f\n", x$loglik, as.integer(x$df), x$bic))
  cat("Class priors:\n")
  print(round(x$prior, 4))
  train <- mean(predict(x) != x$class)
  cat(sprintf("Training error: %.4f", train))
  if (!is.null(x$cv)) cat(sprintf("; %d-fold cross-validated error: %.4f (se %.4f)", x$cv$folds,
                                  x$cv$error, x$cv$se))
  cat("\n")
  invisible(x)
}

#' @export
summary.gmm_da <- function(object, ...) {
  pred <- predict(object)
  structure(list(object = object, confusion = table(predicted = pred, class = object$class)),
            class = "summary.gmm_da")
}

#' @export
print.summary.gmm_da <- function(x, ...) {
  print(x$object)
  cat("\nTraining confusion matrix:\n")
  print(x$confusion)
  invisible(x)
}

#' @export
plot.gmm_da <- function(x, dimens = NULL, col = NULL, ...) {
  if (is.null(col)) col <- okabe_ito
  col <- rep_len(col, length(x$classes))
  if (x$type == "EDDA") {
    means <- x$models$mean
    sigmas <- x$models$sigma
    comp_class <- seq_along(x$classes)
  } else {
    means <- do.call(cbind, lapply(x$models, function(f) f$parameters$mean))
    sigmas <- array(unlist(lapply(x$models, function(f) f$parameters$sigma)),
                    c(x$d, x$d, ncol(means)))
    comp_class <- rep(seq_along(x$classes), vapply(x$models, function(f) f$k, 1L))
  }
  first <- match(seq_along(x$classes), comp_class)
  pseudo <- structure(list(data = x$data, d = x$d, k = ncol(means), model = x$type,
                           parameters = list(pro = rep(1 / ncol(means), ncol(means)),
                                             mean = means, sigma = sigmas),
                           classification = first[as.integer(x$class)]), class = "gmm")
  dimens <- check_dimens(dimens, pseudo)
  if (x$d == 1L) {
    class_1d(pseudo, col[comp_class], ...)
  } else {
    legend_fn <- function(small = FALSE) {
      graphics::legend("topleft", bty = "n", pch = 16, col = col, cex = if (small) 0.7 else 0.85,
                       legend = x$classes)
    }
    pairs_panels(pseudo, dimens, function(i, j, labels) {
      panel_plot(pseudo, i, j, labels, col = col[as.integer(x$class)], pch = 16, cex = 0.6, ...)
      draw_ellipses(pseudo, i, j, col[comp_class])
    }, sprintf("Discriminant analysis (%s), the classes and their components", x$type), legend_fn)
  }
  invisible(x)
}
