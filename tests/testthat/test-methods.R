fit <- gmm(faithful, k = 2, model = "VVV")

test_that("logLik, AIC, BIC and nobs agree with the explicit formulas", {
  ll <- logLik(fit)
  expect_s3_class(ll, "logLik")
  expect_equal(attr(ll, "df"), 11)
  expect_equal(nobs(fit), 272)
  expect_equal(AIC(fit), -2 * fit$loglik + 2 * 11)
  expect_equal(BIC(fit), -2 * fit$loglik + 11 * log(272))
  expect_equal(BIC(fit), fit$bic)
  # ICL adds twice the entropy of the responsibilities.
  z <- fit$z
  expect_equal(fit$icl, fit$bic - 2 * sum(ifelse(z > 0, z * log(z), 0)))
  expect_equal(fit$uncertainty, 1 - apply(z, 1, max))
  expect_equal(fit$icl_table["2", "VVV"], fit$icl)
  big <- gmm(faithful, k = 1:3, model = c("EII", "VVV"))
  expect_equal(dim(big$icl_table), c(3, 2))
  expect_true(all(big$icl_table >= unclass(big$bic_table)))   # entropy is >= 0
  expect_equal(unname(big$icl_table[1, ]), unname(unclass(big$bic_table)[1, ]))  # K = 1: no entropy
})

test_that("predict() gives the posterior, the class and the mixture density", {
  expect_equal(predict(fit, type = "prob"), fit$z, tolerance = 1e-10)
  expect_equal(predict(fit), fit$classification)
  expect_identical(fitted(fit, "classes"), fit$classification)
  new <- data.frame(waiting = c(50, 85), eruptions = c(2, 4.5))   # columns swapped on purpose
  p <- fit$parameters
  dens <- p$pro[1] * exp(ref_logdnorm(new[, 2:1], p$mean[, 1], p$sigma[, , 1])) +
    p$pro[2] * exp(ref_logdnorm(new[, 2:1], p$mean[, 2], p$sigma[, , 2]))
  expect_equal(predict(fit, new, type = "density"), dens, tolerance = 1e-10)
  expect_equal(predict(fit, new, type = "logdensity"), log(dens), tolerance = 1e-10)
  expect_equal(predict(fit, new), c(1L, 2L))
  expect_error(predict(fit, data.frame(a = 1)), "lacks the columns 'eruptions', 'waiting'")
  expect_error(predict(fit, data.frame(waiting = 80, eruption = 4.5)), "lacks the column 'eruptions'")
  expect_error(predict(fit, matrix(1, 2, 3)), "must have 2 columns")
  expect_equal(predict(fit, unname(as.matrix(new[, 2:1]))), c(1L, 2L))   # by position
  expect_error(predict(fit, c(1, 2)), "`newdata` must have 2 columns")
  expect_error(predict(fit, data.frame(eruptions = NA_real_, waiting = 1)), "`newdata` has missing values")
  expect_error(predict(fit, new, type = "bogus"), "'arg' should be one of")
})

test_that("coef() lays out the parameters", {
  co <- coef(fit)
  expect_equal(dim(co), c(1 + 2 + 3, 2))
  expect_equal(co["pro", ], fit$parameters$pro)
  expect_equal(co["mean.waiting", ], fit$parameters$mean["waiting", ])
  expect_equal(unname(co["cov.eruptions.waiting", ]), unname(fit$parameters$sigma[1, 2, ]))
  expect_equal(unname(co["var.waiting", ]), unname(fit$parameters$sigma[2, 2, ]))
})

