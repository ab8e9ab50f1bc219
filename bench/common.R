# What the scripts of bench/ share: the workloads' data and the scikit-learn they
# compare with. Sourced from the package root.

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

# R code that defines x, workload 4's 2,000 heights: two components as the notes'
# height example reports them (163.82 and 178.02 cm, sd 2.458 and 5.477, weight
# 0.116 for the first).
heights_code <- "set.seed(3); cl <- sample(1:2, 2000, TRUE, prob = c(0.116, 0.884)); x <- rnorm(2000, c(163.82, 178.02)[cl], c(2.458, 5.477)[cl])"

# The python3 that imports sklearn ("" when there is none), and the environment it
# runs in: OpenBLAS's threaded BLAS when Debian's libopenblas0-pthread is there,
# through LD_LIBRARY_PATH for the Python process only, so that R's own BLAS stays as
# it is.
python <- local({
  for (p in unique(c("/usr/bin/python3", Sys.which("python3")))) {
    if (nzchar(p) && file.exists(p) &&
        suppressWarnings(system2(p, c("-c", shQuote("import sklearn")), stdout = FALSE, stderr = FALSE)) == 0L)
      return(p)
  }
  ""
})
python_env <- local({
  openblas <- "/usr/lib/x86_64-linux-gnu/openblas-pthread"
  if (dir.exists(openblas)) paste0("LD_LIBRARY_PATH=", openblas) else character()
})
# The BLAS numpy runs on in that environment, for the outputs to say (scikit-learn's
# times depend on it): "openblas 0.3.21, 2 threads", or "reference BLAS" when
# threadpoolctl finds none of its own.
python_blas <- if (!nzchar(python)) "" else local({
  f <- tempfile(fileext = ".py")
  writeLines(c("import numpy as np",
               "from threadpoolctl import threadpool_info",
               "np.ones((2, 2)) @ np.ones((2, 2))",
               "b = [i for i in threadpool_info() if i['user_api'] == 'blas']",
               "print(', '.join('%s %s, %d threads' % (i['internal_api'], i['version'], i['num_threads']) for i in b) or 'reference BLAS')"), f)
  out <- suppressWarnings(system2(python, f, stdout = TRUE, stderr = TRUE, env = python_env))
  out[length(out)]
})
