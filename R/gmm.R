#' Fit a Gaussian mixture model by EM, choosing K and the covariance model by BIC
#'
#' Fits a finite Gaussian mixture for every number of components in `k` and every
#' covariance model in `model`, and returns the fit with the smallest BIC.
#'
#' For each (K, model) cell EM starts from the initial partitions of `init` (or
#' the parameters it gives) and keeps the start that reaches the highest
#' log-likelihood. The same partitions serve every model with that K, and with
#' `control$cross_starts` the best fits of each K also start the other models.
#' `bench/README.md` compares the default with 'mclust' cell by cell. A cell
#' whose fit breaks down (a covariance becomes singular, a component loses its
#' weight) is recorded as `NA` in the BIC table with its reason, and the others go
#' on; it never produces `NaN`. So is a cell whose fit is spurious (more
#' parameters than distinct rows, a component on too few rows, or a flat
#' covariance; see `keep_degenerate` in [gmm_control()]), so that the chosen fit
#' is never one of these unless asked for.
#'
#' BIC here has R's sign, as in [stats::BIC()]: \eqn{-2 \log L + df \log n},
#' smaller is better, with \eqn{n} the sum of the weights. 'mclust' reports
#' \eqn{2 \log L - df \log n}, the same number with the opposite sign.
#' ICL is BIC plus twice the entropy \eqn{-\sum_i w_i \sum_k z_{ik} \log z_{ik}} of
#' the responsibilities (McLachlan and Peel 2000, section 6.10.3); 'mclust' uses
#' the hard classification in place of \eqn{z} there, so the two ICLs differ
#' slightly.
#'
#' Components are returned in a canonical order, by ascending first coordinate of
#' the mean (ties broken by the next coordinates), so results are reproducible.
#'
#' @section For 'mclust' users:
#' The same models under the same names, with these differences in the call and
#' the result:
#' * `k` is `Mclust()`'s `G`, and `model` its `modelNames` (which also takes the
#'   aliases `"spherical"`, `"diag"`, `"tied"` and `"full"`).
#' * BIC and ICL have R's sign, smaller is better; 'mclust' reports their
#'   negatives (`fit$bic` is `-Mclust()$bic`).
#' * `init` takes the place of `initialization`: `"hc"` includes the partitions of
#'   'mclust''s default (`hc(modelName = "VVV", use = "SVD")`), and a list of
#'   parameters or a fit (see `init` above) starts EM from parameters.
#' * `control = gmm_control(tol =, max_iter =)` takes the place of
#'   `control = emControl(tol =, itmax =)`, and `gmm_control(prior = gmm_prior())`
#'   that of `prior = priorControl()`.
#' * The result's `k` and `model` are `Mclust()`'s `G` and `modelName`;
#'   `parameters$sigma` (d x d x K, also for 1-D data) is its
#'   `parameters$variance$sigma`; `z`, `classification`, `uncertainty`, `loglik`
#'   and `df` are the same quantities.
#' * `plot(fit, what = "BIC")` and the other names of `plot.Mclust()` work; see
#'   [plot.gmm()]. `predict(fit, newdata)` returns the classes, and
#'   `type = "prob"` the posterior probabilities, where `predict.Mclust()` returns
#'   a list of both.
#'
#' @param x Data: a numeric vector, matrix, or data frame of numeric columns, one
#'   row per observation. Columns are known by their names, which must be
#'   distinct; a column without a name (or with an `NA` or empty one) is called
#'   `x<column number>`, as are all columns of a matrix without names. Missing or infinite values are an error (remove them
#'   first, for example with [stats::na.omit()]), and so is a constant column
#'   (unless `control$reg > 0`) or one whose variance is outside `1e-250` to
#'   `1e250`, where covariances could not be represented in double precision
#'   (rescale such data first).
#'
#'   Rows out of memory are fitted where they are: a file-backed
#'   `bigmemory::big.matrix` of doubles is read from its file directly, 65,536
#'   rows at a time, other `big.matrix` objects through bigmemory in blocks of
#'   about 32 MB (option `gaussmix.block_rows`), and data on the workers of a
#'   `parallel` cluster are given by [gmm_shards()]. Every EM pass goes over all
#'   rows; the starts come from the subset of at most `control$hc_max_n` rows that
#'   a fit in memory draws (all rows when there are no more). On the same rows
#'   the fit is then the fit in memory, to rounding, except on more rows than
#'   `hc_max_n` for the starts that a fit in memory takes from all rows: the
#'   random ones (`init = "kmeans++"` or `"random"`) and, for 1-D data, the
#'   groups cut at the quantiles are computed on the subset, so the cells they
#'   win may end elsewhere. Such a fit takes no
#'   `weights`, `labels`, `noise` or `na.action`, and holds no per-row results
#'   (`z`, `classification` and `uncertainty` are `NULL`): [predict.gmm()] computes
#'   them. See `vignette("scale", package = "gaussmix")`.
#' @param k Numbers of components to try: whole numbers between 1 and the number
#'   of rows with positive weight. The default `1:9` stops at that number on
#'   smaller data. When `init` is a list, `k` defaults to the number of
#'   components it gives.
#' @param model Covariance models to try (see [gmm_models()]); `NULL` means every
#'   model defined for the dimension of `x`: `"E"` and `"V"` for 1-D data,
#'   the multivariate ones otherwise. The aliases `"spherical"`, `"diag"`,
#'   `"tied"` and `"full"` are accepted.
#' @param weights Optional non-negative frequency weights, one per row: a row of
#'   weight 2 counts as two identical rows. The sample size used by BIC and
#'   [nobs()] is their sum, and the log-likelihood is weighted by them; the
#'   parameters do not depend on their scale (`weights = rep(c, n)` gives the same
#'   fit for any `c > 0`), but BIC does, so weights meant as counts should be
#'   counts. Rows of weight 0 play no part in the fit; they still get
#'   responsibilities and a classification.
#' @param init How EM starts: `"hc"` (the default: model-based hierarchical
#'   agglomeration by the classification likelihood of two models, each tree cut
#'   at K groups giving a start: VVV, with the partitions of 'mclust''s default
#'   start (on its "SVD" transformation of the data: standardised principal
#'   components divided by the square roots of their singular values), and EII,
#'   which is Ward's criterion, on the principal components scaled to unit
#'   variance. Deterministic for up to `control$hc_max_n` rows; above that the trees
#'   grow on a random subset of that many rows, and each partition of the subset is
#'   carried to all rows by one M-step on the subset and EM on all rows from there.
#'   For 1-D data, Ward's tree is joined by K groups of equal size cut at the
#'   quantiles, which is how 'mclust' starts there),
#'   `"kmeans++"` (weighted greedy k-means++ seeding on the standardised data, each
#'   centre the best of `2 + log(K)` candidates, followed by Lloyd iterations),
#'   `"random"` (K distinct rows drawn at random as centres, every row assigned to
#'   the nearest), several of these (their starts are pooled), or a
#'   list of starting parameters `list(mean, sigma, pro)`: `mean` a vector of K
#'   means (1-D) or a d x K matrix; `sigma` K variances (1-D), a d x d x K array
#'   or one d x d matrix shared by all components; for 1-D data `sd`, K standard
#'   deviations, may be given instead of `sigma`; `pro` K positive mixing
#'   proportions summing to 1 (equal if omitted). EM starts with an E-step from
#'   these parameters, which need not obey the constraints of `model`. A `gmm`
#'   fit to data with the same columns may be given as well (a warm start, for
#'   example on new or updated data): EM starts from its parameters, with its K
#'   and, unless `model` is given, its model. The random
#'   starts use R's random number generator, so [set.seed()] reproduces them.
#' @param n_init Number of random starts per K for `"kmeans++"` and `"random"`;
#'   the start with the highest log-likelihood is kept for each cell. With no
#'   random method in `init` (`"hc"` alone, a list or a fit) there is nothing to
#'   repeat, and a value above 1 gives a warning.
#' @param control Settings from [gmm_control()] (or a list of them).
#' @param na.action What to do with rows of `x` that have missing values, as in
#'   R's modelling functions: `NULL` (the default) makes them an error that says
#'   which rows; [stats::na.omit()] drops them; [stats::na.exclude()] drops them
#'   from the fit but pads `z`, `classification` and `uncertainty` (and
#'   [fitted()], [residuals()] and [predict()] without `newdata`) with `NA` at
#'   their places, so that results line up with the input rows;
#'   [stats::na.fail()] is an error. A function or its name. The dropped rows are
#'   kept in the result's `na.action`, and `weights` are for the input rows.
#' @param verbose Whether to show progress: for a sweep that runs longer than 2
#'   seconds (the option `gaussmix.progress_after`), a progress bar on one line of
#'   the console, redrawn in place, with the phase of the sweep (fitting the cells,
#'   cross starts, refining the best), its cells done and the time left in it at
#'   the rate so far; the line is cleared at the end. By default on in interactive
#'   sessions and off otherwise (for scripts and knitted documents); the option
#'   `gaussmix.verbose` sets the default. Interrupts work with or without it.
#' @param criterion What chooses K and the model, smaller being better for each
#'   (R's sign, as [stats::BIC()] and [stats::AIC()]): `"bic"` (the default),
#'   `"icl"` (BIC plus twice the entropy of the responsibilities, which favours
#'   well separated clusters; Biernacki, Celeux and Govaert 2000) or `"aic"`
#'   (\eqn{-2 \log L + 2 df}, which favours more components). The cells near the
#'   best by that criterion are the ones refined to `tol`; the tables of all three
#'   are kept.
#' @param labels Optional known classes of some rows, `NA` for the others
#'   (semi-supervised fitting; McLachlan and Peel 2000, section 2.19): a factor or
#'   a vector turned into one, one entry per row of `x`. Component j is the j-th
#'   class (`levels(fit$labels)[j]`), K is the number of classes, and every E-step
#'   keeps a labelled row's responsibilities at its class, so its term of the
#'   log-likelihood is \eqn{\log \pi_j f_j(x_i)}. EM starts from the labelled
#'   rows, the others each in the class of nearest mean. With every row labelled
#'   the fit is the one M-step of the classes (as [gmm_da()]'s `"EDDA"` fit, with
#'   the class proportions), and with none it is the usual fit.
#' @param noise A uniform noise component besides the Gaussians (Banfield and
#'   Raftery 1993), for data with scattered outliers: `NULL` or `FALSE` for none;
#'   `TRUE` to start it from the rows that nearest-neighbour cleaning (Byers and
#'   Raftery 1998: the distance to the 5th nearest neighbour, as a mixture of two
#'   Poisson processes; the distances are to all rows up to 5,000 rows, else to
#'   a random subset of 5,000) marks as noise; or a logical vector with one
#'   entry per row marking the rows it starts with. The component is uniform over
#'   the bounding box of the data (rows of positive weight), its density one over
#'   the box's volume. The Gaussians start from the other rows (so `k` is at most
#'   their number, and the default K = 1:9 stops there); EM then places
#'   every row. It counts two parameters in df (its proportion and the volume, as
#'   mclust counts them), and its rows have class 0. With noise EM is not
#'   accelerated.
#' @param threads Number of threads, by default [gmm_threads()] (one per physical
#'   core, at most 2 under `R CMD check`; see there for the option that sets it).
#'   On data with few rows the (K, model) cells are fitted side by side, one per
#'   thread; on larger data the rows of each pass are split over the threads; the
#'   VVV hierarchical start computes its pair costs on them. The result is bitwise
#'   the same for any number of threads.
#' @return An object of class `gmm`, a list with:
#'   \item{call}{the matched call.}
#'   \item{data}{the data as a numeric matrix: `x` itself when it is a double
#'     matrix (not copied, so with its own column names, or none; the fit's
#'     column names are the row names of `parameters$mean`), else `x` converted,
#'     with the row names of `x` if it has any (a data frame's automatic row names
#'     are not made into strings, as in [as.matrix()]).}
#'   \item{n, d, k}{rows, dimension and number of components of the chosen fit.}
#'   \item{model}{name of the chosen covariance model.}
#'   \item{parameters}{list of `pro` (K mixing proportions), `mean` (d x K) and
#'     `sigma` (d x d x K covariance matrices).}
#'   \item{loglik, df, bic, icl}{log-likelihood, number of free parameters, BIC and
#'     ICL of the chosen fit (smaller BIC and ICL are better).}
#'   \item{z}{n x K matrix of responsibilities (posterior probabilities), with
#'     the data's row names. It is computed, by one pass over the rows at the
#'     fitted parameters, the first time its values are read, and then kept: a fit
#'     whose `z` is never read (many rows, and only the parameters wanted) spares
#'     that pass and its n x K doubles of memory. Its dimensions and names are
#'     there before; copying it, or saving or sending the fit, computes it.}
#'   \item{classification}{the component of largest responsibility for each row
#'     (the first of equal ones), named by the data's row names. It is derived
#'     from `z` when read (as `fit$classification` or `fit[["classification"]]`),
#'     not stored, so that the object holds no more per row than the data and `z`.}
#'   \item{uncertainty}{one minus the largest responsibility, named and derived
#'     likewise.}
#'   \item{iterations, converged}{EM iterations (M-steps, and Newton's steps
#'     tried; see `accelerate` in [gmm_control()]) of the chosen fit, from its
#'     start through screening and refinement, and whether it met the tolerance.}
#'   \item{inner_fail}{for models with an iterative M-step, the number of M-steps
#'     whose inner loop stopped at `inner_max_iter` (0 otherwise).}
#'   \item{loglik_trace}{the log-likelihood of the chosen fit's path: at its
#'     start, then after each EM iteration whose log-likelihood was computed and
#'     kept, through screening and refinement: one entry per M-step without
#'     acceleration, fewer with it (see `accelerate` in [gmm_control()]). It never
#'     decreases.}
#'   \item{bic_table}{matrix of BIC values with the K values as row names and the
#'     models as column names; `NA` where a fit failed, with the reasons in its
#'     attribute `"reasons"` (a character matrix of the same shape). It has class
#'     `gmm_bic_table` only for printing; `unclass()` gives the plain matrix.}
#'   \item{icl_table, aic_table}{the ICL and the AIC of every cell, in the same
#'     layout (`NA` where the fit failed).}
#'   \item{aic}{the chosen fit's AIC, \eqn{-2 \log L + 2 df}.}
#'   \item{criterion}{the criterion the fit was chosen by.}
#'   \item{labels}{with `labels`, the classes as a factor: component j is
#'     `levels(labels)[j]`; absent otherwise.}
#'   \item{noise}{with `noise`, a list of its `proportion`, the `hypervolume` of
#'     the box it is uniform over, the `box` (the columns' ranges) and the rows it
#'     started with (`start`); `z` then has a last column `"noise"`,
#'     `parameters$pro` holds the Gaussians' proportions (summing to 1 less the
#'     noise's), and noise rows have `classification` 0. Absent otherwise.}
#'   \item{start}{where the chosen fit's EM started, in words: a cut of a
#'     hierarchical tree, a random start, the parameters given, or the
#'     responsibilities of another model's fit (a cross start).}
#'   \item{screened}{how many of the first entries of `loglik_trace` are the fit
#'     to `control$screen_tol`, after which it was refined to `tol`; `NA` when the
#'     fit was not screened (one cell with one start).}
#'   \item{weights}{the frequency weights given, or `NULL` when none were
#'     ([weights.gmm()] then gives 1 per row).}
#'   \item{na.action}{with a `na.action` that dropped rows, those rows (as
#'     [stats::na.omit()] records them); absent otherwise.}
#'   \item{control, init}{the settings used, and `init` as given (a method name or
#'     a list).}
#'   \item{units}{present when columns of `x` carry a `"units"` attribute (as
#'     the height column of [heights] does): the units by column, `NA` where
#'     unknown; [plot.gmm()] uses them in axis labels.}
#'   \item{degenerate}{`NULL`, or, when `control$keep_degenerate` let a degenerate
#'     cell be chosen, why it is degenerate (see [gmm_control()]); `gmm()` also gives
#'     it as a warning.}
#' @references
#' Banfield, J. D. and Raftery, A. E. (1993). Model-based Gaussian and non-Gaussian
#' clustering. *Biometrics*, 49(3), 803--821.
#'
#' Celeux, G. and Govaert, G. (1995). Gaussian parsimonious clustering models.
#' *Pattern Recognition*, 28(5), 781--793.
#'
#' Fraley, C. (1998). Algorithms for model-based Gaussian hierarchical clustering.
#' *SIAM Journal on Scientific Computing*, 20(1), 270--281.
#'
#' Arthur, D. and Vassilvitskii, S. (2007). k-means++: the advantages of careful
#' seeding. *Proceedings of the 18th ACM-SIAM Symposium on Discrete Algorithms*,
#' 1027--1035.
#'
#' McLachlan, G. and Peel, D. (2000). *Finite Mixture Models*. Wiley.
#' @seealso [gmm_control()], [gmm_models()], [predict.gmm()], [plot.gmm()]
#' @export
#' @examples
#' fit <- gmm(faithful, k = 1:3, model = c("EEE", "VVV"))
#' fit
#' summary(fit)
#' BIC(fit)
#'
#' # The height example: two 1-D components started at 170 and 190 cm.
#' set.seed(1)
#' h <- c(rnorm(116, 163.82, 2.458), rnorm(884, 178.02, 5.477))
#' gmm(h, k = 2, model = "V",
#'     init = list(mean = c(170, 190), sd = c(5, 5), pro = c(0.5, 0.5)))
gmm <- function(x, k = 1:9, model = NULL, weights = NULL, init = "hc", n_init = 1,
                control = gmm_control(), threads = gmm_threads(), na.action = NULL,
                verbose = getOption("gaussmix.verbose", interactive()),
                criterion = c("bic", "icl", "aic"), labels = NULL, noise = NULL) {
  call <- match.call()
  k_given <- !missing(k)
  criterion <- match.arg(tolower(criterion[1]), c("bic", "icl", "aic"))
  control <- as_control(control)
  src <- as_source(x)
  if (!is.null(src)) {
    return(gmm_source(src, call, if (k_given) k, model, init, n_init, control, threads,
                      verbose, criterion,
                      given = c(weights = !is.null(weights), labels = !is.null(labels),
                                noise = !(is.null(noise) || isFALSE(noise)),
                                na.action = !is.null(na.action))))
  }
  units <- data_units(x)
  vname <- vector_name(substitute(x))
  omitted <- NULL
  if (!is.null(labels) && length(labels) != NROW(x)) {
    stop(sprintf("`labels` must have one label (or NA) per row (%d), not %d.", NROW(x),
                 length(labels)), call. = FALSE)
  }
  if (!is.null(na.action)) {
    kept <- apply_na_action(x, weights, na.action)
    x <- kept$x
    weights <- kept$weights
    omitted <- kept$omitted
    if (!is.null(omitted) && !is.null(labels)) labels <- labels[-omitted]
  }
  x <- as_data_matrix(x, vector_name = vname, keep = TRUE)
  vars <- column_names(colnames(x), ncol(x))
  n <- nrow(x)
  d <- ncol(x)
  w <- check_weights(weights, n)
  ws <- weight_scale(w, given = !is.null(weights))
  check_columns(x, ws$w, control$reg, vars)
  warm <- warm_start(init, model, vars)
  init <- warm$init
  model <- warm$model
  start <- check_init(init, d)
  # (min() rather than w > 0: no vector of n as long as every weight is positive,
  # and what a fit allocates before its hierarchical start stays until R collects)
  allpos <- min(w) > 0
  npos <- if (allpos) n else sum(w > 0)
  lab <- NULL
  if (!is.null(labels) && !all(is.na(labels))) {   # partly or wholly labelled rows
    labels <- droplevels(as.factor(labels))
    lab <- as.integer(labels)
    lab[is.na(lab)] <- 0L
    if (k_given && !identical(as.numeric(k), as.numeric(nlevels(labels)))) {
      stop(sprintf("with `labels`, `k` is the number of their classes (%d), not %s.",
                   nlevels(labels), paste(k, collapse = ", ")), call. = FALSE)
    }
    if (!is.character(init) || !identical(init, "hc") || is.list(start)) {
      warning("`init` is ignored with `labels`: EM starts from the labelled rows.", call. = FALSE)
    }
    k <- nlevels(labels)
    start <- "hc"
  }
  k <- check_fit_k(if (k_given || !is.null(lab)) k, start, npos)   # (labels set k)
  model <- check_model(model, d)
  n_init <- check_n_init(n_init, start)
  threads <- check_threads(threads)
  check_verbose(verbose)

  # Rows of weight 0 play no part in the fit; their responsibilities come from one
  # E-step at the end.
  pos <- if (!allpos) w > 0
  kept <- function(v) if (allpos) v else v[pos]
  xf <- if (allpos) x else x[pos, , drop = FALSE]
  if (!is.null(lab) && !all(seq_len(k) %in% kept(lab))) {
    stop("every class of `labels` needs a labelled row of positive weight.", call. = FALSE)
  }
  nz <- if (is.null(noise) || isFALSE(noise)) NULL else check_noise(noise, x, w)
  if (!is.null(nz)) {   # the Gaussians start from the rows outside the noise guess
    ng <- sum(kept(!nz$rows))
    if (any(k > ng)) {
      if (k_given || !is.null(lab)) {
        stop(sprintf("`k` must be at most %d, the rows of positive weight outside the noise guess (`noise`), not %s.",
                     ng, paste(k[k > ng], collapse = ", ")), call. = FALSE)
      }
      k <- k[k <= ng]
    }
  }
  grid <- fit_grid(xf, kept(ws$w), k, model, start, n_init, control, threads, ws, verbose,
                   criterion, if (!is.null(lab)) kept(lab),
                   if (!is.null(nz)) list(rows = kept(nz$rows), logv = nz$logv))
  if (!allpos && !is.null(grid$best)) {
    p <- grid$best
    z <- tryCatch(estep_all(x, p$pro, p$mean, p$sigma, nz$logv)$z, error = function(e) {
      stop("`x` has rows of weight 0 so far from every component that their density cannot be represented; drop them.",
           call. = FALSE)
    })
    dimnames(z) <- list(rownames(x), colnames(p$z))
    if (!is.null(lab)) z[lab > 0L, ] <- diag(ncol(z))[lab[lab > 0L], ]   # labelled rows keep their class
    grid$best$z <- z
  }
  fit <- new_gmm(grid, x = x, vars = vars, w = if (!is.null(weights)) w, call = call,
                 control = control, init = init, criterion = criterion)
  if (!is.null(nz)) {   # the noise proportion apart from the Gaussians'
    fit$noise <- list(proportion = unname(grid$best$pro[fit$k + 1L]), hypervolume = exp(nz$logv),
                      box = nz$box, start = nz$rows)
  }
  if (!is.null(lab)) fit$labels <- labels
  if (any(!is.na(units))) fit$units <- stats::setNames(units, vars)
  if (!is.null(omitted)) {
    fit$na.action <- omitted
    # na.exclude: the responsibilities (and so the classification and uncertainty
    # derived from them) are padded with NA back to the input rows
    fit$z <- stats::naresid(omitted, fit$z)
  }
  if (!is.null(fit$degenerate)) warning(fit$degenerate, call. = FALSE)
  fit
}