test_that("simulate() follows stats::simulate(): nsim data sets of n rows, a seed attribute", {
  s1 <- simulate(fit, rows = 4000, seed = 7)
  s2 <- simulate(fit, rows = 4000, seed = 7)
  expect_identical(s1, s2)
  expect_s3_class(s1, "gmm_simulation")
  expect_identical(names(s1), "sim_1")
  x1 <- s1$sim_1
  expect_equal(dim(x1), c(4000, 2))
  expect_equal(colnames(x1), c("eruptions", "waiting"))
  cl <- attr(x1, "classification")
  expect_equal(mean(cl == 1), unname(fit$parameters$pro[1]), tolerance = 0.05)
  expect_equal(unname(colMeans(x1[cl == 2, ])), unname(fit$parameters$mean[, 2]), tolerance = 0.02)
  expect_equal(unname(cov(x1[cl == 2, ])), unname(fit$parameters$sigma[, , 2]), tolerance = 0.1)
  # nsim replicates of nobs() rows each, different from one another
  s3 <- simulate(fit, nsim = 3, seed = 1)
  expect_identical(names(s3), c("sim_1", "sim_2", "sim_3"))
  expect_true(all(vapply(s3, nrow, 1L) == nobs(fit)))
  expect_false(identical(s3$sim_1, s3$sim_2))
  # the seed attribute is the seed and the generator's kinds, as stats::simulate() keeps it
  expect_identical(as.vector(attr(s3, "seed")), 1)
  expect_identical(attr(attr(s3, "seed"), "kind"), as.list(RNGkind()))
  out <- capture.output(print(s3))
  expect_lt(length(out), 10)   # a short print, not the generator's 626 integers
  expect_match(out[1], "3 simulated data sets of 272 rows and 2 columns")
  expect_match(out[2], "^seed: 1 \\(Mersenne-Twister")
  set.seed(5)
  s4 <- simulate(fit)
  expect_match(capture.output(print(s4))[2], "626 integers")
  set.seed(1); a <- runif(1); set.seed(1); simulate(fit, 5, seed = 3); b <- runif(1)
  expect_identical(a, b)  # the caller's random stream is left alone
  h <- gmm(faithful$waiting, k = 2, model = "V")
  expect_equal(dim(simulate(h, rows = 10, seed = 1)[[1]]), c(10, 1))
  expect_error(simulate(fit, nsim = 0), "`nsim`")
  expect_error(simulate(fit, rows = -1), "`rows`")
})

test_that("print and summary show the model and return invisibly", {
  expect_output(out <- print(fit), "model VVV .* K = 2")
  expect_identical(out, fit)
  s <- summary(fit)
  expect_s3_class(s, "summary.gmm")
  expect_equal(sum(s$table), 272)
  expect_output(print(s), "Clustering table")
  expect_output(print(s), "-1130.26")
  h <- gmm(faithful$waiting, k = 2, model = "V")
  expect_output(print(summary(h)), "Standard deviations")
})

test_that("every plot draws without error", {
  pdf(NULL)
  on.exit(dev.off())
  big <- gmm(iris[1:4], k = 1:3, model = c("EEE", "VVV"))
  for (w in c("density", "bic", "classification", "uncertainty", "loglik")) {
    expect_invisible(plot(fit, what = w))
    expect_invisible(plot(big, what = w))
    expect_invisible(plot(gmm(faithful$waiting, k = 1:3), what = w))
  }
  expect_invisible(plot(big, what = "classification", dimens = c("Petal.Length", "Petal.Width")))
  expect_error(plot(big, dimens = 9), "`dimens`")
})

test_that("units and vector names reach the axis labels", {
  f <- gmm(heights$height, k = 2, model = "V")
  expect_equal(colnames(f$data), "height")
  expect_equal(unname(f$units), "cm")
  expect_equal(gaussmix:::axis_label(f, 1L), "height (cm)")
  g <- gmm(faithful, k = 2, model = "VVV")
  expect_null(g$units)
  expect_equal(gaussmix:::axis_label(g, 2L), "waiting")
  expect_equal(colnames(gmm(c(faithful$waiting), k = 2)$data), "x")
})

test_that("the heights data are Galton's children in centimetres", {
  expect_equal(dim(heights), c(934L, 3L))
  expect_equal(as.vector(table(heights$sex)), c(453L, 481L))
  expect_equal(nlevels(heights$family), 205L)
  # Galton's recorded means, 64.10 and 69.23 inches, times 2.54.
  expect_equal(as.vector(tapply(heights$height, heights$sex, mean)), c(64.10397, 69.23410) * 2.54,
               tolerance = 1e-4)
})

test_that("review fixes: coef() in 1-D, predict() ignores extra columns", {
  h <- gmm(heights$height, k = 2, model = "V")
  co <- coef(h)
  expect_equal(rownames(co), c("pro", "mean.height", "var.height"))
  expect_equal(unname(co["var.height", ]), unname(h$parameters$sigma[1, 1, ]))
  g <- gmm(iris[1:4], k = 2, model = "VEV")
  expect_equal(predict(g, iris), g$classification)   # Species is ignored
})

