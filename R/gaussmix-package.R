#' gaussmix: Gaussian mixture models fitted by EM
#'
#' [gmm()] fits finite Gaussian mixtures by the EM algorithm for every
#' combination of a number of components and a covariance model, and keeps the
#' one with the smallest BIC. The numerical work (E-step in log space, M-steps,
#' the EM loop, log-likelihood and BIC, and the sweep over the (K, model) cells
#' with the choice by BIC) is done in C, on [gmm_threads()] threads.
#'
#' @section Covariance models:
#' The component covariances are parametrised as
#' \eqn{\Sigma_k = \lambda_k D_k A_k D_k'} (volume, orientation, shape) after
#' Celeux and Govaert (1995), with the model names used by 'mclust'. See
#' [gmm_models()] for the list and their numbers of parameters.
#'
#' @references
#' Celeux, G. and Govaert, G. (1995). Gaussian parsimonious clustering models.
#' *Pattern Recognition*, 28(5), 781--793.
#'
#' Dempster, A. P., Laird, N. M. and Rubin, D. B. (1977). Maximum likelihood from
#' incomplete data via the EM algorithm. *Journal of the Royal Statistical
#' Society B*, 39(1), 1--38.
#'
#' Fraley, C. and Raftery, A. E. (2002). Model-based clustering, discriminant
#' analysis, and density estimation. *Journal of the American Statistical
#' Association*, 97(458), 611--631.
#' @keywords internal
#' @useDynLib gaussmix, .registration = TRUE, .fixes = "C_"
#' @importFrom stats coef confint fitted logLik nobs predict residuals simulate vcov weights
"_PACKAGE"