# The numbers of components to fit: `k` as given (NULL when not: the K of
# parameters given as init, else 1 to 9), checked against them and against the npos
# rows that carry weight.
check_fit_k <- function(k, start, npos) {
  if (is.null(k)) {
    k <- if (is.list(start)) start$k else seq_len(min(9L, npos))
  } else if (is.list(start) && !identical(as.numeric(k), as.numeric(start$k))) {
    stop(sprintf("`k` (%s) must equal the number of components given in `init` (%d).",
                 paste(k, collapse = ", "), start$k), call. = FALSE)
  }
  check_k(k, npos)
}

check_n_init <- function(n_init, start) {
  n_init <- check_whole(n_init, "n_init", min = 1)
  if (length(n_init) != 1L) stop("`n_init` must be a single whole number.", call. = FALSE)
  if (n_init > 1L && !any(c("kmeans++", "random") %in% start)) {
    warning(sprintf("`n_init` (%d) is ignored: it counts the random starts of init = \"kmeans++\" or \"random\", and %s.",
                    n_init, if (is.list(start)) "`init` gives parameters"
                            else "init = \"hc\" is deterministic"), call. = FALSE)
  }
  n_init
}

check_threads <- function(threads) {
  threads <- check_whole(threads, "threads", min = 1)
  if (length(threads) != 1L || threads > 1024L) {
    stop("`threads` must be a single whole number from 1 to 1024.", call. = FALSE)
  }
  threads
}

