# Rows out of memory: a bigmemory::big.matrix (file-backed or shared), read in
# blocks, or the shards of a `parallel` cluster (gmm_shards()), each worker holding
# its own rows. EM needs of each pass only sums over the rows (src/source.c), so a
# pass runs the C pass on each piece, where the piece is, and adds the pieces' sums
# in a fixed order: the result does not depend on timing, and the rows do not
# travel. A source is a list:
#   kind   "big.matrix" or "shards"
#   data   the user's object (kept in the fit as its `data`)
#   n, d   rows and columns; names, the column names the fit uses
#   rows(i)       the rows i (increasing) as a double matrix in memory
#   map(fun, ...) fun(piece, ...) for each piece of the rows, in order (a list)
#   file          for a file-backed big.matrix of doubles that covers its whole
#                 file, the file: passes and the scan read it from C directly
#                 (src/source.c), without R's allocations or the mapping's page
#                 faults; else NULL

#' Data held by the workers of a parallel cluster
#'
#' Describes data spread over the workers of a `parallel` cluster, each worker
#' holding its own rows in a variable of its global environment, so that [gmm()]
#' fits them where they are: each EM pass sends the parameters to every worker,
#' each worker runs the C pass on its rows and returns its sums (per component:
#' size, first moments, scatter), and the sums are added in the workers' order, so
#' the fit equals the fit to the rows put together (to rounding) and does not
#' depend on timing. The rows never travel, except the subset of at most
#' `gmm_control()$hc_max_n` rows that the starts are computed from.
#'
#' The workers need gaussmix installed (they load it when they first run a pass).
#' Each worker's pass uses the `threads` given to [gmm()] (by default
#' [gmm_threads()] of the calling session): with several workers on one machine,
#' `threads = 1` keeps them from competing for its cores. If a fit is interrupted
#' while the workers run a pass, their replies stay unread on the connections
#' (as with any `parallel` call), and the next call on the cluster would read
#' them: restart the cluster after an interrupt.
#'
#' @param cl A cluster from [parallel::makeCluster()] (PSOCK workers, on this host
#'   or others over SSH, or MPI workers), or from `parallelly`.
#' @param name The name of the variable that holds the rows on every worker: a
#'   numeric matrix (or vector, for 1-D data) with the same columns on all of them,
#'   by name when they have names. Workers may hold different numbers of rows, and
#'   a worker may hold none (a matrix with 0 rows).
#' @return An object of class `gmm_shards` (the cluster, the name, the rows on each
#'   worker and the column names), for [gmm()] and [predict.gmm()].
#' @seealso [gmm()], which also takes a file-backed `bigmemory::big.matrix`, and
#'   `vignette("scale", package = "gaussmix")` on when to use which.
#' @export
#' @examples
#' \donttest{
#' cl <- parallel::makeCluster(2)
#' x <- as.matrix(faithful)
#' # each worker holds its own half of the rows
#' parallel::clusterApply(cl, list(x[1:136, ], x[137:272, ]), function(part) {
#'   assign("rows", part, envir = globalenv())
#'   NULL
#' })
#' shards <- gmm_shards(cl, "rows")
#' shards
#' fit <- gmm(shards, k = 2, model = "VVV")
#' all.equal(fit$loglik, gmm(x, k = 2, model = "VVV")$loglik)
#' # the classes stay on the workers, in the variable `rows_class`
#' predict(fit, shards, name = "rows_class")
#' parallel::clusterEvalQ(cl, table(rows_class))
#' parallel::stopCluster(cl)
#' }
gmm_shards <- function(cl, name) {
  if (!inherits(cl, "cluster")) {
    stop(sprintf("`cl` must be a cluster from parallel::makeCluster(), not %s.", describe(cl)),
         call. = FALSE)
  }
  if (!is.character(name) || length(name) != 1L || is.na(name) || !nzchar(name)) {
    stop("`name` must be the name of a variable on the workers (a single string).", call. = FALSE)
  }
  info <- parallel::clusterCall(cl, shard_info, name)
  bad <- vapply(info, function(i) !is.null(i$problem), logical(1))
  if (any(bad)) {
    stop(sprintf("`%s` on worker %d %s.", name, which(bad)[1], info[[which(bad)[1]]]$problem),
         call. = FALSE)
  }
  d <- vapply(info, `[[`, 1L, "d")
  if (any(d != d[1])) {
    stop(sprintf("`%s` must have the same columns on every worker; it has %s columns.", name,
                 paste(d, collapse = ", ")), call. = FALSE)
  }
  names <- lapply(info, `[[`, "names")
  if (!all(vapply(names, identical, logical(1), names[[1]]))) {
    stop(sprintf("`%s` must have the same column names on every worker.", name), call. = FALSE)
  }
  sizes <- vapply(info, `[[`, 1, "n")
  if (sum(sizes) > .Machine$integer.max) {
    stop(sprintf("the workers hold %.0f rows together, more than %d.", sum(sizes),
                 .Machine$integer.max), call. = FALSE)
  }
  structure(list(cl = cl, name = name, sizes = sizes, d = d[1],
                 names = column_names(names[[1]], d[1])),
            class = "gmm_shards")
}

