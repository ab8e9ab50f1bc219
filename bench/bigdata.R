# A fit to a file larger than this machine's memory: a file-backed big.matrix of
# 8e8 x 5 doubles (32 GB; the machine has 24 GB), from three Gaussian groups.
#
#   Rscript bench/bigdata.R [dir] > bench/bigdata.out
#
# writes the file in `dir` (default /tmp/gaussmix-big; about 32 GB free needed)
# unless it is there already, then, in a fresh R process, fits gmm(x, k = 3,
# model = "VVV") with the default start (hierarchical, on 2,000 rows drawn from
# the file) and every EM pass over all rows, read from disk in blocks. The parent
# samples the child's resident memory once a second (RssAnon: the process's own
# memory; RssFile: pages of the file mapped in, which the kernel drops when it
# needs them) and reports the peaks, the time of one pass and of the whole fit, and
# of predict(fit) for the classes of all rows (3.2 GB of integers, in memory).
args <- commandArgs(TRUE)
one <- length(args) && args[1] == "--fit"
dir <- if (one) args[2] else if (length(args)) args[1] else "/tmp/gaussmix-big"
n <- 8e8
d <- 5L
suppressMessages({
  library(gaussmix)
  library(bigmemory)
})
desc <- file.path(dir, "x.desc")

if (one) {   # the child: the fit, then its passes
  x <- attach.big.matrix(desc)
  # count the EM passes and time the scan, by wrapping two functions of the package
  ns <- asNamespace("gaussmix")
  passes <- 0L
  scan_time <- NA
  wrap <- function(name, make) {
    orig <- get(name, ns)
    unlockBinding(name, ns)
    assign(name, make(orig), ns)
  }
  wrap("source_pass", function(orig) function(src, threads) {
    f <- orig(src, threads)
    function(...) {
      passes <<- passes + 1L
      f(...)
    }
  })
  wrap("source_moments", function(orig) function(...) {
    t <- system.time(m <- orig(...))
    scan_time <<- t[["elapsed"]]
    m
  })
  set.seed(1)
  t <- system.time(fit <- gmm(x, k = 3, model = "VVV", threads = 2, verbose = FALSE))
  print(fit)
  cat(sprintf("iterations of the chosen fit: %d, converged: %s; EM passes over the file, all starts: %d\n",
              fit$iterations, fit$converged, passes))
  cat(sprintf("fit: %.0f s elapsed, of which %.0f s the first scan of the file (checks and moments); %.1f s per EM pass on average\n",
              t[["elapsed"]], scan_time, (t[["elapsed"]] - scan_time) / passes))
  cat("true proportions 0.5 / 0.3 / 0.2\n")
  p <- fit$parameters
  print(round(p$mean, 3))
  # one more pass at the fitted parameters, timed alone
  k <- fit$k
  L <- array(vapply(seq_len(k), function(j) t(chol(p$sigma[, , j])), matrix(0, d, d)), c(d, d, k))
  logdet <- vapply(seq_len(k), function(j) 2 * sum(log(diag(L[, , j]))), 0)
  pass <- gaussmix:::source_pass(gaussmix:::as_source(x), 2L)
  tp <- system.time(r <- pass(unname(p$pro), unname(p$mean), L, logdet, c(0L, 0L)))
  cat(sprintf("one pass at the fit: %.1f s (log-likelihood %.6f)\n", tp[["elapsed"]], r[2]))
  writeLines("predict", file.path(dir, "phase"))   # the parent's peaks so far are the fit's
  tc <- system.time(cls <- predict(fit, type = "class"))   # in memory: 8e8 integers
  cat(sprintf("predict(fit, type = \"class\"): %.1f s; rows per class: %s\n", tc[["elapsed"]],
              paste(tabulate(cls, fit$k), collapse = " / ")))
  quit(save = "no")
}

if (!file.exists(desc)) {   # the data: three groups, written block by block
  dir.create(dir, showWarnings = FALSE, recursive = TRUE)
  t <- system.time({
    x <- filebacked.big.matrix(n, d, type = "double", backingfile = "x.bin",
                               descriptorfile = "x.desc", backingpath = dir,
                               dimnames = list(NULL, paste0("v", seq_len(d))))
    set.seed(42)
    mu <- rbind(rep(0, d), c(3, 3, 0, 0, 0), c(0, -3, 3, 1, -1))
    block <- 2^22
    for (i0 in seq(1, n, by = block)) {
      m <- min(block, n - i0 + 1)
      g <- sample.int(3L, m, replace = TRUE, prob = c(0.5, 0.3, 0.2))
      b <- matrix(rnorm(m * d), m) * c(1, 0.7, 1.5)[g] + mu[g, ]
      x[i0:(i0 + m - 1), ] <- b
    }
    flush(x)
    rm(x)
    invisible(gc())
  })
  cat(sprintf("wrote %s: %.0f x %d doubles, %.1f GB, in %.0f s\n", dir, n, d,
              file.size(file.path(dir, "x.bin")) / 1e9, t[["elapsed"]]))
}

mem <- as.numeric(sub("MemTotal: *([0-9]+) kB", "\\1",
                      grep("^MemTotal", readLines("/proc/meminfo"), value = TRUE))) * 1024
cat(sprintf("file: %.1f GB; memory of this machine: %.1f GB\n",
            file.size(file.path(dir, "x.bin")) / 1e9, mem / 1e9))
script <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
log <- tempfile()
cmd <- sprintf("%s %s --fit %s > %s 2>&1 & echo $!", file.path(R.home("bin"), "Rscript"),
               script, dir, log)
pid <- as.integer(system(cmd, intern = TRUE))
phase <- file.path(dir, "phase")
unlink(phase)
peak <- list(fit = c(RssAnon = 0, RssFile = 0), predict = c(RssAnon = 0, RssFile = 0))
status <- sprintf("/proc/%d/status", pid)
while (file.exists(status)) {
  s <- tryCatch(readLines(status), error = function(e) character(0))
  now <- if (file.exists(phase)) "predict" else "fit"
  for (f in names(peak[[now]])) {
    v <- grep(paste0("^", f, ":"), s, value = TRUE)
    if (length(v)) peak[[now]][f] <- max(peak[[now]][f], as.numeric(gsub("[^0-9]", "", v)) * 1024)
  }
  if (any(grepl("^State:\\s+Z", s))) break
  Sys.sleep(1)
}
unlink(phase)
cat(readLines(log), sep = "\n")
for (now in names(peak)) {
  cat(sprintf("%s: peak RssAnon (the process's own memory) %.2f GB; peak RssFile (pages of the file mapped in) %.1f GB\n",
              now, peak[[now]][["RssAnon"]] / 1e9, peak[[now]][["RssFile"]] / 1e9))
}