check_verbose <- function(verbose) {
  if (!isTRUE(verbose) && !isFALSE(verbose)) stop("`verbose` must be TRUE or FALSE.", call. = FALSE)
}

# gmm() on rows out of memory (a big.matrix or gmm_shards(), see R/source.R): the
# same sweep, with the starts from a subset of the rows and every pass over all of
# them. The subset is the one an in-memory fit's hierarchical start draws (all rows
# when there are at most hc_max_n), so that on the same rows the fit is the
# in-memory fit, to rounding. `k` is NULL when not given; `given` says which of the
# arguments this path does not take were given.
gmm_source <- function(src, call, k, model, init, n_init, control, threads, verbose,
                       criterion, given) {
  if (any(given)) {
    stop(sprintf("a %s is fitted without %s.", if (src$kind == "shards") "gmm_shards() object"
                                                else "big.matrix",
                 paste0("`", names(given)[given], "`", collapse = ", ")), call. = FALSE)
  }
  n <- src$n
  d <- src$d
  vars <- src$names
  if (n < 2L) stop(sprintf("`x` must have at least 2 rows, not %d.", n), call. = FALSE)
  warm <- warm_start(init, model, vars)
  init <- warm$init
  model <- warm$model
  start <- check_init(init, d)
  k <- check_fit_k(k, start, n)
  model <- check_model(model, d)
  n_init <- check_n_init(n_init, start)
  threads <- check_threads(threads)
  check_verbose(verbose)
  # the hierarchical start's random subset, as in memory; parameters given need none
  # but the distinct rows are counted on one (the first rows)
  max_n <- max(control$hc_max_n, max(k))
  sub <- if (n <= max_n) seq_len(n) else if (is.list(start)) seq_len(max_n)
         else sort(sample_rows(n, max_n))
  xs <- src$rows(sub)
  c0 <- colMeans(xs)
  mom <- source_moments(src, if (all(is.finite(c0))) c0 else rep(0, d), control$reg)
  colnames(xs) <- vars
  grid <- fit_grid(xs, rep(1, nrow(xs)), k, model, start, n_init, control, threads,
                   list(scale = 1, logn = log(n)), verbose, criterion,
                   ext = list(src = src, mom = mom, all = length(sub) == n))
  fit <- new_gmm(grid, x = src$data, vars = vars, w = NULL, call = call, control = control,
                 init = init, criterion = criterion, n = n,
                 nd = if (control$keep_degenerate) source_distinct(src, xs, grid$best$df))
  if (!is.null(fit$degenerate)) warning(fit$degenerate, call. = FALSE)
  fit
}

