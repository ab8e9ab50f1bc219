# Time of the default sweep gmm(x) (every model, K = 1:9, one thread) over the seven
# data sets of bench/init-compare.R: the median of three runs of the total. Give a
# library path to time another installed version of gaussmix, for a before/after
# comparison in one session:
#   Rscript bench/sweep-time.R [lib]
lib <- commandArgs(TRUE)[1]
suppressPackageStartupMessages({
  library(gaussmix, lib.loc = if (!is.na(lib) && nzchar(lib)) lib else NULL)
})
e <- new.env()
data(list = c("diabetes", "banknote", "wreath", "acidity"), package = "mclust", envir = e)
sets <- list(faithful = faithful, iris = iris[1:4], diabetes = e$diabetes[-1],
             banknote = e$banknote[-1], wreath = e$wreath,
             acidity = as.numeric(unlist(e$acidity)), galaxies = MASS::galaxies / 1000)
tot <- vapply(1:3, function(r) {
  sum(vapply(sets, function(x) system.time(suppressWarnings(gmm(x)))[["elapsed"]], numeric(1)))
}, numeric(1))
cat(sprintf("gaussmix %s from %s: median total %.3f s (runs %s)\n",
            packageVersion("gaussmix"), dirname(find.package("gaussmix")),
            median(tot), paste(format(tot, digits = 3), collapse = ", ")))
