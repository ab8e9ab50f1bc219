# Bootstrap standard errors against the spread of estimates over independent samples
# from a known two-component mixture (n = 400): 500 samples give the spread; one
# sample, bootstrapped with R = 999 of each kind, gives the standard errors.
# Run from the package root: Rscript bench/boot.R > bench/boot.out
suppressPackageStartupMessages(library(gaussmix))
truth <- list(pro = c(0.4, 0.6), mean = c(0, 3), sd = c(1, 1.2))
draw <- function(n) {
  cl <- sample(2, n, TRUE, prob = truth$pro)
  rnorm(n, truth$mean[cl], truth$sd[cl])
}
pars <- c("pro.1", "mean.x.1", "mean.x.2", "var.x.1", "var.x.2")
set.seed(1)
est <- t(replicate(500, {
  f <- gmm(draw(400), k = 2, model = "V", init = truth)
  c(f$parameters$pro[1], f$parameters$mean[1, ], f$parameters$sigma[1, 1, ])
}))
colnames(est) <- pars
spread <- apply(est, 2, sd)
x <- draw(400)
f <- gmm(x, k = 2, model = "V", init = truth)
out <- data.frame(parameter = pars, spread_500_samples = spread)
for (ty in c("nonparametric", "parametric", "wlb")) {
  t <- system.time(b <- gmm_boot(f, R = 999, type = ty, seed = 2))[["elapsed"]]
  se <- summary(b)$table[pars, "se"]
  out[[paste0(ty, "_se")]] <- se
  out[[paste0(ty, "_ratio")]] <- se / spread
  cat(sprintf("%s: 999 replicates in %.2f s\n", ty, t))
}
print(out, digits = 3, row.names = FALSE)