# The noise guess: the rows a uniform noise component starts with (`noise` TRUE: by
# nearest-neighbour cleaning; or a logical vector) and the log of the volume of the
# data's bounding box, over which that component is uniform.
check_noise <- function(noise, x, w) {
  n <- nrow(x)
  if (isTRUE(noise)) {
    rows <- rep(FALSE, n)
    rows[w > 0] <- nn_clean(x[w > 0, , drop = FALSE])
  } else if (is.logical(noise) && length(noise) == n && !anyNA(noise)) {
    rows <- noise
  } else {
    stop(sprintf("`noise` must be NULL, TRUE or FALSE, or a logical vector with one entry per row (%d) marking the rows it starts with.", n),
         call. = FALSE)
  }
  if (all(rows[w > 0])) {
    stop("`noise` covers every row (of positive weight): leave some rows to the Gaussian components.",
         call. = FALSE)
  }
  box <- apply(x[w > 0, , drop = FALSE], 2L, range)
  logv <- sum(log(box[2, ] - box[1, ]))
  if (!is.finite(logv)) stop("the data's bounding box has no volume, so no noise density is defined.", call. = FALSE)
  list(rows = rows, logv = logv, box = box)
}

# Nearest-neighbour cleaning (Byers and Raftery 1998, JASA 93:577-584): the distance
# D of each row to its k-th nearest neighbour is modelled as a mixture of two
# Poisson processes of different intensities (D^d scaled by the intensity and the
# unit ball's volume is Gamma(k, 1)), fitted by EM; rows more likely from the
# sparser one are the noise guess. Distances are computed in blocks, to all rows
# for up to `max_ref` rows (O(n^2 d)), else to a random subset of `max_ref` rows:
# a thinner reference scales every intensity alike, which EM's two free
# intensities absorb.
nn_clean <- function(x, k = 5L, max_ref = 5000L) {
  n <- nrow(x)
  d <- ncol(x)
  k <- min(k, n - 1L)
  if (k < 1L) return(rep(FALSE, n))
  ref <- if (n > max_ref) sort(sample_rows(n, max_ref)) else seq_len(n)
  xr <- x[ref, , drop = FALSE]
  sqr <- rowSums(xr^2)
  sq <- rowSums(x^2)
  self <- match(seq_len(n), ref)   # each row's place in the reference, if it is there
  dk <- numeric(n)
  for (b0 in seq(1L, n, by = 512L)) {
    idx <- b0:min(n, b0 + 511L)
    d2 <- outer(sq[idx], sqr, "+") - 2 * x[idx, , drop = FALSE] %*% t(xr)
    own <- !is.na(self[idx])
    d2[cbind(which(own), self[idx][own])] <- Inf   # not its own neighbour
    dk[idx] <- sqrt(pmax(apply(d2, 1L, function(r) sort(r, partial = k)[k]), 0))
  }
  alpha <- pi^(d / 2) / gamma(d / 2 + 1)
  v <- pmax(dk, .Machine$double.xmin)^d
  logf <- function(lambda) k * log(lambda * alpha) + (k - 1) * log(v) - lambda * alpha * v -
    lgamma(k)   # log density of v = D^d
  big <- v > stats::quantile(v, 0.9)
  lambda <- c(k / (alpha * mean(v[!big])), k / (alpha * mean(v[big])))
  p <- 0.9
  old <- -Inf
  for (it in seq_len(500L)) {
    l1 <- log(p) + logf(lambda[1])
    l2 <- log(1 - p) + logf(lambda[2])
    top <- pmax(l1, l2)
    ll <- sum(top + log(exp(l1 - top) + exp(l2 - top)))
    z2 <- exp(l2 - top) / (exp(l1 - top) + exp(l2 - top))
    p <- 1 - mean(z2)
    if (p <= 0 || p >= 1) break
    lambda <- c(k * sum(1 - z2) / (alpha * sum((1 - z2) * v)), k * sum(z2) / (alpha * sum(z2 * v)))
    if (abs(ll - old) <= 1e-10 * abs(ll)) break
    old <- ll
  }
  sparse <- which.min(lambda)   # the lower intensity: the noise
  post <- if (sparse == 2L) z2 else 1 - z2
  post > 0.5
}

