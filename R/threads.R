#' The number of threads gaussmix uses by default
#'
#' [gmm()] runs its sweep of (K, model) cells, each pass over the rows, and the
#' pair costs of its VVV hierarchical start (with Ward's tree beside the VVV
#' tree's merges) on `gmm_threads()` threads unless its `threads` argument says
#' otherwise. As in
#' 'data.table', the default aims at one thread per physical core, leaving the
#' hyperthreads (the other half of the logical cores on most machines) idle:
#'
#' * the option `gaussmix.threads`, when set (e.g.
#'   `options(gaussmix.threads = 4)`), or else the environment variable
#'   `GAUSSMIX_NUM_THREADS`;
#' * otherwise the number of physical cores as [parallel::detectCores()] reports
#'   it with `logical = FALSE`, or half the logical cores where it cannot tell;
#' * never more than `OMP_THREAD_LIMIT` or `OMP_NUM_THREADS` when they are set,
#'   so that a job scheduler's limits hold;
#' * at most 2 when `_R_CHECK_LIMIT_CORES_` is set, as `R CMD check --as-cran`
#'   does.
#'
#' The number of threads never changes a result: the rows are summed in fixed
#' chunks in a fixed order, and each (K, model) cell is fitted the same way
#' whichever thread runs it, so fits are bitwise identical for any thread count.
#' Idle threads sleep rather than spin, so threads do not slow a fit down when
#' other processes keep the cores busy. Where POSIX threads are not available
#' (Windows builds of this version), everything runs on one thread.
#'
#' @return A whole number, at least 1.
#' @seealso [gmm()]
#' @export
#' @examples
#' gmm_threads()
#' op <- options(gaussmix.threads = 1)
#' gmm_threads()
#' options(op)
gmm_threads <- function() {
  n <- getOption("gaussmix.threads")
  if (is.null(n)) n <- env_whole("GAUSSMIX_NUM_THREADS")
  if (!is.null(n)) {
    n <- check_whole(n, "getOption(\"gaussmix.threads\")", min = 1)
    if (length(n) != 1L) stop("`getOption(\"gaussmix.threads\")` must be a single whole number.", call. = FALSE)
  } else {
    n <- physical_cores()
  }
  for (v in c("OMP_THREAD_LIMIT", "OMP_NUM_THREADS")) {
    lim <- env_whole(v)
    if (!is.null(lim)) n <- min(n, lim)
  }
  check <- Sys.getenv("_R_CHECK_LIMIT_CORES_", "")
  if (nzchar(check) && !identical(tolower(check), "false")) n <- min(n, 2L)
  as.integer(max(1L, min(n, 1024L)))
}

# A positive whole number from an environment variable, or NULL when it is unset or
# not one (OMP_NUM_THREADS may be a list such as "4,2": its first entry counts).
env_whole <- function(var) {
  v <- suppressWarnings(as.numeric(strsplit(Sys.getenv(var, ""), ",", fixed = TRUE)[[1]][1]))
  if (length(v) == 1L && !is.na(v) && v >= 1 && v == round(v)) as.integer(min(v, 1024)) else NULL
}

# Physical cores, found once per session.
physical_cores <- function() {
  if (is.null(the$cores)) {
    n <- tryCatch(parallel::detectCores(logical = FALSE), error = function(e) NA)
    if (is.na(n) || n < 1) {
      l <- tryCatch(parallel::detectCores(), error = function(e) NA)
      n <- if (is.na(l)) 1L else max(1L, l %/% 2L)
    }
    the$cores <- as.integer(n)
  }
  the$cores
}

the <- new.env(parent = emptyenv())
