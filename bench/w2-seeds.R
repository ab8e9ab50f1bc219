# Workload 2 of bench/speed.R on several seeds: the model each package chooses and
# its BIC (R's sign, smaller is better), and whether gaussmix's is no worse.
#   Rscript bench/w2-seeds.R [seeds]     (default 1:5)
suppressPackageStartupMessages({library(gaussmix); library(mclust)})
args <- commandArgs(trailingOnly = TRUE)
seeds <- if (length(args)) as.integer(args) else 1:5
for (seed in seeds) {
  set.seed(seed); n <- 10000; d <- 2; k <- 4   # as data_code() in bench/speed.R
  centres <- matrix(rnorm(d * k, sd = 1.5), d)
  cl <- sample.int(k, n, replace = TRUE)
  x <- t(centres[, cl]) + matrix(rnorm(n * d), n)
  colnames(x) <- paste0("v", seq_len(d))
  tg <- system.time(g <- gmm(x))[["elapsed"]]
  tm <- system.time(m <- Mclust(x, verbose = FALSE))[["elapsed"]]
  cat(sprintf("seed %d: gaussmix %s,%d BIC %.3f (%.2f s); mclust %s,%d BIC %.3f (%.2f s); %s\n",
              seed, g$model, g$k, g$bic, tg, m$modelName, m$G, -m$bic, tm,
              if (g$bic <= -m$bic + 1e-6 * abs(m$bic)) "no worse" else "WORSE"))
}