# Responsibilities and log mixture density of rows under Gaussians (pro holding their
# proportions, then the noise's when logv is given) and a uniform noise component of
# log density -logv.
estep_all <- function(x, pro, mean, sigma, logv = NULL) {
  k <- ncol(mean)
  if (is.null(logv)) return(.Call(C_gmm_estep, x, pro[seq_len(k)], mean, sigma))
  sg <- sum(pro[seq_len(k)])   # the Gaussians' share: the C E-step takes proportions summing to 1
  e <- .Call(C_gmm_estep, x, pro[seq_len(k)] / sg, mean, sigma)
  lg <- log(e$z) + e$logdens + log(sg)
  ln <- log(pro[k + 1L]) - logv
  top <- pmax(apply(lg, 1L, max), ln)
  tot <- top + log(rowSums(exp(lg - top)) + exp(ln - top))
  z <- cbind(exp(lg - tot), exp(ln - tot))
  list(z = z, logdens = tot)
}

# x (and weights) after the user's na.action (a function or its name, as in
# stats::model.frame()), and the rows it dropped (its "na.action" attribute, of
# class "omit" or "exclude"; NULL when none were).
apply_na_action <- function(x, weights, na.action) {
  if (is.character(na.action) && length(na.action) == 1L) na.action <- get(na.action, mode = "function")
  if (!is.function(na.action)) {
    stop("`na.action` must be a function such as na.omit, na.exclude or na.fail, or its name.",
         call. = FALSE)
  }
  n <- NROW(x)
  if (!is.null(weights) && length(weights) != n) {
    stop(sprintf("`weights` must be a numeric vector with one weight per row (%d), not %s.",
                 n, describe(weights)), call. = FALSE)
  }
  x <- na.action(x)
  omitted <- attr(x, "na.action")
  if (!is.null(omitted)) {
    attr(x, "na.action") <- NULL
    if (!is.null(weights)) weights <- weights[-omitted]
  }
  list(x = x, weights = weights, omitted = omitted)
}