#' @export
print.gmm_shards <- function(x, ...) {
  cat(sprintf("Data on %d workers of a cluster, in `%s`: %.0f rows (%s), %d column%s (%s)\n",
              length(x$sizes), x$name, sum(x$sizes), paste(format(x$sizes, trim = TRUE), collapse = " + "),
              x$d, if (x$d > 1L) "s" else "", paste(x$names, collapse = ", ")))
  invisible(x)
}

# On a worker: what gmm_shards() checks of the variable `name`.
shard_info <- function(name) {
  if (!exists(name, envir = globalenv(), inherits = FALSE)) return(list(problem = "does not exist"))
  x <- get(name, envir = globalenv(), inherits = FALSE)
  if (is.numeric(x) && is.null(dim(x))) return(list(n = length(x), d = 1L, names = NULL))
  if (!(is.matrix(x) && is.numeric(x))) {
    return(list(problem = sprintf("must be a numeric matrix, not %s", describe(x))))
  }
  list(n = nrow(x), d = ncol(x), names = colnames(x))
}

# On a worker: its rows as a double matrix.
shard_rows <- function(name) {
  x <- get(name, envir = globalenv(), inherits = FALSE)
  if (is.null(dim(x))) x <- matrix(x, ncol = 1L)
  if (!is.double(x)) storage.mode(x) <- "double"
  x
}

# On a worker: fun on its rows.
shard_apply <- function(name, fun, ...) fun(shard_rows(name), ...)

# On a worker: its rows `i` (local numbers).
shard_take <- function(i, name) shard_rows(name)[i, , drop = FALSE]

# The source of gmm()'s `x`, or NULL when x is in memory.
as_source <- function(x) {
  if (inherits(x, "gmm_shards")) return(shard_source(x))
  if (inherits(x, "big.matrix")) return(big_source(x))
  NULL
}

shard_source <- function(s) {
  offset <- c(0, cumsum(s$sizes))
  list(
    kind = "shards", data = s, n = as.integer(sum(s$sizes)), d = s$d, names = s$names,
    rows = function(i) {
      idx <- lapply(seq_along(s$sizes), function(j) {
        i[i > offset[j] & i <= offset[j + 1L]] - offset[j]
      })
      parts <- parallel::clusterApply(s$cl, idx, shard_take, name = s$name)
      do.call(rbind, parts)
    },
    map = function(fun, ...) parallel::clusterCall(s$cl, shard_apply, s$name, fun, ...)
  )
}

# Rows per block of a big.matrix: about 32 MB of doubles (option
# "gaussmix.block_rows").
big_source <- function(x) {
  if (!requireNamespace("bigmemory", quietly = TRUE)) {
    stop("fitting a big.matrix needs the bigmemory package; install it.", call. = FALSE)
  }
  if (nrow(x) > .Machine$integer.max) {
    stop(sprintf("`x` has %.0f rows, more than %d.", nrow(x), .Machine$integer.max), call. = FALSE)
  }
  n <- as.integer(nrow(x))
  d <- as.integer(ncol(x))
  block <- getOption("gaussmix.block_rows", max(256, floor(2^22 / d)))
  block <- check_whole(block, "getOption(\"gaussmix.block_rows\")", min = 1)
  first <- seq(1, n, by = block)
  read <- function(i) {
    b <- x[i, , drop = FALSE]
    if (!is.double(b)) storage.mode(b) <- "double"
    b
  }
  list(
    kind = "big.matrix", data = x, n = n, d = d, names = column_names(colnames(x), d),
    file = big_file(x),
    rows = read,
    map = function(fun, ...) {
      lapply(first, function(i0) fun(read(i0:min(n, i0 + block - 1)), ...))
    }
  )
}