test_that("row names reach z, classification, uncertainty and predict(), as in mclust", {
  f <- gmm(USArrests, k = 2, model = "VVV")
  rn <- rownames(USArrests)
  expect_identical(rownames(f$z), rn)
  expect_identical(colnames(f$z), c("1", "2"))
  expect_identical(names(f$classification), rn)
  expect_identical(names(f$uncertainty), rn)
  expect_identical(rownames(f$data), rn)
  # the values are those of the unnamed data
  g <- gmm(unname(as.matrix(USArrests)), k = 2, model = "VVV")
  expect_null(rownames(g$z))
  expect_null(names(g$classification))
  expect_equal(unname(f$z), unname(g$z))
  expect_identical(unname(f$classification), g$classification)
  new <- USArrests[c("Texas", "Maine"), ]
  expect_identical(names(predict(f, new)), c("Texas", "Maine"))
  expect_identical(rownames(predict(f, new, type = "prob")), c("Texas", "Maine"))
  expect_identical(names(predict(f, new, type = "density")), c("Texas", "Maine"))
  expect_identical(unname(predict(f, new)), unname(f$classification[c("Texas", "Maine")]))
  # a named vector's names, and rows of weight 0 keep theirs too
  h <- stats::setNames(c(rnorm(30), rnorm(30, 5)), paste0("r", 1:60))
  fh <- gmm(h, k = 2, model = "V", weights = rep(c(1, 0), 30))
  expect_identical(names(fh$classification), names(h))
  expect_identical(rownames(fh$z), names(h))
})

test_that("plot()'s `what` takes mclust's names, in any case, and prefixes", {
  m <- gaussmix:::match_what
  expect_identical(m("BIC"), "bic")
  expect_identical(m(c("Classification", "UNCERTAINTY", "Density")),
                   c("classification", "uncertainty", "density"))
  expect_identical(m(c("b", "class", "logLik")), c("bic", "classification", "loglik"))
  expect_identical(m(c("bic", "BIC")), "bic")
  expect_error(m("mean"), '"mean"')
  expect_error(m(1), "`what` must be one or more of")
  pdf(NULL)
  on.exit(dev.off())
  f <- gmm(faithful, k = 1:2, model = c("EII", "VVV"))
  expect_invisible(plot(f, what = "BIC"))
  expect_invisible(plot(f, what = c("Classification", "Uncertainty")))
})

test_that("a fit is a warm start: its parameters, K and model", {
  f <- gmm(faithful, k = 2, model = "VVV")
  g <- gmm(faithful, init = f)
  expect_identical(g$k, 2L)
  expect_identical(g$model, "VVV")
  expect_equal(g$loglik, f$loglik, tolerance = 1e-8)
  expect_gte(g$loglik, f$loglik - 1e-12 * abs(f$loglik))   # EM from a fit never goes down (to rounding)
  expect_lte(g$iterations, 3L)   # already at the maximum
  # the same as the parameters given as a list
  p <- f$parameters
  h <- gmm(faithful, model = "VVV", init = list(mean = p$mean, sigma = p$sigma, pro = p$pro))
  expect_identical(g$parameters, h$parameters)
  # another model from the fit's parameters, and a K that is not the fit's
  e <- gmm(faithful, model = "EEE", init = f)
  expect_identical(e$model, "EEE")
  expect_error(gmm(faithful, k = 3, init = f), "must equal the number of components")
  expect_error(gmm(faithful[2:1], init = f), "`init` is a fit to the columns 'eruptions', 'waiting'")
  expect_error(gmm(faithful$waiting, init = f), "`init` is a fit to the columns")
})

test_that("n_init without a random start warns that it is ignored", {
  expect_warning(gmm(faithful, k = 2, model = "EII", n_init = 5), "`n_init` \\(5\\) is ignored")
  f <- gmm(faithful, k = 2, model = "VVV")
  expect_warning(gmm(faithful, init = f, n_init = 3), "`init` gives parameters")
  expect_silent(gmm(faithful, k = 2, model = "EII", init = "kmeans++", n_init = 3))
})

