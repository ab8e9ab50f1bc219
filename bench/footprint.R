# Memory of one fit, gmm(x, k = 5, model = "VVV") on n x 5 data, for n = 1e5, 1e6
# and 1e7, each in a fresh R process: the peak resident memory during the call above
# what the process held just before it (VmHWM after resetting it through
# /proc/self/clear_refs, less VmRSS then), and the size of the returned object, both
# as multiples of the data's size. Linux only.
#
# The first call of a process also loads the package's R functions (byte code, from
# its lazy-load database) and touches its C code, a few MB whatever n. So each n runs
# twice, in two fresh processes: as the first call, and after the namespace's
# functions have been loaded (the fit's own memory). Running the fit a second time in
# the same process would not show it: memory the first fit freed is reused without
# counting as growth.
#
#   Rscript bench/footprint.R > bench/footprint.out
args <- commandArgs(TRUE)
if (length(args) && args[1] == "--one") {
  n <- as.numeric(args[2])
  loaded <- identical(args[3], "loaded")
  suppressMessages(library(gaussmix))
  status <- function(field) {   # bytes
    line <- grep(paste0("^", field, ":"), readLines("/proc/self/status"), value = TRUE)
    as.numeric(gsub("[^0-9]", "", line)) * 1024
  }
  set.seed(1)
  d <- 5L
  k <- 5L
  mu <- matrix(rnorm(d * k, sd = 4), k)
  x <- matrix(rnorm(n * d), n) + mu[sample.int(k, n, TRUE), ]   # a plain double matrix
  if (loaded) {
    ns <- asNamespace("gaussmix")
    for (f in ls(ns, all.names = TRUE)) invisible(get(f, ns))
  }
  invisible(gc())
  writeLines("5", "/proc/self/clear_refs")   # resets VmHWM to the current RSS
  before <- status("VmRSS")
  t <- system.time(fit <- gmm(x, k = k, model = "VVV", threads = 2L, verbose = FALSE))[["elapsed"]]
  peak <- status("VmHWM") - before
  size <- as.numeric(utils::object.size(x))
  cat(sprintf("%.0f %.0f %.0f %.0f %.3f\n", size, peak, as.numeric(utils::object.size(fit)),
              as.numeric(utils::object.size(fit$z)), t))
  quit(save = "no")
}
cat(sprintf("gaussmix %s, R %s, %s\n\n", utils::packageVersion("gaussmix"),
            getRversion(), format(Sys.time(), "%Y-%m-%d %H:%M")))
cat("| n | data (n x 5 doubles) | first call: peak above the start | peak / data | functions loaded before: peak | peak / data | object / data | (data + z) / data | seconds (first call) |\n")
cat("|---|---|---|---|---|---|---|---|---|\n")
rscript <- file.path(R.home("bin"), "Rscript")
script <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
for (n in c(1e5, 1e6, 1e7)) {
  run <- function(mode) {
    out <- system2(rscript, c(script, "--one", format(n, scientific = FALSE), mode), stdout = TRUE)
    as.numeric(strsplit(out[length(out)], " ")[[1]])
  }
  cold <- run("cold")
  warm <- run("loaded")
  size <- cold[1]
  cat(sprintf("| %.0e | %.0f MB | %.1f MB | %.2f | %.1f MB | %.2f | %.2f | %.2f | %.2f |\n", n,
              size / 2^20, cold[2] / 2^20, cold[2] / size, warm[2] / 2^20, warm[2] / size,
              cold[3] / size, (size + cold[4]) / size, cold[5]))
}