# The file of a file-backed big.matrix that C can read as it is (doubles, one file,
# column after column, all of it), or NULL. Not on Windows, which lacks pread().
big_file <- function(x) {
  if (.Platform$OS.type != "unix" || !bigmemory::is.filebacked(x) ||
      bigmemory::is.separated(x)) {
    return(NULL)
  }
  desc <- bigmemory::describe(x)@description
  whole <- desc$totalRows == nrow(x) && desc$totalCols == ncol(x) &&
    all(desc$rowOffset == c(0, nrow(x))) && all(desc$colOffset == c(0, ncol(x)))
  path <- file.path(bigmemory::dir.name(x), bigmemory::file.name(x))
  if (identical(desc$type, "double") && whole && file.exists(path) &&
      file.size(path) >= 8 * nrow(x) * ncol(x)) path
}

# One pass of the C core over a piece (src/source.c): c(status, ll, entropy, sums),
# and the sums of Newton's steps when hs (their coordinates) is not empty.
piece_pass <- function(x, pro, mean, chol, logdet, flags, hs, threads) {
  if (nrow(x) == 0L) return(NULL)
  .Call(C_gmm_pass_stats, x, pro, mean, chol, logdet, c(flags, as.integer(threads)), hs)
}

# The pieces' results of piece_pass added in order (status: the largest).
add_pieces <- function(parts) {
  parts <- parts[!vapply(parts, is.null, logical(1))]
  out <- parts[[1]]
  for (p in parts[-1]) {
    st <- max(out[1], p[1])
    out <- out + p
    out[1] <- st
  }
  out
}

# The function the C sweep calls for a pass over the source's rows.
source_pass <- function(src, threads) {
  force(src)
  force(threads)
  if (!is.null(src$file)) {
    size <- as.double(c(src$n, src$d))
    return(function(pro, mean, chol, logdet, flags, hs) {
      .Call(C_gmm_file_pass, src$file, size, pro, mean, chol, logdet,
            c(flags, as.integer(threads)), hs)
    })
  }
  function(pro, mean, chol, logdet, flags, hs) {
    add_pieces(src$map(piece_pass, pro, mean, chol, logdet, flags, hs, threads))
  }
}

# One scan of a piece: its rows, whether all are finite, its sums about c0 (columns
# and cross-products) and its columns' ranges.
piece_scan <- function(x, c0) {
  if (nrow(x) == 0L) return(NULL)
  c(list(n = nrow(x)), .Call(C_gmm_scan, x, as.double(dim(x)), c0))
}

# What gmm() checks and needs of all rows, in one pass: an error for non-finite values
# or a constant column (as check_columns() says for data in memory); else the
# column means and variances (divisor n), the covariance matrix (divisor n - 1) and
# the scatter about the mean.
source_moments <- function(src, c0, reg) {
  parts <- if (is.null(src$file)) src$map(piece_scan, c0)
           else list(c(list(n = src$n),
                       .Call(C_gmm_scan, src$file, as.double(c(src$n, src$d)), c0)))
  where <- if (src$kind == "shards") "worker" else "block"
  bad <- which(vapply(parts, function(p) !is.null(p) && !p$finite, logical(1)))
  parts <- parts[!vapply(parts, is.null, logical(1))]
  if (length(bad)) {
    stop(sprintf("`x` has missing or infinite values (in %s %d); remove them first.", where,
                 bad[1]), call. = FALSE)
  }
  n <- sum(vapply(parts, `[[`, 1, "n"))
  s1 <- Reduce(`+`, lapply(parts, `[[`, "s1"))
  s2 <- Reduce(`+`, lapply(parts, `[[`, "s2"))
  lo <- do.call(pmin, lapply(parts, `[[`, "lo"))
  hi <- do.call(pmax, lapply(parts, `[[`, "hi"))
  scatter <- s2 - tcrossprod(s1) / n
  var <- diag(scatter) / n
  const <- lo == hi
  if (any(const) && reg == 0) {
    stop(sprintf("`x` %s constant, so no Gaussian has a density there; drop %s, or add a ridge with control = gmm_control(reg = ...).",
                 columns_are(src$names[const]), if (sum(const) > 1L) "them" else "it"),
         call. = FALSE)
  }
  bad <- !const & !(var > 1e-250 & var < 1e250)
  if (any(bad)) {
    stop(sprintf("`x` %s outside 1e-250 to 1e250 in variance (%s), where covariances cannot be represented in double precision; rescale first (e.g. with scale()).",
                 columns_are(src$names[bad]), paste(format(var[bad], digits = 3), collapse = ", ")),
         call. = FALSE)
  }
  list(n = n, mean = c0 + s1 / n, var = var, cov = scatter / (n - 1), scatter = scatter)
}

