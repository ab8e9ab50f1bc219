# Speed of gaussmix against mclust, side by side on the same data, as ratios.
#
#   Rscript bench/speed.R            all workloads (several minutes)
#   Rscript bench/speed.R 1 3        only workloads 1 and 3
#
# Each measurement runs in a fresh R process (so its peak resident memory, VmHWM,
# is its own) and is the median of `reps` runs, with each package's default
# settings (gaussmix: gmm_threads() threads). Per-iteration times are the
# difference between a run of 1 + m iterations and one of 1 iteration, divided by
# the difference in the iterations each package reports having done (mclust's em()
# stops once the log-likelihood no longer changes at all, even with tol = 0), from
# the same starting parameters, so set-up costs cancel; the fixed cost of a call is
# the time of the 1-iteration run less that iteration. Run from the package root
# with gaussmix installed.
#
# Where they are installed, the same data go to scikit-learn's GaussianMixture (the
# python3 that imports sklearn, e.g. Debian's python3-sklearn, run on OpenBLAS's
# threaded BLAS when Debian's libopenblas0-pthread is there, through
# LD_LIBRARY_PATH, so that R's own BLAS stays as it is) and to ClusterR::GMM
# (Armadillo, OpenMP), each with its defaults otherwise: workloads 1 (same start for
# scikit-learn; ClusterR's own seeding, as it takes no start) and 3 (end to end).
args <- commandArgs(trailingOnly = TRUE)
which_w <- if (length(args)) as.integer(args) else 1:4
source("bench/common.R")   # data_code(), heights_code, python, python_env, python_blas
if (nzchar(python)) cat("scikit-learn runs on", python_blas, "\n")

run_child <- function(code) {
  f <- tempfile(fileext = ".R")
  writeLines(c("suppressPackageStartupMessages({library(gaussmix); library(mclust)})",
               code,
               "hwm <- grep('VmHWM', readLines('/proc/self/status'), value = TRUE)",
               "if (!exists('iters')) iters <- NA",
               "cat('RESULT', secs, as.numeric(gsub('[^0-9]', '', hwm)) / 1024, iters, '\\n')"), f)
  out <- system2("Rscript", f, stdout = TRUE, stderr = TRUE)
  cat(grep("^(gaussmix|mclust|sklearn)", out, value = TRUE), sep = "\n")
  line <- grep("^RESULT", out, value = TRUE)
  if (!length(line)) stop(paste(out, collapse = "\n"))
  v <- suppressWarnings(as.numeric(strsplit(line, " ")[[1]][2:4]))  # iterations may be NA
  c(seconds = v[1], peak_mb = v[2], iterations = v[3])
}

# The median over `reps` of the time of `expr_code`, run `each` times in a row and
# divided by `each` (system.time() counts whole milliseconds, too coarse for a
# call of a few).
median_time <- function(expr_code, reps, each = 1) {
  sprintf("ts <- replicate(%d, system.time(for (i_ in seq_len(%d)) {%s})[['elapsed']] / %d); secs <- median(ts)",
          reps, each, expr_code, each)
}

# ---- the other libraries, when installed --------------------------------------

have_clusterr <- requireNamespace("ClusterR", quietly = TRUE)

# Writes a workload's data and start (data_code()) as raw doubles for python.
write_data <- function(code) {
  e <- new.env()
  eval(parse(text = code), e)
  f <- tempfile()
  writeBin(c(e$x), paste0(f, ".x"))
  writeBin(c(e$start$mean), paste0(f, ".mean"))
  f
}

run_python <- function(code) {
  f <- tempfile(fileext = ".py")
  writeLines(c("import numpy as np, time, resource, warnings, statistics",
               "from sklearn.mixture import GaussianMixture",
               "warnings.filterwarnings('ignore')", code,
               "print('RESULT', secs, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, iters)"), f)
  out <- system2(python, f, stdout = TRUE, stderr = TRUE, env = python_env)
  cat(grep("^sklearn", out, value = TRUE), sep = "\n")
  line <- grep("^RESULT", out, value = TRUE)
  if (!length(line)) stop(paste(out, collapse = "\n"))
  v <- as.numeric(strsplit(line, " ")[[1]][2:4])
  c(seconds = v[1], peak_mb = v[2], iterations = v[3])
}

