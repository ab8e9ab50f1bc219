#' Control settings for gmm()
#'
#' @param tol Convergence tolerance: EM stops when the change in log-likelihood
#'   between iterations is at most `tol * (1 + |logLik|)` (for Newton's steps, see
#'   `accelerate`, when the increase still to come is predicted to be at most
#'   that).
#' @param screen_tol,refine_bic When [gmm()] fits more than one (K, model) cell,
#'   or one cell from several starts, every cell and start is first run to the
#'   looser `screen_tol` (mclust's default tolerance, 1e-5), and only the best
#'   start of each cell, and only the cells whose BIC is then within `refine_bic`
#'   of the best, continue to `tol`. The chosen fit and its close rivals are thus as
#'   precise as `tol` asks, while the rest of the BIC table is as precise as
#'   mclust's, at a fraction of the time. `screen_tol = tol` (or `0`) fits every
#'   cell to `tol`.
#' @param screen_single Whether the screening fits of data with one or two
#'   columns (in memory, without `weights`, `labels` or `noise`) may take their EM
#'   passes in single precision, which runs about twice as many rows per vector
#'   instruction. The rows are centred before they are rounded, a pass runs in
#'   single precision only while every component is wide enough against the
#'   data's range for the rounding not to show (its log-likelihood is then within
#'   about 1e-7, relative, of the double one, far inside `screen_tol`), and every
#'   value a fit reports (log-likelihood, BIC, parameters, the last entry of the
#'   screening part of `loglik_trace`) comes from a pass in double precision at
#'   its final parameters. The earlier entries of that part of the trace are the
#'   single-precision ones. While the sweep runs it holds a single-precision copy
#'   of the data (half their size). `FALSE` runs every pass in double, as mclust
#'   does.
#' @param max_iter Maximum number of EM iterations (M-steps) for one fit. A fit
#'   that reaches it is kept, with `converged = FALSE` and a warning if it is the
#'   chosen one.
#' @param accelerate Whether to accelerate EM once it has settled: from the
#'   first EM step that changes the log-likelihood by at most 1e-5 relative
#'   (mclust's tolerance, hence where the screened cells stop). For the models
#'   whose parameters are free (`"V"` in one dimension, `"VVV"` with two or
#'   three columns; at most 25, 15 and 10 components for one, two and three
#'   columns), by Newton's method (Aitkin and Aitkin 1996's hybrid of EM and
#'   Newton steps): the exact Hessian of the log-likelihood in each Gaussian's
#'   natural parameters (Louis 1982), from sums a pass over the data takes
#'   beside EM's, damped towards EM's own metric (Levenberg-Marquardt) while it
#'   is not negative definite or a step would lower the log-likelihood. It stops
#'   when the quadratic model predicts an increase of at most `tol * (1 +
#'   |logLik|)`: about ten passes from the screened fit, at the maximum to that
#'   precision, where EM's own rule stops where one step gains that little,
#'   short of the maximum when EM crawls. Should the steps stall (a flat maximum
#'   or a saddle), SQUAREM takes over. For the other models, SQUAREM (Varadhan
#'   and Roland 2008, scheme S3): each EM step is followed by a second (whose
#'   log-likelihood is not computed), an extrapolation of the parameters along
#'   the path the two took, and one more EM step from there, which brings them
#'   back into the model. That result is kept only if its log-likelihood is at
#'   least the first step's, else the second step is; a cycle kept takes three
#'   passes over the data for three M-steps, and convergence is still judged on
#'   plain EM steps. Either way the log-likelihood never falls. Neither is used
#'   with a `prior` (whose objective is not the log-likelihood); Newton's steps
#'   are not used with a ridge `reg` either (EM's fixed point is then not the
#'   maximum), nor with known `labels` in [gmm()]. `FALSE` gives the textbook
#'   iterates, as in the heights vignette.
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
#' @param inner_tol,inner_max_iter Tolerance and cap of the iteration inside the
#'   M-step of the models without a closed form (`VEI`, `VEE`, `VEV`, `EVE`,
#'   `VVE`). Each inner loop starts from the current parameters (where the
#'   previous M-step ended, or the parameters EM started from), and no step of it
#'   raises the M-step's objective, so EM never lowers the log-likelihood and the
#'   loop usually needs few iterations. A chosen fit whose last M-step stopped at the
#'   cap gets a warning, and the count is kept in the object (`inner_fail`).
#' @param hc_max_n For `init = "hc"`, the largest number of rows the hierarchical
#'   agglomeration (quadratic in time and memory) is run on; larger data use a
#'   random subset of this size, whose partitions are carried to all rows by one
#'   M-step on the subset and EM on all rows from its parameters.
#' @param cross_starts When several models are fitted, also start every model of
#'   a K from the responsibilities of that K's fit with the smallest BIC and of
#'   its fit with the largest log-likelihood, keeping whichever start reaches the
#'   higher log-likelihood. At most two more fits per cell; often a much better
#'   optimum for the constrained models.
#' @param rcond,keep_degenerate A fit that converges can still be a spurious local
#'   maximiser of the likelihood (McLachlan and Peel 2000, section 3.10), whose
#'   large likelihood comes from a component sitting on a few points. By default
#'   such a (K, model) cell is reported as failed, with its reason, and cannot be
#'   chosen. A cell is degenerate when
#'   * its number of free parameters is not below the number of distinct rows
#'     with positive weight (such a cell is not fitted at all);
#'   * a component has fewer effective rows (its responsibilities summed over the
#'     rows, each row counting once whatever its weight: a row of weight 50 is
#'     still one point) than its covariance needs: `d + 1` for the models in which
#'     a component's covariance can be singular on its own (`EEV`, `VEV`, `EVV`,
#'     `VVV`, whose orientation varies, and `VVE`), 2 for the other models with a
#'     varying volume or shape (`V`, `VII`, `VEI`, `EVI`, `VVI`, `VEE`, `EVE`), and
#'     1 for the models with one covariance for all components;
#'   * the components' covariances are far out of proportion: with
#'     \eqn{\bar\Sigma = \sum_k \pi_k \Sigma_k}, the smallest eigenvalue of any
#'     \eqn{\bar\Sigma^{-1}\Sigma_k} divided by the largest of any is below
#'     `rcond`. This ratio does not depend on the units or on any linear
#'     transformation of the data, so collinear columns or far-apart clusters do
#'     not trip it, and it is 1 for the models with one covariance for all; a
#'     component collapsing onto a few points, flat in some direction or tiny
#'     in all, does. `0` turns this test off.
#'
#'   With a `prior`, the estimates are regularised and only the first rule
#'   applies.
#'   `keep_degenerate = TRUE` fits and keeps such cells as any other; if one is
#'   chosen, [gmm()] warns and says why in the object's `degenerate` element.
#' @param prior `NULL` for maximum likelihood, or a conjugate prior from
#'   [gmm_prior()] for maximum a posteriori estimates, which keeps every model
#'   defined on awkward data (duplicated points, few rows per component).
#' @return A list of class `gmm_control`.
#' @references Aitkin, M. and Aitkin, I. (1996). A hybrid EM/Gauss-Newton algorithm
#'   for maximum likelihood in mixture distributions. *Statistics and Computing*,
#'   6, 127-130.
#'
#'   Louis, T. A. (1982). Finding the observed information matrix when using the
#'   EM algorithm. *Journal of the Royal Statistical Society B*, 44, 226-233.
#'
#'   Varadhan, R. and Roland, C. (2008). Simple and globally convergent methods for
#'   accelerating the convergence of any EM algorithm. *Scandinavian Journal of
#'   Statistics*, 35, 335-353.
#' @seealso [gmm()]
#' @export
#' @examples
#' gmm_control(tol = 1e-10)
#' fit <- gmm(faithful, k = 2, model = "VVV", control = gmm_control(max_iter = 500))
gmm_control <- function(tol = 1e-8, max_iter = 1000L, reg = 0, eps = 1e-12, lloyd = 100L,
                        inner_tol = sqrt(.Machine$double.eps), inner_max_iter = 1000L,
                        prior = NULL, hc_max_n = 2000L, cross_starts = TRUE,
                        screen_tol = 1e-5, refine_bic = 10, rcond = 1e-8,
                        keep_degenerate = FALSE, accelerate = TRUE, screen_single = TRUE) {
  check_number(tol, "tol", min = 0)
  check_number(screen_tol, "screen_tol", min = 0)
  check_number(refine_bic, "refine_bic", min = 0)
  check_number(inner_tol, "inner_tol", min = 0)
  inner_max_iter <- check_whole(inner_max_iter, "inner_max_iter", min = 1)
  if (length(inner_max_iter) != 1L || inner_max_iter > 1e7) {
    stop("`inner_max_iter` must be a single whole number from 1 to 1e7.", call. = FALSE)
  }
  if (!is.null(prior) && !inherits(prior, "gmm_prior")) {
    stop("`prior` must be NULL or made by gmm_prior(), not ", describe(prior), ".", call. = FALSE)
  }
  check_number(rcond, "rcond", min = 0)
  if (rcond >= 1) stop("`rcond` must be below 1, not ", format(rcond), ".", call. = FALSE)
  if (!is.logical(keep_degenerate) || length(keep_degenerate) != 1L || is.na(keep_degenerate)) {
    stop("`keep_degenerate` must be TRUE or FALSE.", call. = FALSE)
  }
  if (!is.logical(accelerate) || length(accelerate) != 1L || is.na(accelerate)) {
    stop("`accelerate` must be TRUE or FALSE.", call. = FALSE)
  }
  if (!is.logical(screen_single) || length(screen_single) != 1L || is.na(screen_single)) {
    stop("`screen_single` must be TRUE or FALSE.", call. = FALSE)
  }
  check_number(reg, "reg", min = 0)
  check_number(eps, "eps", min = 0)
  if (eps >= 1) stop("`eps` must be below 1, not ", format(eps), ".", call. = FALSE)
  max_iter <- check_whole(max_iter, "max_iter", min = 0)
  lloyd <- check_whole(lloyd, "lloyd", min = 0)
  if (length(max_iter) != 1L || length(lloyd) != 1L) {
    stop("`max_iter` and `lloyd` must be single whole numbers.", call. = FALSE)
  }
  if (max_iter > 1e7) stop("`max_iter` must be at most 1e7.", call. = FALSE)
  if (!is.logical(cross_starts) || length(cross_starts) != 1L || is.na(cross_starts)) {
    stop("`cross_starts` must be TRUE or FALSE.", call. = FALSE)
  }
  hc_max_n <- check_whole(hc_max_n, "hc_max_n", min = 2)
  if (length(hc_max_n) != 1L || hc_max_n > 20000L) {
    stop("`hc_max_n` must be a single whole number from 2 to 20000.", call. = FALSE)
  }
  structure(list(tol = tol, max_iter = max_iter, reg = reg, eps = eps, lloyd = lloyd,
                 inner_tol = inner_tol, inner_max_iter = inner_max_iter, prior = prior,
                 hc_max_n = hc_max_n, cross_starts = cross_starts,
                 screen_tol = screen_tol, refine_bic = refine_bic, rcond = rcond,
                 keep_degenerate = keep_degenerate, accelerate = accelerate,
                 screen_single = screen_single),
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

# The vector the C core reads: c(tol, max_iter, reg, eps, inner_tol, inner_max_iter,
# threads, rcond, degenerate, accel), degenerate 1 when a spurious fit fails, accel the
# relative change of an EM step below which SQUAREM starts (0: never).
accel_from <- 1e-5
control_vector <- function(control, threads = 1L) {
  c(control$tol, control$max_iter, control$reg, control$eps, control$inner_tol,
    control$inner_max_iter, threads, control$rcond, as.numeric(!control$keep_degenerate),
    if (control$accelerate) accel_from else 0)
}

#' A conjugate prior for Gaussian mixtures
#'
#' With `gmm_control(prior = gmm_prior())`, [gmm()] computes maximum a posteriori
#' (MAP) estimates under the conjugate prior of Fraley and Raftery (2007): each
#' component mean is normal around `mean` with covariance \eqn{\Sigma_k / \kappa}
#' (`shrinkage` is \eqn{\kappa}), and each component covariance has an
#' inverse-Wishart prior with `dof` degrees of freedom and scale matrix `scale`.
#' The M-step of every one of the fourteen models then minimises
#' \eqn{\sum_k (n_k + \nu + d + 2) \log|\Sigma_k| + \mathrm{tr}(\Sigma_k^{-1} S_k)}
#' under the model's constraints, with \eqn{S_k} the component's scatter matrix
#' plus `scale` plus the shrinkage term of its mean. For `VVV` (and `V` in 1-D) this
#' is exactly Fraley and Raftery's estimate. For models that share a part of the
#' covariance across components, the prior is applied to every component. Their
#' tables give one prior for the shared part instead, so those estimates differ
#' slightly from mclust's.
#'
#' What the prior changes in the output: the parameters are MAP estimates; the
#' reported log-likelihood is the log-likelihood of the data at those estimates
#' (the log prior density is not added), and BIC and ICL use it with the usual
#' number of parameters, as mclust does. EM increases the log posterior, so the
#' log-likelihood trace need not be monotone. The mixing proportions are not
#' given a prior.
#'
#' @param shrinkage The prior's \eqn{\kappa > 0}: how many observations' worth of
#'   weight the prior mean carries.
#' @param mean Prior mean; `NULL` means the (weighted) mean of the data.
#' @param dof Degrees of freedom \eqn{\nu > d - 1}; `NULL` means `d + 2`.
#' @param scale Prior scale matrix (d x d, or a number for 1-D data); `NULL` means
#'   the covariance of the data divided by \eqn{K^{2/d}}, so each of K components
#'   gets its share of the volume.
#' @return A list of class `gmm_prior`; the `NULL` entries are filled in from the
#'   data and K when [gmm()] fits.
#' @references Fraley, C. and Raftery, A. E. (2007). Bayesian regularization for
#'   normal mixture estimation and model-based clustering. *Journal of
#'   Classification*, 24(2), 155--181.
#' @seealso [gmm_control()]
#' @export
#' @examples
#' x <- c(rnorm(30), rep(2, 10))   # ten identical points
#' fit <- gmm(x, k = 1:3, control = gmm_control(prior = gmm_prior()))
#' fit$bic_table
gmm_prior <- function(shrinkage = 0.01, mean = NULL, dof = NULL, scale = NULL) {
  check_number(shrinkage, "shrinkage", min = 0)
  if (shrinkage == 0) stop("`shrinkage` must be positive.", call. = FALSE)
  if (!is.null(mean) && (!is.numeric(mean) || anyNA(mean) || any(!is.finite(mean)))) {
    stop("`mean` must be NULL or finite numbers, not ", describe(mean), ".", call. = FALSE)
  }
  if (!is.null(dof)) check_number(dof, "dof", min = 0)
  if (!is.null(scale) && (!is.numeric(scale) || anyNA(scale) || any(!is.finite(scale)))) {
    stop("`scale` must be NULL or a finite matrix, not ", describe(scale), ".", call. = FALSE)
  }
  structure(list(shrinkage = shrinkage, mean = mean, dof = dof, scale = scale),
            class = "gmm_prior")
}

# The prior for K components on data x with weights w (or, for rows out of memory,
# their moments `mom` from source_moments()), as the C core reads it:
# list(kappa, nu, mean, scale), or NULL.
resolve_prior <- function(prior, x, w, k, mom = NULL) {
  if (is.null(prior)) return(NULL)
  d <- ncol(x)
  m <- if (is.null(mom)) colSums(x * w) / sum(w) else mom$mean
  mean <- if (is.null(prior$mean)) m else prior$mean
  if (length(mean) != d) {
    stop(sprintf("the prior's `mean` must have length %d, not %d.", d, length(mean)), call. = FALSE)
  }
  dof <- if (is.null(prior$dof)) d + 2 else prior$dof
  if (dof <= d - 1) stop(sprintf("the prior's `dof` must exceed d - 1 = %d.", d - 1), call. = FALSE)
  if (is.null(prior$scale)) {
    cov <- if (is.null(mom)) crossprod(sweep(x, 2L, m) * sqrt(w)) / (sum(w) - 1) else mom$cov
    scale <- cov / k^(2 / d)
  } else {
    scale <- matrix(as.double(prior$scale), d, d)
    if (length(prior$scale) != d * d || max(abs(scale - t(scale))) > 1e-8 * max(abs(scale)) ||
        inherits(try(chol(scale), silent = TRUE), "try-error")) {
      stop(sprintf("the prior's `scale` must be a symmetric positive definite %d x %d matrix.", d, d),
           call. = FALSE)
    }
  }
  list(kappa = prior$shrinkage, nu = as.double(dof), mean = as.double(mean),
       scale = unname(matrix(as.double(scale), d, d)))
}

#' @export
print.gmm_prior <- function(x, ...) {
  cat("Conjugate prior for gmm(): shrinkage =", x$shrinkage,
      "; mean, dof and scale", if (is.null(x$mean) && is.null(x$dof) && is.null(x$scale))
        "from the data" else "as given", "\n")
  invisible(x)
}