# `init` and `model` as given, unless `init` is a fit (a warm start): then its
# parameters (so its K), checked against the data's columns `names`, and its model
# when `model` is NULL.
warm_start <- function(init, model, names) {
  if (!inherits(init, "gmm")) return(list(init = init, model = model))
  vars <- data_vars(init)
  if (!identical(names, vars)) {
    stop(sprintf("`init` is a fit to the columns %s, but `x` has %s.",
                 paste0("'", vars, "'", collapse = ", "),
                 paste0("'", names, "'", collapse = ", ")), call. = FALSE)
  }
  p <- init$parameters
  list(init = list(mean = unname(p$mean), sigma = unname(p$sigma), pro = unname(p$pro)),
       model = if (is.null(model)) init$model else model)
}

# Why the chosen fit is degenerate (see gmm_control(keep_degenerate =)), or NULL: it
# can only be when such cells were kept. `fit` is the C core's result and `ord` the
# canonical order of its components; `nd`, when given, the number of distinct rows
# (as distinct_rows() counts them) of data out of memory.
degenerate_reason <- function(fit, x, w, ord, control, nd = NULL) {
  if (!control$keep_degenerate) return(NULL)
  what <- sprintf("the chosen fit (%s, K = %d)", fit$model, length(ord))
  hint <- sprintf("; consider fewer components or a more constrained model%s, or keep_degenerate = FALSE",
                  if (is.null(control$prior)) ", control = gmm_control(prior = gmm_prior())" else "")
  if (is.null(nd)) nd <- distinct_rows(x, if (is.null(w)) rep(1, nrow(x)) else w, fit$df)
  if (fit$df >= nd) {
    return(sprintf("%s has %g free parameters but the data only %d distinct rows, so it is spurious%s.",
                   what, fit$df, nd, hint))
  }
  if (fit$degenerate[1L] != 0L) {
    j <- match(fit$degenerate[2L], ord)
    why <- if (fit$degenerate[1L] == 4L) spurious_reason(j, rows = fit$value) else spurious_reason(j, rc = fit$value)
    return(sprintf("%s is %s%s.", what, why, hint))
  }
  NULL
}

# ---- validation of the data ------------------------------------------------------

