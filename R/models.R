# The covariance models: names, descriptions and the aliases users may type.
# The arithmetic of each model lives in src/mstep.c; this table is what R says about them.

model_table <- data.frame(
  model = c("E", "V", "EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "VVE",
            "EEV", "VEV", "EVV", "VVV"),
  data = c("1-D", "1-D", rep("multivariate", 14)),
  volume = c("equal", "varying", "equal", "varying", "equal", "varying", "equal", "varying",
             "equal", "varying", "equal", "varying", "equal", "varying", "equal", "varying"),
  shape = c("", "", "identity", "identity", "equal", "equal", "varying", "varying",
            "equal", "equal", "varying", "varying", "equal", "equal", "varying", "varying"),
  orientation = c("", "", "identity", "identity", "axes", "axes", "axes", "axes",
                  "equal", "equal", "equal", "equal", "varying", "varying", "varying", "varying"),
  description = c(
    "univariate, equal variance",
    "univariate, varying variance",
    "spherical, equal volume",
    "spherical, varying volume",
    "diagonal, equal volume and shape",
    "diagonal, varying volume, equal shape",
    "diagonal, equal volume, varying shape",
    "diagonal, varying volume and shape",
    "ellipsoidal, equal volume, shape and orientation",
    "ellipsoidal, varying volume, equal shape and orientation",
    "ellipsoidal, equal volume and orientation, varying shape",
    "ellipsoidal, varying volume and shape, equal orientation",
    "ellipsoidal, equal volume and shape, varying orientation",
    "ellipsoidal, varying volume and orientation, equal shape",
    "ellipsoidal, equal volume, varying shape and orientation",
    "ellipsoidal, varying volume, shape and orientation"
  ),
  stringsAsFactors = FALSE
)

model_aliases <- c(spherical = "VII", diag = "VVI", tied = "EEE", full = "VVV")
model_aliases_1d <- c(spherical = "V", diag = "V", tied = "E", full = "V")

#' Covariance models available in gaussmix
#'
#' Lists the fourteen multivariate and two univariate covariance models that
#' [gmm()] can fit, with the names used by 'mclust'. A component covariance is \eqn{\Sigma_k = \lambda_k D_k A_k D_k'}:
#' volume \eqn{\lambda_k}, orientation \eqn{D_k} and shape \eqn{A_k}, each equal
#' across components (E), varying (V) or the identity (I) (Celeux and Govaert
#' 1995). `VEI`, `VEE`, `VEV`, `EVE` and `VVE` have no closed-form M-step and
#' iterate within it (see `inner_tol` in [gmm_control()]); `EVE` and `VVE` move
#' their common orientation by plane rotations, each solved exactly and taken only
#' when it lowers the M-step's objective, as in Flury and Gautschi's algorithm for
#' common principal components (Flury 1984). The aliases `"spherical"`, `"diag"`, `"tied"` and `"full"` (the names
#' scikit-learn uses) stand for `"VII"`, `"VVI"`, `"EEE"` and `"VVV"`, and for
#' 1-D data for `"V"`, `"V"`, `"E"` and `"V"`.
#'
#' @param d Optional dimension of the data: `1` lists the univariate models,
#'   `2` or more the multivariate ones. `NULL` lists all.
#' @param k Optional number of components. With `d`, adds the column `df`: the
#'   number of free parameters of the mixture (covariance parameters plus
#'   `k * d` means plus `k - 1` proportions).
#' @return A data frame with one row per model: `model`, `data` (`"1-D"` or
#'   `"multivariate"`), `volume`, `shape`, `orientation`, `description`, and
#'   `df` when `d` and `k` are given.
#' @references Celeux, G. and Govaert, G. (1995). Gaussian parsimonious
#'   clustering models. *Pattern Recognition*, 28(5), 781--793.
#'
#'   Flury, B. N. (1984). Common principal components in k groups. *Journal of
#'   the American Statistical Association*, 79(388), 892--898.
#' @export
#' @examples
#' gmm_models()
#' gmm_models(d = 2, k = 3)
gmm_models <- function(d = NULL, k = NULL) {
  out <- model_table
  if (!is.null(d)) {
    d <- check_whole(d, "d", min = 1)
    if (length(d) != 1L) stop("`d` must be a single whole number.", call. = FALSE)
    out <- out[out$data == if (d == 1L) "1-D" else "multivariate", ]
    if (!is.null(k)) {
      k <- check_whole(k, "k", min = 1)
      if (length(k) != 1L) stop("`k` must be a single whole number.", call. = FALSE)
      out$df <- vapply(out$model, model_df, numeric(1), d = d, k = k, USE.NAMES = FALSE)
    }
  } else if (!is.null(k)) {
    stop("`k` needs `d`: the number of parameters depends on the dimension.", call. = FALSE)
  }
  rownames(out) <- NULL
  out
}

# Number of free parameters, from the C core's model table.
model_df <- function(model, d, k) {
  .Call(C_gmm_df, model, as.integer(d), as.integer(k))
}

# Resolves `model` (NULL, names or aliases) to model names valid for dimension d.
check_model <- function(model, d) {
  valid <- model_table$model[model_table$data == if (d == 1L) "1-D" else "multivariate"]
  if (is.null(model)) return(valid)
  if (!is.character(model) || length(model) == 0L || anyNA(model)) {
    stop("`model` must be NULL or a character vector of model names, such as \"VVV\".",
         call. = FALSE)
  }
  aliases <- if (d == 1L) model_aliases_1d else model_aliases
  model <- ifelse(model %in% names(aliases), aliases[model], model)
  unknown <- setdiff(model, model_table$model)
  if (length(unknown)) {
    stop(sprintf("`model` has unknown name(s) %s; the models are %s, and the aliases %s.",
                 quote_list(unknown), quote_list(model_table$model),
                 quote_list(names(aliases))), call. = FALSE)
  }
  wrong <- setdiff(model, valid)
  if (length(wrong)) {
    stop(sprintf("`model` %s %s not defined for %s data; use %s.",
                 quote_list(wrong), if (length(wrong) > 1) "are" else "is",
                 if (d == 1L) "1-D" else sprintf("%d-dimensional", d),
                 quote_list(valid)), call. = FALSE)
  }
  unique(model)
}

model_description <- function(model) {
  model_table$description[match(model, model_table$model)]
}

quote_list <- function(x) paste0("\"", x, "\"", collapse = ", ")
