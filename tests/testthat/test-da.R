# Model-based discriminant analysis (R/da.R): EDDA against explicit matrix algebra,
# both types against mclust's MclustDA(), prediction, cross-validation, bad input.

test_that("a two-class EDDA is the explicit pooled or separate Gaussian fit", {
  x <- cbind(a = c(0, 1, 2, 1, 5, 6, 7, 6.5), b = c(1, 0, 1, 2, 5, 7, 6, 5))
  cl <- factor(rep(c("p", "q"), each = 4))
  n <- 8
  mu <- rbind(colMeans(x[1:4, ]), colMeans(x[5:8, ]))
  W <- lapply(1:2, function(g) {
    r <- sweep(x[cl == levels(cl)[g], ], 2, mu[g, ])
    crossprod(r)
  })
  ldens <- function(S) sapply(1:2, function(g) {
    Sg <- if (is.list(S)) S[[g]] else S
    r <- sweep(x, 2, mu[g, ])
    -0.5 * (2 * log(2 * pi) + log(det(Sg)) + rowSums((r %*% solve(Sg)) * r))
  })
  mix_ll <- function(lf) sum(log(rowSums(exp(lf) * 0.5)))
  # EEE: one covariance, the pooled scatter over n (linear discriminant analysis)
  S <- (W[[1]] + W[[2]]) / n
  eee <- gmm_da(x, cl, type = "EDDA", model = "EEE")
  expect_equal(unname(t(eee$models$mean)), unname(mu), tolerance = 1e-12)
  expect_equal(unname(eee$models$sigma[, , 1]), unname(S), tolerance = 1e-12)
  expect_equal(unname(eee$models$sigma[, , 2]), unname(S), tolerance = 1e-12)
  expect_equal(eee$loglik, mix_ll(ldens(S)), tolerance = 1e-12)
  expect_identical(eee$df, 4 + 3)   # two means and one covariance, no proportions
  expect_equal(eee$bic, -2 * eee$loglik + 7 * log(n))
  # VVV: each class its own scatter over its size (quadratic)
  vvv <- gmm_da(x, cl, type = "EDDA", model = "VVV")
  expect_equal(unname(vvv$models$sigma[, , 2]), unname(W[[2]] / 4), tolerance = 1e-12)
  expect_equal(vvv$loglik, mix_ll(ldens(list(W[[1]] / 4, W[[2]] / 4))), tolerance = 1e-12)
  expect_identical(vvv$df, 4 + 6)
  # the choice is the smaller BIC of the models tried
  both <- gmm_da(x, cl, type = "EDDA", model = c("EEE", "VVV"))
  expect_identical(both$model, c("EEE", "VVV")[which.min(c(eee$bic, vvv$bic))])
  expect_equal(unname(both$bic_table), c(eee$bic, vvv$bic))
  # posterior class probabilities: prior times density, normalised
  lf <- ldens(S)
  post <- exp(lf) * 0.5 / rowSums(exp(lf) * 0.5)
  expect_equal(unname(predict(eee, x, type = "prob")), post, tolerance = 1e-12)
  expect_identical(as.character(predict(eee, x)), levels(cl)[max.col(post)])
  # another prior moves the boundary towards the rarer class
  new <- rbind(c(3.5, 3.5))
  colnames(new) <- c("a", "b")
  p1 <- predict(eee, new, type = "prob", prior = c(p = 0.9, q = 0.1))
  p2 <- predict(eee, new, type = "prob")
  expect_gt(p1[1, "p"], p2[1, "p"])
})

