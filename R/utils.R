# Small argument checks shared by the exported functions. Each error names the
# argument, says what was expected, and what was given.

describe <- function(x) {
  if (is.null(x)) return("NULL")
  if (is.data.frame(x)) return(sprintf("a data frame with %d rows", nrow(x)))
  cls <- if (is.matrix(x)) paste(typeof(x), "matrix")
         else if (is.object(x)) class(x)[1]   # a Date, a factor: what the user sees
         else typeof(x)
  if (length(x) == 1L && is.atomic(x)) return(sprintf("%s %s", cls, format(x)))
  sprintf("%s of length %d", cls, length(x))
}

check_number <- function(x, arg, min = -Inf) {
  if (!is.numeric(x) || length(x) != 1L || is.na(x) || !is.finite(x) || x < min) {
    stop(sprintf("`%s` must be a single finite number >= %s, not %s.", arg, format(min),
                 describe(x)), call. = FALSE)
  }
  invisible(x)
}

# Whole numbers >= min, returned as integer.
check_whole <- function(x, arg, min = 1) {
  if (!is.numeric(x) || length(x) == 0L || anyNA(x) || any(!is.finite(x)) ||
      any(x != round(x)) || any(x < min) || any(abs(x) > .Machine$integer.max)) {
    stop(sprintf("`%s` must be whole number(s) >= %d, not %s.", arg, min, describe(x)),
         call. = FALSE)
  }
  as.integer(x)
}

# The random number generator for a function with a `seed` argument, as
# stats::simulate() handles it: with a seed, the generator is set from it and
# `restore()` (to be called on exit) puts the caller's state back; `rng` is what
# was used, the seed with the generator's kinds or .Random.seed as it was.
use_seed <- function(seed) {
  if (!exists(".Random.seed", envir = globalenv(), inherits = FALSE)) stats::runif(1)
  old <- get(".Random.seed", envir = globalenv())
  if (is.null(seed)) return(list(rng = old, restore = function() invisible()))
  set.seed(seed)
  list(rng = structure(seed, kind = as.list(RNGkind())),
       restore = function() assign(".Random.seed", old, envir = globalenv()))
}
