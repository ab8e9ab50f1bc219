# Which initialisation reaches the higher log-likelihood more often?
# For each data set, every model and K = 1:9, the log-likelihood of each cell
# from: one k-means++ start, five k-means++ starts, the hierarchical start
# ("hc"), and mclust (its default, hierarchical, start). Writes
# bench/init-compare.csv and prints the summary used in bench/README.md.
# Run from the package root: Rscript bench/init-compare.R
suppressPackageStartupMessages({
  library(gaussmix)
  library(mclust)
})
data(diabetes, banknote, wreath, acidity, package = "mclust")
sets <- list(faithful = faithful, iris = iris[1:4], diabetes = diabetes[-1],
             banknote = banknote[-1], wreath = wreath, acidity = acidity)

loglik_table <- function(bic, models, d, n) {
  df <- outer(seq_len(nrow(bic)), models, Vectorize(function(k, m) {
    gmm_models(d = d, k = k)$df[gmm_models(d = d)$model == m]
  }))
  (df * log(n) - unclass(bic)[, models, drop = FALSE]) / 2
}

rows <- list()
for (nm in names(sets)) {
  x <- sets[[nm]]
  x1 <- if (is.null(dim(x)) || ncol(as.matrix(x)) == 1L) as.numeric(as.matrix(x)) else x
  d <- NCOL(x1)
  n <- NROW(x1)
  models <- gmm_models(d = d)$model
  fit <- function(..., cross = FALSE, screen_tol = 1e-5) {
    suppressWarnings(gmm(x1, k = 1:9, model = models,
                         control = gmm_control(cross_starts = cross, screen_tol = screen_tol), ...))
  }
  set.seed(1); t1 <- system.time(a <- fit(init = "kmeans++", n_init = 1))[["elapsed"]]
  set.seed(1); t5 <- system.time(b <- fit(init = "kmeans++", n_init = 5))[["elapsed"]]
  set.seed(1); th <- system.time(h <- fit(init = "hc"))[["elapsed"]]
  set.seed(1); thk <- system.time(hk <- fit(init = c("hc", "kmeans++"), n_init = 1))[["elapsed"]]
  set.seed(1); thk4 <- system.time(hk4 <- fit(init = c("hc", "kmeans++"), n_init = 4))[["elapsed"]]
  set.seed(1); thx <- system.time(hx <- fit(init = "hc", cross = TRUE))[["elapsed"]]
  set.seed(1); thf <- system.time(hf <- fit(init = "hc", cross = TRUE, screen_tol = 0))[["elapsed"]]
  set.seed(1); thkx <- system.time(hkx <- fit(init = c("hc", "kmeans++"), cross = TRUE))[["elapsed"]]
  tm <- system.time(mb <- mclustBIC(x1, G = 1:9, modelNames = models, verbose = FALSE))[["elapsed"]]
  ll <- list(kmpp1 = loglik_table(a$bic_table, models, d, n),
             kmpp5 = loglik_table(b$bic_table, models, d, n),
             hc = loglik_table(h$bic_table, models, d, n),
             hc_kmpp1 = loglik_table(hk$bic_table, models, d, n),
             hc_kmpp4 = loglik_table(hk4$bic_table, models, d, n),
             hc_cross = loglik_table(hx$bic_table, models, d, n),
             hc_cross_full = loglik_table(hf$bic_table, models, d, n),
             hc_kmpp1_cross = loglik_table(hkx$bic_table, models, d, n),
             mclust = (unclass(mb)[, models, drop = FALSE] +
                         outer(1:9, models, Vectorize(function(k, m) nMclustParams(m, d, k))) * log(n)) / 2)
  for (m in models) for (k in 1:9) {
    rows[[length(rows) + 1]] <- data.frame(
      data = nm, model = m, k = k,
      kmpp1 = ll$kmpp1[k, m], kmpp5 = ll$kmpp5[k, m], hc = ll$hc[k, m],
      hc_kmpp1 = ll$hc_kmpp1[k, m], hc_kmpp4 = ll$hc_kmpp4[k, m], hc_cross = ll$hc_cross[k, m],
      hc_cross_full = ll$hc_cross_full[k, m],
      hc_kmpp1_cross = ll$hc_kmpp1_cross[k, m], mclust = ll$mclust[k, m])
  }
  cat(sprintf("%-9s n = %4d, d = %d: seconds kmeans++x1 %.2f, kmeans++x5 %.2f, hc %.2f, hc+kmeans++x1 %.2f, hc+kmeans++x4 %.2f, hc+cross %.2f, hc+cross full precision %.2f, hc+kmeans++x1+cross %.2f, mclustBIC %.2f\n",
              nm, n, d, t1, t5, th, thk, thk4, thx, thf, thkx, tm))
  cat(sprintf("          chosen BIC (R's sign): kmeans++x1 %s %d %.3f | x5 %s %d %.3f | hc %s %d %.3f | hc+x1 %s %d %.3f | hc+x4 %s %d %.3f | hc+cross %s %d %.3f | hc+x1+cross %s %d %.3f | mclust %s %d %.3f\n",
              a$model, a$k, a$bic, b$model, b$k, b$bic, h$model, h$k, h$bic,
              hk$model, hk$k, hk$bic, hk4$model, hk4$k, hk4$bic, hx$model, hx$k, hx$bic,
              hkx$model, hkx$k, hkx$bic,
              summary(mb)[1] |> names() |> sub(pattern = ",.*", replacement = ""),
              as.integer(sub(".*,", "", names(summary(mb))[1])), -max(mb, na.rm = TRUE)))
}
tab <- do.call(rbind, rows)
utils::write.csv(tab, "bench/init-compare.csv", row.names = FALSE)

