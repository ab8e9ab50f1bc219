# Do two threads still beat one when other processes keep every core busy? The
# speed issue asks for no slowdown then: OpenMP's spin-waiting threads made two
# threads 4 to 8 times slower than one there. Workloads 2, 3 and 1 of
# bench/speed.R (1: 20 EM iterations from the given start, as its per-iteration
# time runs them), each in a fresh process per thread count, first on an idle
# machine, then twice with one busy loop per core (`sh` processes, killed at the
# end); medians of the calls of each process.
# Run from the package root: Rscript bench/busy-cores.R
child <- '
suppressPackageStartupMessages(library(gaussmix))
source("bench/common.R")
th <- as.integer(Sys.getenv("TH"))
w <- Sys.getenv("W")
if (w == "2") {
  eval(parse(text = data_code(10000, 2, 4, seed = 2)))
  ts <- replicate(5, system.time(f <- suppressWarnings(gmm(x, threads = th)))[["elapsed"]])
} else if (w == "3") {
  eval(parse(text = data_code(1e6, 2, 3, seed = 1)))
  ts <- replicate(3, system.time(f <- gmm(x, k = 3, model = "VVV", threads = th))[["elapsed"]])
} else {
  eval(parse(text = data_code(2e5, 10, 10, seed = 1)))
  ts <- replicate(3, system.time(f <- suppressWarnings(gmm(x, k = 10, model = "VVV", init = start,
    threads = th, control = gmm_control(max_iter = 20, tol = 0, accelerate = FALSE))))[["elapsed"]])
}
cat(sprintf("%s %d %.3f\\n", w, th, median(ts)))
'
f <- tempfile(fileext = ".R")
writeLines(child, f)
rscript <- file.path(R.home("bin"), "Rscript")
round_of <- function(label) {
  out <- NULL
  for (w in c("2", "3", "1")) for (th in 1:2) {
    r <- system2(rscript, f, stdout = TRUE, env = c(paste0("W=", w), paste0("TH=", th)))
    v <- strsplit(r[length(r)], " ")[[1]]
    out <- rbind(out, data.frame(round = label, workload = w, threads = th, seconds = as.numeric(v[3])))
  }
  out
}
ncores <- parallel::detectCores()
res <- round_of("idle")
pids <- vapply(seq_len(ncores), function(i)
  system("sh -c 'while :; do :; done' >/dev/null 2>&1 & echo $!", intern = TRUE), "")
Sys.sleep(1)
res <- tryCatch(rbind(res, round_of("busy 1"), round_of("busy 2")),
                finally = tools::pskill(as.integer(pids)))
wide <- reshape(res, idvar = c("round", "workload"), timevar = "threads", direction = "wide")
names(wide) <- c("round", "workload", "one_thread_s", "two_threads_s")
wide$two_over_one <- round(wide$two_threads_s / wide$one_thread_s, 2)
cat(sprintf("%d cores; busy rounds with %d busy loops\n", ncores, ncores))
print(wide, row.names = FALSE)