test_that("the same models as mclust's MclustDA(), EDDA and general, with its BIC", {
  skip_if_not_installed("mclust")
  # MclustDA() calls mclust's functions by name, so mclust must be attached
  suppressPackageStartupMessages(library("mclust", character.only = TRUE))
  e <- new.env()
  data(list = c("banknote", "diabetes"), package = "mclust", envir = e)
  sets <- list(iris = list(iris[1:4], iris$Species),
               banknote = list(e$banknote[-1], e$banknote$Status),
               diabetes = list(e$diabetes[-1], e$diabetes$class))
  for (nm in names(sets)) {
    x <- sets[[nm]][[1]]
    cl <- sets[[nm]][[2]]
    da <- gmm_da(x, cl, type = "EDDA")
    m <- mclust::MclustDA(x, cl, modelType = "EDDA", verbose = FALSE)
    expect_identical(da$model, m$models[[1]]$modelName, label = nm)
    # the same BIC to 0.05 (banknote's EVE: gaussmix's M-step reaches a higher class
    # likelihood, -620.9022 against -620.9025, and a mixture log-likelihood 0.02 lower)
    expect_equal(da$bic, -m$bic, tolerance = 0.05 / abs(m$bic), label = nm)
    g <- gmm_da(x, cl, type = "general")
    mg <- mclust::MclustDA(x, cl, verbose = FALSE)
    expect_identical(unname(vapply(g$models, function(f) f$k, 1L)),
                     unname(vapply(mg$models, function(f) as.integer(f$G), 1L)), label = nm)
    expect_lte(g$bic, -mg$bic + 1e-6 * abs(mg$bic))   # never worse
    expect_identical(g$df, mg$df)
  }
})

test_that("cross-validation is stratified, seeded, and near mclust's", {
  da <- gmm_da(iris[1:4], iris$Species, type = "EDDA", cv = 10, seed = 3)
  again <- gmm_da(iris[1:4], iris$Species, type = "EDDA", cv = 10, seed = 3)
  expect_identical(da$cv, again$cv)
  expect_true(da$cv$error >= 0 && da$cv$error <= 0.1)
  expect_true(da$cv$se >= 0)
  expect_identical(length(da$cv$classification), 150L)
  expect_identical(da$cv$error, mean(da$cv$classification != iris$Species))
  set.seed(1); a <- runif(1); set.seed(1); gmm_da(iris[1:4], iris$Species, type = "EDDA", cv = 5, seed = 9); b <- runif(1)
  expect_identical(a, b)
  skip_if_not_installed("mclust")
  suppressPackageStartupMessages(library("mclust", character.only = TRUE))
  m <- mclust::MclustDA(iris[1:4], iris$Species, modelType = "EDDA", verbose = FALSE)
  set.seed(3)
  mc <- mclust::cvMclustDA(m, nfold = 10, verbose = FALSE)
  expect_lte(abs(da$cv$error - mc$ce), 2 * max(da$cv$se, mc$se, 0.01))
  g <- gmm_da(iris[1:4], iris$Species, cv = 10, seed = 3)
  expect_lte(g$cv$error, 0.1)
  # the banknote and diabetes data too, EDDA, ten folds each
  e <- new.env()
  data(list = c("banknote", "diabetes"), package = "mclust", envir = e)
  for (set in list(list(e$banknote[-1], e$banknote$Status), list(e$diabetes[-1], e$diabetes$class))) {
    ours <- gmm_da(set[[1]], set[[2]], type = "EDDA", cv = 10, seed = 3)
    mm <- mclust::MclustDA(set[[1]], set[[2]], modelType = "EDDA", verbose = FALSE)
    set.seed(3)
    theirs <- mclust::cvMclustDA(mm, nfold = 10, verbose = FALSE)
    expect_lte(abs(ours$cv$error - theirs$ce), 2 * max(ours$cv$se, theirs$se, 0.01))
  }
})

test_that("print, summary and plot", {
  da <- gmm_da(iris[1:4], iris$Species, type = "EDDA", cv = 5, seed = 1)
  out <- capture.output(print(da))
  expect_match(out[1], "discriminant analysis \\(EDDA\\), 3 classes, n = 150, d = 4")
  expect_match(out, "5-fold cross-validated error", all = FALSE)
  s <- summary(da)
  expect_identical(sum(s$confusion), 150L)
  expect_match(capture.output(print(s)), "confusion matrix", all = FALSE)
  pdf(NULL)
  on.exit(dev.off())
  expect_invisible(plot(da))
  expect_invisible(plot(gmm_da(iris[1:4], iris$Species), dimens = 3:4))
  expect_invisible(plot(gmm_da(faithful$waiting, faithful$eruptions > 3)))
})

