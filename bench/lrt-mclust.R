# gmm_lrt() against mclust::mclustBootstrapLRT(), 999 replicates per test, on
# faithful (models VVV and EEE) and on the heights (model V), each sequence from
# K = 1 until a test does not reject at 5%. mclust runs twice: with its default
# hierarchical start (hcUse = "SVD") and with hcUse = "VARS" (the variables as they
# are), because on faithful the default start stops mclust at lower maxima than
# gaussmix's for some K, which changes its statistics. The log-likelihoods of each K
# are printed beside the tests, so the cause of any difference is visible.
# Run from the package root: Rscript bench/lrt-mclust.R > bench/lrt-mclust.out
suppressPackageStartupMessages({
  library(gaussmix)
  library(mclust)
})
R <- 999
chosen <- function(p) if (tail(p, 1) > 0.05) length(p) else length(p) + 1L
cases <- list(list("faithful", faithful, "VVV"), list("faithful", faithful, "EEE"),
              list("heights", heights$height, "V"))
for (cs in cases) {
  name <- cs[[1]]
  x <- cs[[2]]
  m <- cs[[3]]
  cat(sprintf("\n== %s, model %s, R = %d ==\n", name, m, R))
  t <- system.time(g <- gmm_lrt(x, model = m, max_k = 8, R = R, seed = 1))[["elapsed"]]
  cat(sprintf("gaussmix        K = %d  statistics %s  p %s  (%.0f s)\n", g$k,
              paste(sprintf("%.2f", g$table$statistic), collapse = " "),
              paste(sprintf("%.3f", g$table$p_value), collapse = " "), t))
  for (use in c("SVD", "VARS")) {
    mclust.options(hcUse = use)
    set.seed(1)
    t <- system.time(mc <- mclustBootstrapLRT(x, modelName = m, nboot = R, verbose = FALSE))[["elapsed"]]
    cat(sprintf("mclust %-5s    K = %d  statistics %s  p %s  (%.0f s)\n", use, chosen(mc$p.value),
                paste(sprintf("%.2f", mc$obs), collapse = " "),
                paste(sprintf("%.3f", mc$p.value), collapse = " "), t))
  }
  ks <- seq_len(max(g$k, 4L) + 1L)
  ll <- vapply(ks, function(k) gmm(x, k = k, model = m, verbose = FALSE)$loglik, 0)
  cat("log-likelihood by K:\n")
  cat(sprintf("  gaussmix      %s\n", paste(sprintf("%9.2f", ll), collapse = " ")))
  for (use in c("SVD", "VARS")) {
    mclust.options(hcUse = use)
    b <- mclustBIC(x, G = ks, modelNames = m, verbose = FALSE)
    lm <- vapply(ks, function(k) summary(b, x, G = k, modelNames = m)$loglik, 0)
    cat(sprintf("  mclust %-5s  %s\n", use, paste(sprintf("%9.2f", lm), collapse = " ")))
  }
}
mclust.options(hcUse = "SVD")
