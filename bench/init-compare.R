# How often does the default gmm() reach mclust's BIC, cell by cell, and is its
# chosen model as good? For each data set, gmm(x) with every default (every model,
# K = 1:9) and mclust's mclustBIC() with its defaults; a cell counts as no worse
# when gaussmix's BIC (R's sign) is at most mclust's plus 1e-6 relative. Cells that
# gaussmix rejects as spurious (see ?gmm_control, keep_degenerate) are counted
# apart. Two groups: the seven data sets named in the issue on starts, and twelve
# other classic data sets. Writes bench/init-compare.csv (every cell) and prints the
# summary used in bench/README.md.
# Run from the package root: Rscript bench/init-compare.R [threads] [control]
# `control`, R code such as "gmm_control(cross_starts = FALSE)", replaces gmm()'s
# default control; the CSV is then not written (it records the defaults).
suppressPackageStartupMessages({
  library(gaussmix)
  library(mclust)
})
args <- commandArgs(TRUE)
threads <- if (length(args)) as.integer(args[1]) else 1L
control <- if (length(args) > 1L) eval(parse(text = args[2])) else gmm_control()
if (length(args) > 1L) cat("gmm() with control =", args[2], "\n")
e <- new.env()
data(list = c("diabetes", "banknote", "wreath", "acidity", "thyroid"), package = "mclust", envir = e)
groups <- list(
  seven = list(faithful = faithful, iris = iris[1:4], diabetes = e$diabetes[-1],
               banknote = e$banknote[-1], wreath = e$wreath,
               acidity = as.numeric(unlist(e$acidity)), galaxies = MASS::galaxies / 1000),
  other = list(crabs = MASS::crabs[4:8], thyroid = e$thyroid[-1], USArrests = USArrests,
               swiss = swiss, trees = trees, quakes = quakes[1:4], geyser = MASS::geyser,
               state.x77 = as.data.frame(state.x77), LifeCycleSavings = LifeCycleSavings,
               rock = rock, mtcars = mtcars, precip = as.numeric(precip))
)

rows <- list()
chosen <- list()
for (g in names(groups)) for (nm in names(groups[[g]])) {
  x <- groups[[g]][[nm]]
  d <- NCOL(x)
  gc()
  tg <- system.time(fit <- gmm(x, threads = threads, control = control))[["elapsed"]]
  tm <- system.time(mb <- mclustBIC(x, G = 1:9, verbose = FALSE))[["elapsed"]]
  models <- colnames(fit$bic_table)
  ours <- unclass(fit$bic_table)
  reasons <- attr(fit$bic_table, "reasons")
  theirs <- -unclass(mb)[, models, drop = FALSE]
  df <- outer(1:9, models, Vectorize(function(k, m) nMclustParams(m, d, k)))
  dimnames(df) <- dimnames(ours)
  for (m in models) for (k in 1:9) {
    rows[[length(rows) + 1L]] <- data.frame(
      group = g, data = nm, model = m, k = k, df = df[k, m],
      gaussmix = ours[k, m], mclust = theirs[k, m],
      reason = if (is.na(reasons[k, m])) "" else reasons[k, m])
  }
  spur <- !is.na(reasons) & grepl("spurious", reasons)
  ok <- !is.na(theirs) & !spur
  best_m <- which(theirs == min(theirs[ok]) & ok, arr.ind = TRUE)[1, ]
  chosen[[length(chosen) + 1L]] <- data.frame(
    group = g, data = nm, n = NROW(x), d = d,
    gaussmix = sprintf("%s,%d %.3f", fit$model, fit$k, fit$bic),
    gaussmix_df = fit$df,
    mclust = sprintf("%s,%d %.3f", names(summary(mb))[1] |> sub(pattern = ",.*", replacement = ""),
                     as.integer(sub(".*,", "", names(summary(mb))[1])), -max(mb, na.rm = TRUE)),
    mclust_df = df[which(theirs == min(theirs, na.rm = TRUE))[1]],
    mclust_nonspurious = sprintf("%s,%d %.3f", models[best_m[2]], best_m[1], theirs[best_m[1], best_m[2]]),
    no_worse = fit$bic <= theirs[best_m[1], best_m[2]] * (1 + 1e-6),
    sec_gaussmix = tg, sec_mclust = tm)
}
tab <- do.call(rbind, rows)
if (length(args) < 2L) utils::write.csv(tab, "bench/init-compare.csv", row.names = FALSE)
ch <- do.call(rbind, chosen)

tol <- 1e-6
tab$spurious <- grepl("spurious", tab$reason)
tab$cmp <- with(tab, ifelse(is.na(mclust), "mclust NA",
                     ifelse(spurious, "rejected as spurious",
                     ifelse(is.na(gaussmix), "gaussmix failed",
                     ifelse(gaussmix <= mclust + tol * abs(mclust), "no worse", "worse")))))
for (g in names(groups)) {
  s <- tab[tab$group == g & tab$cmp != "mclust NA", ]
  cat(sprintf("\n== %s: %d cells that mclust fits\n", g, nrow(s)))
  print(table(data = s$data, s$cmp))
  nw <- sum(s$cmp == "no worse")
  cat(sprintf("no worse: %d of %d (%.1f%%); of the %d not rejected as spurious: %.1f%%\n",
              nw, nrow(s), 100 * nw / nrow(s), sum(!s$spurious), 100 * nw / sum(!s$spurious)))
  w <- s[s$cmp == "worse", ]
  if (nrow(w)) {
    w$gap <- w$gaussmix - w$mclust
    cat("worst gaps (BIC):\n")
    print(head(w[order(-w$gap), c("data", "model", "k", "gaussmix", "mclust", "gap")], 8), row.names = FALSE)
  }
}
cat("\nchosen fits (BIC with R's sign; mclust_nonspurious is mclust's best cell that gaussmix does not reject):\n")
print(ch[, c("group", "data", "n", "d", "gaussmix", "gaussmix_df", "mclust", "mclust_df",
             "mclust_nonspurious", "no_worse")], row.names = FALSE)
cat("\nseconds, one run each:\n")
print(ch[, c("group", "data", "sec_gaussmix", "sec_mclust")], row.names = FALSE)
for (g in names(groups)) {
  cat(sprintf("total %s: gaussmix %.2f s, mclustBIC %.2f s\n", g,
              sum(ch$sec_gaussmix[ch$group == g]), sum(ch$sec_mclust[ch$group == g])))
}