test_that("bad input gets clear errors", {
  x <- iris[1:4]
  expect_error(gmm_da(x, iris$Species[-1]), "one label per row \\(150\\), not 149")
  expect_error(gmm_da(replace(x, cbind(4, 2), NA), iris$Species), "missing values .* remove them first")
  expect_error(gmm_da(x, replace(iris$Species, 7, NA)), "missing labels in 1 row\\(s\\), the first row 7")
  expect_error(gmm_da(x, rep("a", 150)), "at least two classes")
  expect_error(gmm_da(x, c(rep("a", 149), "b")), "class 'b' has fewer than 2 rows")
  expect_error(gmm_da(x, iris$Species, prior = c(1, 2)), "3 positive class probabilities")
  expect_error(gmm_da(x, iris$Species, prior = c(a = 1, b = 1, c = 1)), "named by the classes")
  expect_error(gmm_da(x, iris$Species, cv = 1), "`cv` must be 0 or a number of folds")
  # a class too small for its covariance: the general fit says which class
  cl <- factor(c(rep("big", 147), rep("tiny", 3)))
  expect_error(gmm_da(x, cl, type = "general", model = "VVV"), "class 'tiny'")
})

test_that("semi-supervised gmm(labels =): fixed labelled rows, the DA fit when all are labelled", {
  x <- as.matrix(iris[1:4])
  sp <- iris$Species
  for (m in c("VVV", "EEE", "VEV")) {
    f <- gmm(x, labels = sp, model = m)
    da <- gmm_da(x, sp, type = "EDDA", model = m)
    expect_identical(f$k, 3L)
    expect_equal(unname(f$parameters$mean), unname(da$models$mean), tolerance = 1e-10, label = m)
    # (VEV's M-step iterates; EM's second M-step from the same classes goes on from
    # the first, so it may settle a little further than gmm_da()'s one M-step)
    expect_equal(as.vector(f$parameters$sigma), as.vector(da$models$sigma), tolerance = 1e-6,
                 label = m)
    expect_equal(unname(f$parameters$pro), rep(1 / 3, 3), tolerance = 1e-12)
    expect_identical(unname(f$classification), as.integer(sp))
  }
  # some rows labelled: theirs fixed, the log-likelihood explicit
  set.seed(1)
  part <- sp
  part[sample(150, 110)] <- NA
  g <- gmm(x, labels = part, model = "VVV")
  lab <- as.integer(part)
  known <- !is.na(lab)
  expect_identical(unname(g$z[known, ]), diag(3)[lab[known], ])
  p <- g$parameters
  lf <- sapply(1:3, function(j) {
    r <- sweep(x, 2, p$mean[, j])
    S <- p$sigma[, , j]
    log(p$pro[j]) - 0.5 * (4 * log(2 * pi) + log(det(S)) + rowSums((r %*% solve(S)) * r))
  })
  ll <- sum(lf[cbind(which(known), lab[known])]) + sum(log(rowSums(exp(lf[!known, ]))))
  expect_equal(g$loglik, ll, tolerance = 1e-10)
  expect_true(all(diff(g$loglik_trace) >= -1e-9 * abs(g$loglik)))
  expect_gte(mean(levels(g$labels)[g$classification] == sp), 0.95)
  # none labelled: the usual fit
  n0 <- gmm(x, k = 3, model = "VVV")
  n1 <- gmm(x, k = 3, model = "VVV", labels = rep(NA, 150))
  expect_identical(n0$parameters, n1$parameters)
  # a labelled row of weight 0 keeps its class too
  lab0 <- which(!is.na(part))[c(1, 25)]
  w <- replace(rep(1, 150), lab0, 0)
  h <- gmm(x, labels = part, model = "VVV", weights = w)
  expect_identical(unname(h$classification[lab0]), as.integer(part[lab0]))
  expect_identical(unname(h$z[lab0, ]), diag(3)[as.integer(part[lab0]), ])
  # bad input
  expect_error(gmm(x, labels = sp[-1]), "one label \\(or NA\\) per row \\(150\\)")
  expect_error(gmm(x, k = 2, labels = sp), "the number of their classes \\(3\\)")
  expect_warning(gmm(x, labels = sp, model = "VVV", init = "kmeans++"), "`init` is ignored")
  only <- replace(rep(NA, 150), 1, "a")
  only[2] <- "b"
  expect_error(gmm(x, labels = only, weights = replace(rep(1, 150), 2, 0)),
               "every class of `labels` needs a labelled row of positive weight")
})