test_that("fitted() gives each row's component mean, as fitted.kmeans() its centre; residuals() the rest", {
  f <- gmm(USArrests, k = 3, model = "VVV")
  m <- fitted(f)
  cl <- f$classification
  expect_identical(dim(m), dim(f$data))
  for (i in c(1, 17, 50)) expect_identical(unname(m[i, ]), unname(f$parameters$mean[, cl[i]]))
  expect_identical(rownames(m), rownames(USArrests))
  expect_identical(colnames(m), colnames(USArrests))
  expect_identical(fitted(f, "classes"), cl)
  r <- residuals(f)
  expect_equal(r, as.matrix(USArrests) - m)
  # with the classes of a K-means fit as the check: the same arithmetic
  km <- list(centers = t(f$parameters$mean), cluster = unname(cl))
  expect_equal(unname(m), unname(km$centers[km$cluster, ]))
  expect_error(fitted(f, "z"), "should be one of")
  h <- gmm(faithful$waiting, k = 2, model = "V")
  expect_identical(dim(fitted(h)), c(272L, 1L))
})

test_that("na.action works as in R's modelling functions", {
  x <- as.matrix(faithful)
  x[c(3, 10), 1] <- NA
  x[20, 2] <- NaN
  rownames(x) <- paste0("r", seq_len(nrow(x)))
  expect_error(gmm(x, k = 2, model = "VVV"), "3 row\\(s\\), the first row 3; drop them with na.action = na.omit")
  expect_error(gmm(x, k = 2, model = "VVV", na.action = na.fail), "missing values")
  clean <- x[-c(3, 10, 20), ]
  ref <- gmm(clean, k = 2, model = "VVV")
  o <- gmm(x, k = 2, model = "VVV", na.action = na.omit)
  expect_equal(o$parameters, ref$parameters)
  expect_identical(nrow(o$z), 269L)
  expect_equal(unname(unclass(o$na.action)), c(3, 10, 20))
  expect_s3_class(o$na.action, "omit")
  e <- gmm(as.data.frame(x), k = 2, model = "VVV", na.action = "na.exclude")
  expect_equal(unname(e$parameters$mean), unname(ref$parameters$mean))
  expect_identical(nrow(e$z), 272L)
  expect_true(all(is.na(e$z[c(3, 10, 20), ])))
  expect_identical(rownames(e$z), rownames(x))
  expect_identical(unname(e$classification[-c(3, 10, 20)]), unname(ref$classification))
  expect_true(all(is.na(e$uncertainty[c(3, 10, 20)])))
  expect_identical(length(predict(e)), 272L)
  expect_true(is.na(predict(e)[10]))
  expect_identical(dim(fitted(e)), c(272L, 2L))
  expect_identical(dim(residuals(e)), c(272L, 2L))
  expect_equal(residuals(e)[-c(3, 10, 20), ], residuals(ref), ignore_attr = TRUE)
  expect_identical(nobs(e), 269)
  # weights are given for the input rows
  w <- rep(1:2, 136)
  ew <- gmm(x, k = 2, model = "VVV", weights = w, na.action = na.omit)
  rw <- gmm(clean, k = 2, model = "VVV", weights = w[-c(3, 10, 20)])
  expect_equal(ew$parameters, rw$parameters)
  expect_error(gmm(x, k = 2, weights = 1:5, na.action = na.omit), "one weight per row \\(272\\)")
  expect_error(gmm(x, k = 2, na.action = 3), "`na.action` must be a function")
  # a vector, and nothing to drop
  h <- c(faithful$waiting[1:50], NA)
  expect_identical(length(gmm(h, k = 2, model = "V", na.action = na.exclude)$classification), 51L)
  expect_null(gmm(faithful, k = 2, model = "VVV", na.action = na.omit)$na.action)
})

test_that("print and summary say how many rows na.action dropped", {
  x <- as.matrix(faithful)
  x[c(3, 10), 1] <- NA
  e <- gmm(x, k = 2, model = "VVV", na.action = na.exclude)
  expect_match(capture.output(print(e)), "2 observations deleted due to missingness", all = FALSE)
  s <- capture.output(print(summary(e)))
  expect_match(s, "2 observations deleted due to missingness", all = FALSE)
  expect_identical(sum(summary(e)$table), 270L)
})