# scikit-learn from the start of data_code(n, d, k): `it` EM iterations, median of reps.
sklearn_iter <- function(f, n, d, k, type, it, reps) {
  prec <- if (type == "full") sprintf("np.tile(np.eye(%d), (%d, 1, 1))", d, k) else sprintf("np.ones((%d, %d))", k, d)
  run_python(sprintf("x = np.fromfile('%s.x').reshape((%d, %d)).T.copy()
m0 = np.fromfile('%s.mean').reshape((%d, %d))
def once():
    g = GaussianMixture(n_components=%d, covariance_type='%s', max_iter=%d, tol=0, weights_init=np.full(%d, 1 / %d), means_init=m0, precisions_init=%s, init_params='random', random_state=0)
    t = time.perf_counter(); g.fit(x); return time.perf_counter() - t, g.n_iter_
r = [once() for _ in range(%d)]
secs = statistics.median(t for t, _ in r); iters = r[0][1]", f, d, n, f, k, d, k, type, it, k, k, prec, reps))
}

clusterr_iter <- function(n, d, k, full, it, reps) {
  run_child(c(data_code(n, d, k),
              median_time(sprintf("f <<- ClusterR::GMM(x, %d, dist_mode = 'eucl_dist', seed_mode = 'static_subset', km_iter = 0, em_iter = %d, full_covariance_matrices = %s)", k, it, full), reps),
              sprintf("iters <- %d", it)))
}

results <- list()
none <- c(seconds = NA_real_, peak_mb = NA_real_)
record <- function(workload, what, g, m, note = "", sk = none, cr = none) {
  results[[length(results) + 1]] <<- data.frame(
    workload = workload, measure = what, gaussmix_s = g[["seconds"]], mclust_s = m[["seconds"]],
    ratio = m[["seconds"]] / g[["seconds"]], sklearn_s = sk[["seconds"]],
    sklearn_ratio = sk[["seconds"]] / g[["seconds"]], clusterr_s = cr[["seconds"]],
    clusterr_ratio = cr[["seconds"]] / g[["seconds"]], gaussmix_peak_mb = g[["peak_mb"]],
    mclust_peak_mb = m[["peak_mb"]], sklearn_peak_mb = sk[["peak_mb"]],
    clusterr_peak_mb = cr[["peak_mb"]], note = note)
  print(utils::tail(results[[length(results)]], 1), row.names = FALSE)
}

per_iter <- function(n, d, k, model, m_iter, reps, m_iter_mclust = 5) {
  # Plain EM steps on both sides (gaussmix's SQUAREM steps, which start once EM has
  # settled, take two passes per counted step; their gain is in the iteration counts
  # of workload 3, not here).
  g1 <- sprintf("f <<- suppressWarnings(gmm(x, k = %d, model = '%s', init = start, control = gmm_control(max_iter = %%d, tol = 0, accelerate = FALSE)))", k, model)
  # mclust's diagonal E-steps read the variances as scale and shape: start$sigma is
  # the identity, so scale 1 and shape 1.
  mc <- sprintf("f <<- em(x, modelName = '%s', parameters = list(pro = start$pro, mean = start$mean, variance = list(modelName = '%s', d = d, G = k, sigma = start$sigma, cholsigma = start$sigma, scale = rep(1, k), shape = matrix(1, d, k))), control = emControl(tol = c(0, 0), itmax = c(%%d, 1000)), warn = FALSE)", model, model)
  g <- lapply(c(1, 1 + m_iter), function(it) {
    run_child(c(data_code(n, d, k), median_time(sprintf(g1, it), reps), "iters <- f$iterations"))
  })
  m <- lapply(c(1, 1 + m_iter_mclust), function(it) {
    run_child(c(data_code(n, d, k), median_time(sprintf(mc, it), reps), "iters <- abs(attr(f, 'info')[1])"))
  })
  per <- function(r) (r[[2]][["seconds"]] - r[[1]][["seconds"]]) / (r[[2]][["iterations"]] - r[[1]][["iterations"]])
  fixed <- function(r) r[[1]][["seconds"]] - r[[1]][["iterations"]] * per(r)
  out <- list(g = c(seconds = per(g), peak_mb = g[[2]][["peak_mb"]]),
              m = c(seconds = per(m), peak_mb = m[[2]][["peak_mb"]]),
              g_fixed = c(seconds = fixed(g), peak_mb = g[[1]][["peak_mb"]]),
              m_fixed = c(seconds = fixed(m), peak_mb = m[[1]][["peak_mb"]]), g_per = per(g),
              s = none, s_fixed = none, c = none, c_fixed = none)
  if (nzchar(python)) {
    f <- write_data(data_code(n, d, k))
    type <- if (model == "VVV") "full" else "diag"
    s <- lapply(c(1, 1 + m_iter_mclust), function(it) sklearn_iter(f, n, d, k, type, it, reps))
    out$s <- c(seconds = per(s), peak_mb = s[[2]][["peak_mb"]])
    out$s_fixed <- c(seconds = fixed(s), peak_mb = s[[1]][["peak_mb"]])
  }
  if (have_clusterr) {
    cr <- lapply(c(1, 1 + m_iter_mclust), function(it) clusterr_iter(n, d, k, model == "VVV", it, reps))
    out$c <- c(seconds = per(cr), peak_mb = cr[[2]][["peak_mb"]])
    out$c_fixed <- c(seconds = fixed(cr), peak_mb = cr[[1]][["peak_mb"]])
  }
  out
}

if (1 %in% which_w) {
  r <- per_iter(200000, 10, 10, "VVV", m_iter = 40, reps = 5)
  flops <- 2 * 200000 * 10 * 10^2
  record(1, "seconds per EM iteration, VVV, n = 2e5, d = 10, K = 10", r$g, r$m,
         sprintf("gaussmix %.2f GFLOP/s on 2 n K d^2 = %.1e flops", flops / r$g[["seconds"]] / 1e9, flops),
         r$s, r$c)
  record(1, "fixed cost of one call at that size (seconds)", r$g_fixed, r$m_fixed,
         sprintf("gaussmix: %.1f of its iterations", r$g_fixed[["seconds"]] / r$g_per), r$s_fixed, r$c_fixed)
  r <- per_iter(200000, 10, 10, "VVI", m_iter = 40, reps = 5)
  record(1, "seconds per EM iteration, VVI, n = 2e5, d = 10, K = 10", r$g, r$m, "", r$s, r$c)
}

if (2 %in% which_w) {
  g <- run_child(c(data_code(10000, 2, 4, seed = 2),
                   median_time("f <<- suppressWarnings(gmm(x))", 3),
                   "cat('gaussmix chose', f$model, f$k, 'BIC', f$bic, '\\n')"))
  m <- run_child(c(data_code(10000, 2, 4, seed = 2),
                   median_time("f <<- Mclust(x, verbose = FALSE)", 3),
                   "cat('mclust chose', f$modelName, f$G, 'BIC (R sign)', -f$bic, '\\n')"))
  record(2, "seconds for the default sweep, K = 1:9, all 14 models, n = 1e4, d = 2", g, m)
}

if (3 %in% which_w) {
  g <- run_child(c(data_code(1e6, 2, 3, seed = 3),
                   median_time("f <<- suppressWarnings(gmm(x, k = 3, model = 'VVV'))", 3),
                   "cat('gaussmix', f$iterations, 'iterations, logLik', f$loglik, '\\n')"))
  m <- run_child(c(data_code(1e6, 2, 3, seed = 3),
                   median_time("f <<- Mclust(x, G = 3, modelNames = 'VVV', verbose = FALSE)", 3),
                   "cat('mclust logLik', f$loglik, '\\n')"))
  sk <- none
  if (nzchar(python)) {
    f <- write_data(data_code(1e6, 2, 3, seed = 3))
    sk <- run_python(sprintf("x = np.fromfile('%s.x').reshape((2, 1000000)).T.copy()
def once():
    g = GaussianMixture(n_components=3, covariance_type='full', random_state=0)
    t = time.perf_counter(); g.fit(x); t = time.perf_counter() - t
    print('sklearn', g.n_iter_, 'iterations, logLik', g.score(x) * x.shape[0])
    return t, g.n_iter_
r = [once() for _ in range(3)]
secs = statistics.median(t for t, _ in r); iters = r[0][1]", f))
  }
  record(3, "seconds for one VVV fit end to end, n = 1e6, d = 2, K = 3", g, m, "", sk)
}

if (4 %in% which_w) {
  # Times: medians of five means of 20 calls. Peak memory: from another process
  # making five calls, since the garbage of 100 calls would measure R's collector
  # rather than the fit.
  once <- function(code) {
    r <- run_child(c(heights_code, median_time(code, 5, 20)))
    r[["peak_mb"]] <- run_child(c(heights_code, median_time(code, 5)))[["peak_mb"]]
    r
  }
  g <- once("f <- suppressWarnings(gmm(x))")
  m <- once("f <- Mclust(x, verbose = FALSE)")
  record(4, "seconds for the 1-D height example, K = 1:9, E and V, n = 2000", g, m)
}

tab <- do.call(rbind, results)
print(tab, row.names = FALSE, digits = 3)
utils::write.csv(tab, sprintf("bench/speed-%s.csv", paste(which_w, collapse = "")), row.names = FALSE)
