# Memory of one fit, gmm(x, k = 5, model = "VVV") on n x 5 data, for n = 1e5, 1e6
# and 1e7, each in a fresh R process: the peak resident memory during the call above
# what the process held just before it (VmHWM after resetting it through
# /proc/self/clear_refs, less VmRSS then), and the size of the returned object, both
# as multiples of the data's size. The first fit of the process also loads the
# package's R functions and C code, a few MB whatever n; the same fit run again
# (after rm() and gc()) shows the fit's own memory. Linux only.
#
#   Rscript bench/footprint.R > bench/footprint.out
args <- commandArgs(TRUE)
if (length(args) && args[1] == "--one") {
  n <- as.numeric(args[2])
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
  one_fit <- function() {
    invisible(gc())
    writeLines("5", "/proc/self/clear_refs")   # resets VmHWM to the current RSS
    before <- status("VmRSS")
    t <- system.time(fit <- gmm(x, k = k, model = "VVV", threads = 2L, verbose = FALSE))[["elapsed"]]
    list(fit = fit, peak = status("VmHWM") - before, t = t)
  }
  first <- one_fit()
  fit <- first$fit
  first$fit <- NULL
  again <- one_fit()
  size <- as.numeric(utils::object.size(x))
  cat(sprintf("| %.0e | %.0f MB | %.1f MB | %.2f | %.1f MB | %.2f | %.2f | %.2f | %.2f |\n", n,
              size / 2^20, first$peak / 2^20, first$peak / size, again$peak / 2^20,
              again$peak / size, as.numeric(utils::object.size(fit)) / size,
              (size + as.numeric(utils::object.size(fit$z))) / size, first$t))
  quit(save = "no")
}
cat(sprintf("gaussmix %s, R %s, %s\n\n", utils::packageVersion("gaussmix"),
            getRversion(), format(Sys.time(), "%Y-%m-%d %H:%M")))
cat("| n | data (n x 5 doubles) | first fit: peak above the start | peak / data | the fit again: peak | peak / data | object / data | (data + z) / data | seconds (first fit) |\n")
cat("|---|---|---|---|---|---|---|---|---|\n")
rscript <- file.path(R.home("bin"), "Rscript")
script <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
for (n in c(1e5, 1e6, 1e7)) system2(rscript, c(script, "--one", format(n, scientific = FALSE)))