test_that("tidy(), glance() and augment() work through the generics package", {
  skip_if_not_installed("generics")
  f <- gmm(USArrests, k = 3, model = "VVV")
  td <- generics::tidy(f)
  expect_s3_class(td, "data.frame")
  expect_identical(td$component, 1:3)
  expect_equal(td$proportion, unname(f$parameters$pro))
  expect_equal(td$mean.Murder, unname(f$parameters$mean["Murder", ]))
  expect_equal(td$sd.UrbanPop, unname(sqrt(f$parameters$sigma["UrbanPop", "UrbanPop", ])))
  expect_identical(td$size, as.integer(tabulate(f$classification, 3)))
  gl <- generics::glance(f)
  expect_identical(nrow(gl), 1L)
  expect_equal(gl$BIC, f$bic)
  expect_equal(gl$AIC, AIC(f))
  expect_equal(gl$logLik, f$loglik)
  expect_identical(gl$k, 3L)
  au <- generics::augment(f)
  expect_identical(dim(au), c(50L, 6L))
  expect_identical(as.integer(au$.class), unname(f$classification))
  expect_equal(au$.uncertainty, unname(f$uncertainty))
  expect_identical(rownames(au), rownames(USArrests))
  an <- generics::augment(f, newdata = USArrests[1:5, ])
  expect_identical(as.integer(an$.class), unname(predict(f, USArrests[1:5, ])))
  expect_error(generics::augment(f, data = USArrests[1:3, ]), "has 3 rows")
})

test_that("verbose = TRUE shows one progress line for a sweep, and clears it", {
  old <- options(gaussmix.progress_after = 0)
  on.exit(options(old), add = TRUE)
  out <- capture.output(f <- gmm(iris[1:4], verbose = TRUE, threads = 1))
  txt <- paste(out, collapse = "\n")
  expect_match(txt, "gmm: fitting the cells \\[[= ]{20}\\] [0-9]+ of 126 done")
  expect_match(txt, "gmm: refining the best cells")
  expect_match(txt, "\r *\r$")   # cleared at the end
  # the same fit as without progress
  g <- gmm(iris[1:4], verbose = FALSE, threads = 1)
  expect_identical(f$bic_table, g$bic_table)
  # silent by default outside interactive sessions, and when the sweep is quick
  expect_identical(capture.output(q1 <- gmm(iris[1:4], k = 2, model = "VVV")), character())
  options(gaussmix.progress_after = 2)
  expect_identical(capture.output(q2 <- gmm(iris[1:4], k = 2, model = "VVV", verbose = TRUE)), character())
  expect_error(gmm(iris[1:4], verbose = NA), "`verbose` must be TRUE or FALSE")
  # an error in the progress function ends a threaded sweep cleanly, and the
  # next sweep runs as usual
  x <- as.matrix(iris[1:4])
  w <- rep(1, 150)
  z <- diag(3)[rep(1:3, each = 50), ]
  starts <- list(list(list(0L, .Call(gaussmix:::C_gmm_suff, x, w, z, NULL))))
  models <- gmm_models(d = 4)$model
  args <- list(x, w, 3L, models, matrix(TRUE, 1, 14), starts, NULL, NULL, list(NULL),
               gaussmix:::control_vector(gmm_control(), 2L), c(1e-5, 10, 1, 1, log(150), 0, 1), 2L,
               function(phase, done, total) if (done >= 2) stop("stop here"), NULL, NULL, NULL)
  expect_error(.Call(gaussmix:::C_gmm_sweep, args), "stop here")
  args[[13]] <- 3
  expect_error(.Call(gaussmix:::C_gmm_sweep, args), "'progress' must be NULL or a function")
  args[13] <- list(NULL)
  r1 <- .Call(gaussmix:::C_gmm_sweep, args)
  args[[12]] <- 1L
  r2 <- .Call(gaussmix:::C_gmm_sweep, args)
  expect_true(is.finite(r1$best$loglik))
  expect_identical(r1$bic, r2$bic)
  args[[14]] <- rep(4L, 150)
  expect_error(.Call(gaussmix:::C_gmm_sweep, args), "'labels' must lie between 0 \\(unknown\\) and the smallest K, 3")
  args[[14]] <- 1:3
  expect_error(.Call(gaussmix:::C_gmm_sweep, args), "'labels' must be an integer vector of length 150")
})

