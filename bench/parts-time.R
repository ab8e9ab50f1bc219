# Times the parts of bench/speed.R's workloads that the third speed session changed,
# in one process, for the installed gaussmix or the one in a given library, so that
# two versions can be compared in interleaved runs:
#   Rscript bench/parts-time.R [lib]     (from the package root)
# - tree: the VVV hierarchical start on workload 2's data (2,000 rows, d = 2), as
#   gmm() runs it (mclust's "SVD" transformation, then the agglomeration); median of 5;
# - VVV iteration: one plain EM iteration at workload 1's size (n = 2e5, d = 10,
#   K = 10, gmm_threads() threads), the difference between the medians of five fits
#   of 21 and of 1 iterations, divided by 20;
# - sweep: workload 2's default gmm(x), median of 5;
# - ward 1-D: Ward's tree on workload 4's 2,000 heights, as gmm() runs it (whitened),
#   median of 11 means of 50 calls;
# - heights: workload 4's default gmm(x), median of 11 means of 20 calls.
lib <- commandArgs(TRUE)[1]
suppressPackageStartupMessages({
  library(gaussmix, lib.loc = if (!is.na(lib) && nzchar(lib)) lib else NULL)
})
ns <- asNamespace("gaussmix")
source("bench/common.R")   # data_code(), heights_code
workload <- function(n, d, k, seed) {   # x and start, as bench/speed.R makes them
  e <- new.env()
  eval(parse(text = data_code(n, d, k, seed)), e)
  list(x = e$x, start = e$start)
}
med <- function(reps, f) median(vapply(seq_len(reps), function(i) system.time(f())[["elapsed"]], 0))
# for what takes milliseconds: the median over `reps` of the mean of `each` calls
# (system.time() counts whole milliseconds)
med_each <- function(reps, each, f) med(reps, function() for (j in seq_len(each)) f()) / each

x2 <- workload(10000, 2, 4, 2)$x
set.seed(1)
sub <- x2[sort(sample.int(10000, 2000)), ]
w <- rep(1, 2000)
y <- ns$svd_scaled(sub, w)
tree <- med(5, if (ns$C_gmm_hcvvv$numParameters == 4L) {
  function() .Call(ns$C_gmm_hcvvv, y, w, 9L, gmm_threads())
} else {   # builds before the tree's first stage took threads
  function() .Call(ns$C_gmm_hcvvv, y, w, 9L)
})

w1 <- workload(2e5, 10, 10, 1)
fit_iter <- function(it) function() {
  suppressWarnings(gmm(w1$x, k = 10, model = "VVV", init = w1$start,
                       control = gmm_control(max_iter = it, tol = 0, accelerate = FALSE)))
}
iter <- (med(5, fit_iter(21)) - med(5, fit_iter(1))) / 20

sweep <- med(5, function() suppressWarnings(gmm(x2)))

h <- local({ eval(parse(text = heights_code)); x })   # workload 4 of bench/speed.R
hw <- ns$whitened(matrix(h), w)
ward <- med_each(11, 50, function() .Call(ns$C_gmm_ward, hw, w, 9L))
heights <- med_each(11, 20, function() suppressWarnings(gmm(h)))
cat(sprintf("%-45s tree %.3f s   VVV iteration %.4f s   sweep %.3f s   ward 1-D %.5f s   heights %.4f s\n",
            dirname(find.package("gaussmix")), tree, iter, sweep, ward, heights))