# A cell counts for a method when it reaches the best log-likelihood of them all
# (within 1e-6 relative); failed cells (NA) never count.
methods <- c("kmpp1", "kmpp5", "hc", "hc_kmpp1", "hc_kmpp4", "hc_cross", "hc_cross_full",
             "hc_kmpp1_cross", "mclust")
best <- apply(tab[methods], 1, max, na.rm = TRUE)
hit <- sapply(tab[methods], function(v) {
  !is.na(v) & v >= best - 1e-6 * abs(best)
})
cat("\ncells reaching the best log-likelihood of all methods, by data set:\n")
print(rbind(aggregate(hit, by = list(data = tab$data), FUN = sum),
            data.frame(data = "all", t(colSums(hit)))), row.names = FALSE)
cat("\nhead-to-head, kmeans++ x1 against hc: hc higher", sum(tab$hc > tab$kmpp1 + 1e-6 * abs(tab$kmpp1), na.rm = TRUE),
    "times, kmeans++ higher", sum(tab$kmpp1 > tab$hc + 1e-6 * abs(tab$hc), na.rm = TRUE), "times\n")
for (m in setdiff(methods, "mclust")) {
  below <- tab[[m]] < tab$mclust - 1e-6 * abs(tab$mclust)
  cat(sprintf("gaussmix %-14s below mclust (by more than 1e-6 relative): %3d of %d cells; worst %.3f\n",
              m, sum(below, na.rm = TRUE), sum(!is.na(tab$mclust)),
              max(c(0, (tab$mclust - tab[[m]])[which(below)]))))
}
for (m in c("hc_cross", "hc_cross_full")) {
  hi <- tab[[m]] > tab$mclust + 1e-6 * abs(tab$mclust)
  lo <- tab[[m]] < tab$mclust - 1e-6 * abs(tab$mclust)
  cat(sprintf("%-13s against mclust: higher %d, equal %d, lower %d (by more than 1: %d); fitted only by mclust %d, only by gaussmix %d\n",
              m, sum(hi, na.rm = TRUE), sum(!hi & !lo, na.rm = TRUE), sum(lo, na.rm = TRUE),
              sum(tab$mclust - tab[[m]] > 1, na.rm = TRUE),
              sum(is.na(tab[[m]]) & !is.na(tab$mclust)), sum(!is.na(tab[[m]]) & is.na(tab$mclust))))
}
cat("cells mclust fits but hc+kmeans++x1 fails:", sum(is.na(tab$hc_kmpp1) & !is.na(tab$mclust)),
    "; hc+kmeans++x1 fits but mclust fails:", sum(!is.na(tab$hc_kmpp1) & is.na(tab$mclust)), "\n")