# x as a double matrix with column names, or an error saying what is wrong with it.
# With `keep`, a double matrix (of no class) is returned as it is, whatever its
# names, so that it is not copied (column_names() gives the names a fit uses).
as_data_matrix <- function(x, arg = "x", vector_name = "x", na_hint = arg == "x",
                           keep = FALSE) {
  if (is.data.frame(x)) {
    bad <- !vapply(x, function(col) is.numeric(col) && is.null(dim(col)), logical(1))
    if (any(bad)) {
      kinds <- vapply(x[bad], function(col) class(col)[1], character(1))
      stop(sprintf("`%s` must have numeric columns only; %s %s.", arg,
                   paste0("'", names(x)[bad], "' is ", kinds, collapse = ", "),
                   "(convert or drop them)"), call. = FALSE)
    }
    x <- as.matrix(x)
  } else if (is.numeric(x) && is.null(dim(x))) {   # also ts and other numeric classes
    x <- matrix(as.vector(x), ncol = 1L, dimnames = list(names(x), vector_name))
  } else if (!(is.matrix(x) && is.numeric(x))) {
    stop(sprintf("`%s` must be a numeric vector, matrix or data frame, not %s.", arg,
                 describe(x)), call. = FALSE)
  }
  if (nrow(x) == 0L || ncol(x) == 0L) {
    stop(sprintf("`%s` is empty (%d rows, %d columns).", arg, nrow(x), ncol(x)),
         call. = FALSE)
  }
  nm <- column_names(colnames(x), ncol(x), arg)
  # Attributes are set only where they differ, so that a double matrix already in
  # this form is not copied.
  if (!is.double(x)) storage.mode(x) <- "double"
  dn <- list(rownames(x), nm)   # row names kept when there are any
  if (!(keep && is.null(attr(x, "class"))) &&
      !identical(attributes(x), list(dim = dim(x), dimnames = dn))) {
    attributes(x) <- list(dim = dim(x), dimnames = dn)   # nothing else
  }
  if (!.Call(C_gmm_finite, x)) {   # the details only when something is wrong
    rows_with <- function(bad) which(rowSums(bad) > 0)
    if (anyNA(x)) {
      na <- rows_with(is.na(x))
      stop(sprintf("`%s` has missing values (NA or NaN) in %d row(s), the first row %d; %s",
                   arg, length(na), na[1],
                   if (na_hint) "drop them with na.action = na.omit (or na.exclude, which keeps their places in z, classification and uncertainty), or remove them first."
                   else "remove them first, e.g. with na.omit()."), call. = FALSE)
    }
    inf <- rows_with(is.infinite(x))
    stop(sprintf("`%s` has infinite values in %d row(s), the first row %d.", arg,
                 length(inf), inf[1]), call. = FALSE)
  }
  x
}

# Column names as every method uses them: none at all gives "x" (one column) or
# x1, x2, ...; a missing or empty name is named by its position, x<j>. Duplicated
# names are an error, since predict() matches new data to the fit by name.
column_names <- function(names, d, arg = "x", needed = NULL) {
  if (is.null(names)) return(if (d == 1L) "x" else paste0("x", seq_len(d)))
  blank <- is.na(names) | names == ""
  names[blank] <- paste0("x", which(blank))
  dup <- names[duplicated(names)]
  if (!is.null(needed)) dup <- intersect(dup, needed)   # for predict(): the fit's columns
  if (length(dup)) {
    where <- vapply(unique(dup), function(nm) {
      sprintf("'%s' (columns %s)", nm, paste(which(names == nm), collapse = ", "))
    }, character(1))
    stop(sprintf("`%s` has duplicated column names: %s; give the columns distinct names, e.g. with make.unique()%s.",
                 arg, paste(where, collapse = "; "),
                 if (any(blank)) ", where a missing or empty name counts as x<column number>" else ""),
         call. = FALSE)
  }
  names
}

# The name a vector argument is known by: `height` for gmm(height) and for
# gmm(heights$height), "x" for anything more complicated.
vector_name <- function(expr) {
  if (is.call(expr) && identical(expr[[1L]], as.name("$"))) expr <- expr[[3L]]
  if (is.name(expr)) as.character(expr) else "x"
}

# The "units" attribute of each column (a data frame's columns, or a vector), NA
# where there is none: plot.gmm() puts it in its axis labels.
data_units <- function(x) {
  one <- function(col) {
    u <- attr(col, "units")
    if (is.character(u) && length(u) == 1L) u else NA_character_
  }
  if (is.data.frame(x)) return(vapply(x, one, character(1), USE.NAMES = FALSE))
  if (is.null(dim(x))) return(one(x))
  rep(NA_character_, ncol(x))
}

check_weights <- function(weights, n) {
  if (is.null(weights)) return(rep(1, n))
  if (!is.numeric(weights) || length(weights) != n) {
    stop(sprintf("`weights` must be a numeric vector with one weight per row (%d), not %s.",
                 n, describe(weights)), call. = FALSE)
  }
  if (anyNA(weights) || any(!is.finite(weights)) || any(weights < 0)) {
    stop("`weights` must be finite and non-negative (no NA, Inf or negative values).",
         call. = FALSE)
  }
  if (all(weights == 0)) stop("`weights` are all zero.", call. = FALSE)
  if (!is.finite(sum(weights))) {
    stop(sprintf("`weights` sum to more than the largest double (%g); rescale them.",
                 .Machine$double.xmax), call. = FALSE)
  }
  as.double(weights)
}

# The fit works in weights rescaled to mean 1 over the rows of positive weight, so
# that its sums neither overflow nor underflow whatever the scale of `weights`
# (the maximum-likelihood estimates do not depend on it); `scale` turns the
# log-likelihood back into the units of `weights`, and `logn` is the log of their
# sum, the sample size of BIC.
weight_scale <- function(w, given = TRUE) {
  if (!given) return(list(w = w, scale = 1, logn = log(length(w))))   # all 1
  top <- max(w)
  w1 <- w / top
  w1[w > 0 & w1 == 0] <- .Machine$double.xmin   # a positive weight stays positive
  m <- mean(w1[w1 > 0])
  list(w = w1 / m, scale = top * m, logn = log(top) + log(sum(w1)))
}