test_that("the chosen fit's path says where it started and where refinement began", {
  f <- gmm(iris[, 1:4])
  expect_identical(f$model, "VEV")
  expect_match(f$start, "^the responsibilities of the [A-Z]{3} fit with K = 2 \\(a cross start\\)$")
  expect_true(f$screened >= 1L && f$screened <= length(f$loglik_trace))
  expect_true(all(diff(f$loglik_trace) >= -1e-9 * abs(f$loglik)))
  expect_lte(length(f$loglik_trace), f$iterations + 1L)
  expect_match(capture.output(print(summary(f))), "started from the responsibilities of the", all = FALSE)
  g <- gmm(faithful, k = 2, model = "VVV")
  expect_match(g$start, "^the (VVV|Ward's|VVV and Ward's) trees? cut at 2 groups$")
  p <- g$parameters
  h <- gmm(faithful, model = "VVV", init = list(mean = p$mean, sigma = p$sigma, pro = p$pro))
  expect_identical(h$start, "the parameters given as init")
  expect_true(is.na(h$screened))   # one cell, one start: nothing to screen
  r <- gmm(faithful, k = 3, model = "EII", init = "random", n_init = 2)
  expect_match(r$start, "^a random start [12]$")
  one <- gmm(faithful$waiting, k = 1)
  expect_identical(one$start, "all rows in one group")
  expect_match(gmm(faithful$waiting, k = 3, model = "V")$start, "tree cut at 3 groups|groups cut at the quantiles")
  pdf(NULL)
  on.exit(dev.off())
  expect_invisible(plot(f, what = "loglik"))
  expect_invisible(plot(h, what = "loglik"))
})

test_that("plots keep to the user's par(mfrow) layout and restore par", {
  pdf(NULL)
  on.exit(dev.off())
  f <- gmm(iris[1:4], k = 2, model = "VEV")
  op <- par(mfrow = c(1, 2))
  plot(f, what = "classification")          # 6 pairs, one per figure: 3 pages of 2
  expect_identical(par("mfrow"), c(1L, 2L))
  expect_identical(par("mfg")[1:2], c(1L, 2L))
  plot(f, what = "uncertainty", dimens = 1:3)   # 3 more figures: the last on the left
  expect_identical(par("mfg")[1:2], c(1L, 1L))
  par(op)
  mar <- par("mar")
  plot(f, what = "bic")
  expect_identical(par("mar"), mar)
  plot(f, what = "density")                 # the matrix of panels, then par as it was
  expect_identical(par("mfrow"), c(1L, 1L))
  expect_identical(par("mar"), mar)
})

test_that("gmm(criterion =) chooses by BIC, ICL or AIC and keeps all three tables", {
  fits <- lapply(c(bic = "bic", icl = "icl", aic = "aic"), function(cr) gmm(faithful, criterion = cr))
  for (cr in names(fits)) {
    f <- fits[[cr]]
    expect_identical(f$criterion, cr)
    tab <- unclass(f[[paste0(cr, "_table")]])
    attr(tab, "reasons") <- NULL
    at <- which(tab == min(tab, na.rm = TRUE), arr.ind = TRUE)
    expect_identical(c(rownames(tab)[at[1, 1]], colnames(tab)[at[1, 2]]),
                     c(as.character(f$k), f$model), label = cr)
    expect_equal(f[[cr]], min(tab, na.rm = TRUE), tolerance = 1e-6)
    # AIC as stats::AIC() has it, for the fit and, by the same formula, the table
    expect_equal(f$aic, AIC(f))
    df <- outer(as.integer(rownames(tab)), colnames(tab),
                Vectorize(function(k, m) gmm_models(d = 2, k = k)$df[gmm_models(d = 2)$model == m]))
    expect_equal(unclass(f$aic_table), unclass(f$bic_table) - df * log(272) + 2 * df,
                 ignore_attr = TRUE)
  }
  # ICL with the entropy of the returned responsibilities
  fi <- fits$icl
  z <- fi$z
  expect_equal(fi$icl, fi$bic - 2 * sum(ifelse(z > 0, z * log(z), 0)), tolerance = 1e-8)
  # AIC penalises less: at least as many free parameters as BIC's choice
  expect_gte(fits$aic$df, fits$bic$df)
  expect_match(capture.output(print(fi)), "Chosen by ICL", all = FALSE)
  expect_match(capture.output(print(summary(fi))), "chosen by ICL", all = FALSE)
  pdf(NULL)
  on.exit(dev.off())
  expect_invisible(plot(fi, what = "bic"))
  expect_invisible(plot(fi, what = "bic", criterion = "aic"))
  expect_error(gmm(faithful, criterion = "cv"), "'arg' should be one of")
})
