# Workload 2 of bench/speed.R on several seeds: the model each package chooses and
# its BIC (R's sign, smaller is better), and whether gaussmix's is no worse.
#   Rscript bench/w2-seeds.R [seeds]     (default 1:5; from the package root)
suppressPackageStartupMessages({library(gaussmix); library(mclust)})
args <- commandArgs(trailingOnly = TRUE)
seeds <- if (length(args)) as.integer(args) else 1:5
source("bench/common.R")   # data_code()
for (seed in seeds) {
  eval(parse(text = data_code(10000, 2, 4, seed)))   # x, as in bench/speed.R
  tg <- system.time(g <- gmm(x))[["elapsed"]]
  tm <- system.time(m <- Mclust(x, verbose = FALSE))[["elapsed"]]
  cat(sprintf("seed %d: gaussmix %s,%d BIC %.3f (%.2f s); mclust %s,%d BIC %.3f (%.2f s); %s\n",
              seed, g$model, g$k, g$bic, tg, m$modelName, m$G, -m$bic, tm,
              if (g$bic <= -m$bic + 1e-6 * abs(m$bic)) "no worse" else "WORSE"))
}