# Rejects data on which no mixture has a density: fewer than two rows
# carrying weight, a column that is constant (unless the ridge `reg` makes the
# covariances positive definite anyway), or one whose spread over- or underflows.
check_columns <- function(x, w, reg, vars = colnames(x)) {
  npos <- if (min(w) > 0) length(w) else sum(w > 0)
  if (npos < 2L) {
    stop(sprintf("`x` must have at least 2 rows with positive weight, not %d.", npos),
         call. = FALSE)
  }
  cs <- .Call(C_gmm_colstats, x, w)   # over the rows of positive weight
  const <- cs$constant
  if (any(const) && reg == 0) {
    stop(sprintf("`x` %s constant, so no Gaussian has a density there; drop %s, or add a ridge with control = gmm_control(reg = ...).",
                 columns_are(vars[const]), if (sum(const) > 1L) "them" else "it"),
         call. = FALSE)
  }
  v <- cs$var
  bad <- !const & !(v > 1e-250 & v < 1e250)
  if (any(bad)) {
    stop(sprintf("`x` %s outside 1e-250 to 1e250 in variance (%s), where covariances cannot be represented in double precision; rescale first (e.g. with scale()).",
                 columns_are(vars[bad]),
                 paste(format(v[bad], digits = 3), collapse = ", ")), call. = FALSE)
  }
  invisible()
}

# "column 'a' is" or "columns 'a', 'b' are".
columns_are <- function(names) {
  sprintf("%s %s %s", if (length(names) > 1L) "columns" else "column",
          paste0("'", names, "'", collapse = ", "), if (length(names) > 1L) "are" else "is")
}

check_k <- function(k, npos) {
  k <- check_whole(k, "k", min = 1)
  if (any(k > npos)) {
    stop(sprintf("`k` must be at most the number of rows with positive weight (%d), not %d.",
                 npos, max(k)), call. = FALSE)
  }
  sort(unique(k))
}

# ---- the object ----------------------------------------------------------------

# Builds the gmm object from the sweep's result (fit_grid()); the only place that
# does, and where a sweep that fitted no cell is an error. Its chosen fit has its
# components already in canonical order (by ascending mean, first coordinate first;
# fit$order says where each was in the fit) and its responsibilities as a matrix
# that computes itself when first read (src/lazyz.c). The object holds x as it was given (not a
# copy: `vars` are the column names the fit uses), the weights only when they were
# given, and, per row, only the responsibilities: `$.gmm` derives the classification
# and the uncertainty from them.
new_gmm <- function(grid, x, vars, w, call, control, init, criterion, n = nrow(x),
                    nd = NULL) {
  if (is.null(grid$best)) {
    stop("no (K, model) combination could be fitted:\n",
         format_reasons(attr(grid$bic_table, "reasons")),
         "\nTry fewer components, other models, gmm_control(reg = ...) or, to fit cells that would be spurious, gmm_control(keep_degenerate = TRUE).",
         call. = FALSE)
  }
  fit <- grid$best
  ord <- fit$order
  comps <- as.character(seq_along(ord))
  mean <- fit$mean
  dimnames(mean) <- list(vars, comps)
  sigma <- fit$sigma
  dimnames(sigma) <- list(vars, vars, comps)
  pro <- stats::setNames(fit$pro[seq_along(ord)], comps)   # the Gaussians' (noise apart)
  if (!fit$converged) {
    warning(sprintf("EM did not converge for model %s with K = %d within max_iter = %d iterations; see gmm_control().",
                    fit$model, length(ord), control$max_iter), call. = FALSE)
  }
  if (!fit$inner_converged) {
    warning(sprintf("the M-step of model %s did not converge within inner_max_iter = %d iterations; see gmm_control().",
                    fit$model, control$inner_max_iter), call. = FALSE)
  }
  out <- structure(list(
    call = call,
    data = x,
    n = n,
    d = length(vars),
    k = length(ord),
    model = fit$model,
    parameters = list(pro = pro, mean = mean, sigma = sigma),
    loglik = fit$loglik,
    df = fit$df,
    bic = fit$bic,
    icl = fit$bic + 2 * fit$entropy,   # the entropy summed by the E-step (weight 0 adds 0)
    z = fit$z,
    iterations = fit$iterations,
    converged = fit$converged,
    inner_fail = fit$inner_fail,
    loglik_trace = fit$trace,
    start = fit$start,
    screened = fit$screened,
    bic_table = grid$bic_table,
    icl_table = grid$icl_table,
    aic_table = grid$aic_table,
    aic = -2 * fit$loglik + 2 * fit$df,
    criterion = criterion,
    weights = w,
    control = control,
    init = init
  ), class = "gmm")
  out$degenerate <- degenerate_reason(fit, x, w, ord, control, nd)
  out
}

# The per-row results that a gmm object derives from its responsibilities rather
# than store: `classification` (the component of largest responsibility, 0 for the
# noise component, NA for rows padded by na.exclude) and `uncertainty` (1 minus
# the largest responsibility). Every other element is read as from a list.

#' @export
`$.gmm` <- function(x, name) {
  derived <- c("classification", "uncertainty")
  full <- c(names(x), derived)
  hit <- full[pmatch(name, full)]   # as `$` on a list: exact, else a unique partial match
  if (!is.na(hit) && hit %in% derived) return(derived_rows(x, hit))
  .subset2(x, name, exact = FALSE)
}

#' @export
`[[.gmm` <- function(x, i, ...) {
  if (is.character(i) && length(i) == 1L && i %in% c("classification", "uncertainty")) {
    return(derived_rows(x, i))
  }
  .subset2(x, i, ...)
}

derived_rows <- function(x, name) {
  stored <- .subset2(x, name)   # objects built by other functions (gmm_da's plot) may hold it
  if (!is.null(stored)) return(stored)
  z <- .subset2(x, "z")
  if (is.null(z)) return(NULL)
  out <- .Call(C_gmm_classify, z)[[name]]
  if (name == "classification" && !is.null(.subset2(x, "noise"))) out[out %in% ncol(z)] <- 0L
  stats::setNames(out, rownames(z))
}

# The column names of the data a fit was fitted to.
data_vars <- function(fit) {
  vars <- rownames(fit$parameters$mean)
  if (is.null(vars)) colnames(fit$data) else vars
}

# The fit's data with the column names the fit uses (a copy when x had others).
fit_data <- function(fit) {
  x <- fit$data
  vars <- data_vars(fit)
  if (!identical(colnames(x), vars)) colnames(x) <- vars
  x
}

# The fit's frequency weights: 1 for every fitted row when none were given.
fit_weights <- function(fit) {
  w <- fit$weights
  if (is.null(w)) rep(1, fit$n) else w
}
