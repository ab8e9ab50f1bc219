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
args <- commandArgs(trailingOnly = TRUE)
which_w <- if (length(args)) as.integer(args) else 1:4

run_child <- function(code) {
  f <- tempfile(fileext = ".R")
  writeLines(c("suppressPackageStartupMessages({library(gaussmix); library(mclust)})",
               code,
               "hwm <- grep('VmHWM', readLines('/proc/self/status'), value = TRUE)",
               "if (!exists('iters')) iters <- NA",
               "cat('RESULT', secs, as.numeric(gsub('[^0-9]', '', hwm)) / 1024, iters, '\\n')"), f)
  out <- system2("Rscript", f, stdout = TRUE, stderr = TRUE)
  line <- grep("^RESULT", out, value = TRUE)
  if (!length(line)) stop(paste(out, collapse = "\n"))
  v <- suppressWarnings(as.numeric(strsplit(line, " ")[[1]][2:4]))  # iterations may be NA
  c(seconds = v[1], peak_mb = v[2], iterations = v[3])
}

# R code that defines x (the data) and start (parameters) for a workload.
# Overlapping components (centres drawn with sd 1.5, unit spreads), so that EM keeps
# moving for all the iterations asked of it: on well separated data both packages
# reach a log-likelihood that no longer changes at all within a few iterations.
data_code <- function(n, d, k, seed = 1) {
  sprintf("set.seed(%d); n <- %d; d <- %d; k <- %d
centres <- matrix(rnorm(d * k, sd = 1.5), d)
cl <- sample.int(k, n, replace = TRUE)
x <- t(centres[, cl]) + matrix(rnorm(n * d), n)
colnames(x) <- paste0('v', seq_len(d))
sig <- array(diag(d), c(d, d, k))
start <- list(mean = centres + 0.5, sigma = sig, pro = rep(1 / k, k))", seed, n, d, k)
}

median_time <- function(expr_code, reps) {
  sprintf("ts <- replicate(%d, system.time({%s})[['elapsed']]); secs <- median(ts)", reps, expr_code)
}

results <- list()
record <- function(workload, what, g, m, note = "") {
  results[[length(results) + 1]] <<- data.frame(
    workload = workload, measure = what, gaussmix_s = g[["seconds"]], mclust_s = m[["seconds"]],
    ratio = m[["seconds"]] / g[["seconds"]], gaussmix_peak_mb = g[["peak_mb"]],
    mclust_peak_mb = m[["peak_mb"]], note = note)
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
  list(g = c(seconds = per(g), peak_mb = g[[2]][["peak_mb"]]),
       m = c(seconds = per(m), peak_mb = m[[2]][["peak_mb"]]),
       g_fixed = c(seconds = fixed(g), peak_mb = g[[1]][["peak_mb"]]),
       m_fixed = c(seconds = fixed(m), peak_mb = m[[1]][["peak_mb"]]), g_per = per(g))
}

if (1 %in% which_w) {
  r <- per_iter(200000, 10, 10, "VVV", m_iter = 20, reps = 3)
  flops <- 2 * 200000 * 10 * 10^2
  record(1, "seconds per EM iteration, VVV, n = 2e5, d = 10, K = 10", r$g, r$m,
         sprintf("gaussmix %.2f GFLOP/s on 2 n K d^2 = %.1e flops", flops / r$g[["seconds"]] / 1e9, flops))
  record(1, "fixed cost of one call at that size (seconds)", r$g_fixed, r$m_fixed,
         sprintf("gaussmix: %.1f of its iterations", r$g_fixed[["seconds"]] / r$g_per))
  r <- per_iter(200000, 10, 10, "VVI", m_iter = 20, reps = 3)
  record(1, "seconds per EM iteration, VVI, n = 2e5, d = 10, K = 10", r$g, r$m)
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
  record(3, "seconds for one VVV fit end to end, n = 1e6, d = 2, K = 3", g, m)
}

if (4 %in% which_w) {
  hcode <- "set.seed(3); cl <- sample(1:2, 2000, TRUE, prob = c(0.116, 0.884)); x <- rnorm(2000, c(163.82, 178.02)[cl], c(2.458, 5.477)[cl])"
  g <- run_child(c(hcode, median_time("f <- suppressWarnings(gmm(x))", 5)))
  m <- run_child(c(hcode, median_time("f <- Mclust(x, verbose = FALSE)", 5)))
  record(4, "seconds for the 1-D height example, K = 1:9, E and V, n = 2000", g, m)
}

tab <- do.call(rbind, results)
print(tab, row.names = FALSE, digits = 3)
utils::write.csv(tab, sprintf("bench/speed-%s.csv", paste(which_w, collapse = "")), row.names = FALSE)