# predict() on rows out of memory: the fit's parameters go to each piece (not the
# fit, whose data may be the cluster itself).
predict_source <- function(object, src, type, out, name) {
  vars <- data_vars(object)
  if (src$d != length(vars)) {
    stop(sprintf("`newdata` must have %d column%s (%s), not %d.", length(vars),
                 if (length(vars) > 1L) "s" else "", paste(vars, collapse = ", "), src$d),
         call. = FALSE)
  }
  light <- structure(list(parameters = object$parameters, k = object$k, d = object$d,
                          noise = object$noise), class = "gmm")
  width <- if (type == "prob") object$k + !is.null(object$noise) else 1L
  if (src$kind == "shards") {
    if (is.null(name)) name <- paste0(src$data$name, "_", type)
    if (!is.character(name) || length(name) != 1L || is.na(name) || !nzchar(name)) {
      stop("`name` must be a single string, the variable for the results on the workers.",
           call. = FALSE)
    }
    src$map(piece_predict, light, type, name)
    return(gmm_shards(src$data$cl, name))
  }
  if (is.null(out) && !is.null(src$file) && is.null(object$noise)) {   # read from C
    p <- object$parameters
    code <- switch(type, class = 0L, prob = 1L, 2L)   # else the log density
    r <- .Call(C_gmm_file_estep, src$file, as.double(c(src$n, src$d)), unname(p$pro),
               unname(p$mean), unname(p$sigma), code, gmm_threads())
    if (type == "prob") colnames(r) <- names(p$pro)
    return(if (type == "density") exp(r) else r)
  }
  if (is.null(out)) return(do_rows(src$map(piece_predict, light, type)))
  if (!inherits(out, "big.matrix") || nrow(out) != src$n || ncol(out) != width) {
    stop(sprintf("`out` must be a big.matrix of %.0f rows and %d column%s.", src$n, width,
                 if (width > 1L) "s" else ""), call. = FALSE)
  }
  at <- 0
  src$map(function(x) {
    r <- as.matrix(piece_predict(x, light, type))
    out[at + seq_len(nrow(r)), ] <- r
    at <<- at + nrow(r)
    NULL
  })
  out
}

# On a piece: predict() for its rows, kept in the variable `name` of the worker
# when it is given (then the value is only the number of rows).
piece_predict <- function(x, light, type, name = NULL) {
  r <- if (nrow(x) == 0L) NULL else stats::predict(light, unname(x), type = type)
  if (is.null(name)) return(r)
  if (is.null(r)) {   # no rows: an empty result of the others' kind
    cols <- c(names(light$parameters$pro), if (!is.null(light$noise)) "noise")
    r <- switch(type, prob = matrix(0, 0, length(cols), dimnames = list(NULL, cols)),
                class = integer(0), numeric(0))
  }
  # Into the worker's workspace, where gmm_shards() finds data, under the name the
  # caller gave (predict(name =)); this runs only on the workers. (R CMD check
  # notes assign(envir = globalenv()) as a package writing to the user's
  # workspace; here that is what was asked for, on the workers.)
  workspace <- globalenv()
  assign(name, r, envir = workspace)
  NROW(r)
}

# The pieces' results put together: vectors end to end, matrices row on row.
do_rows <- function(parts) {
  parts <- parts[!vapply(parts, is.null, logical(1))]
  if (is.matrix(parts[[1]])) do.call(rbind, parts) else unlist(parts, use.names = FALSE)
}

# Whether a fit's rows are out of memory (then it holds no responsibilities).
out_of_memory <- function(fit) inherits(fit$data, c("big.matrix", "gmm_shards"))

# An error for methods that need the fitted rows in memory.
need_rows <- function(fit, what) {
  if (out_of_memory(fit)) {
    stop(sprintf("%s needs the fitted rows in memory, and this fit's rows are in a %s; predict(fit) gives the per-row results.",
                 what, if (inherits(fit$data, "gmm_shards")) "cluster (gmm_shards())" else "big.matrix"),
         call. = FALSE)
  }
  invisible()
}

# On a piece: its distinct rows, at most enough + 1 of them.
piece_distinct <- function(x, enough) {
  u <- unique(x)
  u[seq_len(min(nrow(u), enough + 1)), , drop = FALSE]
}

# The number of distinct rows of the source, or enough + 1 when there are more
# (the subset's count when it already exceeds `enough`).
source_distinct <- function(src, xs, enough) {
  nd <- distinct_rows(xs, rep(1, nrow(xs)), enough)
  if (nd > enough || nrow(xs) == src$n) return(nd)
  u <- unique(do.call(rbind, src$map(piece_distinct, enough)))
  min(nrow(u), enough + 1)
}
