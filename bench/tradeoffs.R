# What workloads 2 and 3 of bench/speed.R would gain from looser settings than
# gmm()'s defaults, and what each would cost; bench/README.md reads it together
# with bench/init-compare.R run with the same settings.
#
# Workload 2 (the default sweep, n = 1e4, d = 2), first, while the process is
# small: the time and the chosen fit's BIC (R's sign, smaller is better) with the
# default control, without cross starts, and with a looser screening tolerance,
# against mclust's choice (which depends on the 2,000-row subset its hierarchical
# start draws, hence on the state of R's random numbers).
#
# Workload 3 (one VVV fit, n = 1e6, d = 2, K = 3) at the default tolerance and at
# looser ones: the time of the whole call and how far its log-likelihood ends below
# the maximum, which a long run (tol = 1e-13) stands in for. mclust's and
# scikit-learn's default fits of the same data (scikit-learn when a python3 with
# sklearn is found, as in bench/speed.R) give the same two numbers, and so do
# scikit-learn's fits with tighter tolerances (1e-5 and 1e-6 on the mean
# log-likelihood per row, so 10 and 1 units here), for its time at a precision
# nearer gaussmix's; the ratios are to the default fits. Each gaussmix
# setting runs `reps` times in one process; each call draws its own 2,000-row
# subset for the hierarchical start, as the calls of bench/speed.R do.
#
# bench/tradeoffs-init-compare.out holds the summary lines of bench/init-compare.R
# run with the looser settings, each block ending in the number of its chosen fits
# marked no_worse = FALSE (grep -c ' FALSE$' on its output):
#   Rscript bench/init-compare.R 1 "gmm_control(tol = 1e-6)"
#   Rscript bench/init-compare.R 1 "gmm_control(cross_starts = FALSE)"
#   Rscript bench/init-compare.R 1 "gmm_control(screen_tol = 1e-4)"
#
# Run from the package root: Rscript bench/tradeoffs.R [reps]   (default 3)
options(width = 120)
suppressPackageStartupMessages({library(gaussmix); library(mclust)})
args <- commandArgs(trailingOnly = TRUE)
reps <- if (length(args)) as.integer(args[1]) else 3L
source("bench/common.R")   # data_code(), python, python_env, python_blas
if (nzchar(python)) cat("scikit-learn runs on", python_blas, "\n")
eval(parse(text = data_code(10000, 2, 4, seed = 2)))   # workload 2's x
tm <- system.time(m <- Mclust(x, verbose = FALSE))[["elapsed"]]
cat(sprintf("workload 2: mclust chooses %s,%d, BIC %.3f, in %.2f s\n", m$modelName, m$G, -m$bic, tm))
settings <- c("gmm_control()", "gmm_control(cross_starts = FALSE)", "gmm_control(screen_tol = 1e-4)")
for (ctl in settings) {
  control <- eval(parse(text = ctl))
  r <- replicate(reps, {
    s <- system.time(f <- gmm(x, control = control))[["elapsed"]]
    c(seconds = s, bic = f$bic, k = f$k, model = match(f$model, gmm_models()$model))
  })
  cat(sprintf("%-36s median %.3f s (%.0fx mclust); chose %s; BIC %s; no worse than mclust's: %s\n",
              ctl, median(r["seconds", ]), tm / median(r["seconds", ]),
              paste(unique(sprintf("%s,%d", gmm_models()$model[r["model", ]], r["k", ])), collapse = " / "),
              paste(sprintf("%.3f", r["bic", ]), collapse = " "),
              all(r["bic", ] <= -m$bic + 1e-6 * abs(m$bic))))
}
eval(parse(text = data_code(1e6, 2, 3, seed = 3)))   # workload 3's x

best <- gmm(x, k = 3, model = "VVV", control = gmm_control(tol = 1e-13, max_iter = 5000))
cat(sprintf("\nworkload 3: the maximum (tol = 1e-13): logLik %.2f after %d iterations (converged: %s)\n\n",
            best$loglik, best$iterations, best$converged))
rows <- list()
for (tol in c(1e-8, 1e-7, 1e-6)) {
  for (r in seq_len(reps)) {
    s <- system.time(f <- gmm(x, k = 3, model = "VVV", control = gmm_control(tol = tol)))[["elapsed"]]
    rows[[length(rows) + 1L]] <- data.frame(package = "gaussmix", setting = sprintf("tol = %g", tol),
                                            seconds = s, iterations = f$iterations, loglik = f$loglik)
  }
}
s <- system.time(m <- Mclust(x, G = 3, modelNames = "VVV", verbose = FALSE))[["elapsed"]]
rows[[length(rows) + 1L]] <- data.frame(package = "mclust", setting = "default (tol 1e-5)",
                                        seconds = s, iterations = NA, loglik = m$loglik)
if (nzchar(python)) {
  f <- tempfile()
  writeBin(c(x), f)
  py <- tempfile(fileext = ".py")
  writeLines(sprintf("import numpy as np, time, warnings
from sklearn.mixture import GaussianMixture
warnings.filterwarnings('ignore')
x = np.fromfile('%s').reshape((2, 1000000)).T.copy()
for tol in (1e-3, 1e-5, 1e-6):
    g = GaussianMixture(n_components=3, covariance_type='full', random_state=0, tol=tol,
                        max_iter=100 if tol == 1e-3 else 100000)
    t = time.perf_counter(); g.fit(x); t = time.perf_counter() - t
    print('RESULT', tol, t, g.n_iter_, g.score(x) * x.shape[0])", f), py)
  out <- system2(python, py, stdout = TRUE, stderr = TRUE, env = python_env)
  for (line in grep("^RESULT", out, value = TRUE)) {
    v <- as.numeric(strsplit(line, " ")[[1]][2:5])
    rows[[length(rows) + 1L]] <- data.frame(
      package = "scikit-learn",
      setting = if (v[1] == 1e-3) "default (tol 1e-3 per row)" else sprintf("tol %g per row", v[1]),
      seconds = v[2], iterations = v[3], loglik = v[4])
  }
}
tab <- do.call(rbind, rows)
tab$below_max <- best$loglik - tab$loglik
print(tab, row.names = FALSE, digits = 7)
cat("\nmedians by setting (seconds, log-likelihood units below the maximum):\n")
med <- aggregate(cbind(seconds, below_max) ~ package + setting, tab, stats::median)
med$mclust_ratio <- tab$seconds[tab$package == "mclust"] / med$seconds
if (nzchar(python)) {
  med$sklearn_ratio <- tab$seconds[tab$package == "scikit-learn" & startsWith(tab$setting, "default")] /
    med$seconds
}
print(med, row.names = FALSE, digits = 4)

