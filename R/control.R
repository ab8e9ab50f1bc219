#' Control settings for gmm()
#'
#' @param tol Convergence tolerance: EM stops when the change in log-likelihood
#'   between iterations is at most `tol * (1 + |logLik|)`.
#' @param max_iter Maximum number of EM iterations for one fit. A fit that
#'   reaches it is kept, with `converged = FALSE` and a warning if it is the
#'   chosen one.
#' @param reg Non-negative ridge added to the diagonal of every component
#'   covariance after each M-step, in squared units of the data. It keeps fits
#'   defined on degenerate data (constant columns, duplicated points) at the
#'   price of a slightly biased covariance; the log-likelihood and BIC reported
#'   are those of the regularised parameters. `0` (the default) means no ridge.
#' @param eps Relative threshold for numerical degeneracy. A component whose
#'   share of the total weight falls to `eps` or below, or whose covariance has a
#'   conditional variance (the variance of a coordinate given the previous ones)
#'   of at most `eps` times the variance of that coordinate in the data, stops
#'   its fit: the cell is reported as failed, with the reason, instead of
#'   returning a degenerate or infinite likelihood.
#' @param lloyd Maximum number of Lloyd iterations after the k-means++ seeding of
#'   the `"kmeans++"` initialisation; they stop early once no row changes cluster.
#' @return A list of class `gmm_control`.
#' @seealso [gmm()]
#' @export
#' @examples
#' gmm_control(tol = 1e-10)
#' fit <- gmm(faithful, k = 2, model = "VVV", control = gmm_control(max_iter = 500))
gmm_control <- function(tol = 1e-8, max_iter = 1000L, reg = 0, eps = 1e-12, lloyd = 100L) {
  check_number(tol, "tol", min = 0)
  check_number(reg, "reg", min = 0)
  check_number(eps, "eps", min = 0)
  if (eps >= 1) stop("`eps` must be below 1, not ", format(eps), ".", call. = FALSE)
  max_iter <- check_whole(max_iter, "max_iter", min = 0)
  lloyd <- check_whole(lloyd, "lloyd", min = 0)
  if (length(max_iter) != 1L || length(lloyd) != 1L) {
    stop("`max_iter` and `lloyd` must be single whole numbers.", call. = FALSE)
  }
  if (max_iter > 1e7) stop("`max_iter` must be at most 1e7.", call. = FALSE)
  structure(list(tol = tol, max_iter = max_iter, reg = reg, eps = eps, lloyd = lloyd),
            class = "gmm_control")
}

#' @export
print.gmm_control <- function(x, ...) {
  cat("gmm control settings\n")
  utils::str(unclass(x), no.list = TRUE, give.head = FALSE)
  invisible(x)
}

as_control <- function(control) {
  if (inherits(control, "gmm_control")) return(control)
  if (is.list(control)) return(do.call(gmm_control, control))
  stop("`control` must be made by gmm_control(), not ", describe(control), ".", call. = FALSE)
}

# The vector the C core reads: c(tol, max_iter, reg, eps).
control_vector <- function(control) {
  c(control$tol, control$max_iter, control$reg, control$eps)
}
