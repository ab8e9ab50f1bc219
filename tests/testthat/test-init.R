kmeans_c <- function(x, k, w = rep(1, nrow(x)), lloyd = 100L) {
  .Call(gaussmix:::C_gmm_kmeans, as.matrix(x), as.double(w), as.integer(k), as.integer(lloyd))
}

test_that("k-means++ recovers well separated groups exactly, whatever the seed", {
  set.seed(10)
  truth <- rep(1:4, c(30, 50, 20, 40))
  centres <- rbind(c(0, 0), c(20, 0), c(0, 20), c(20, 20))
  x <- centres[truth, ] + matrix(rnorm(280), 140)
  for (s in 1:20) {
    set.seed(s)
    cl <- kmeans_c(x, 4)
    # Each true group is one cluster, and each cluster one true group.
    tab <- table(truth, cl)
    expect_equal(sum(tab > 0), 4)
    expect_equal(dim(tab), c(4, 4))
  }
})

test_that("Lloyd steps end at a fixed point: every row is nearest its own centroid", {
  set.seed(2)
  x <- matrix(rnorm(400), 200)
  cl <- kmeans_c(x, 5)
  cent <- rowsum(x, cl) / as.vector(table(cl))
  d2 <- sapply(1:5, function(j) colSums((t(x) - cent[j, ])^2))
  expect_equal(max.col(-d2), cl)
  # The same criterion as stats::kmeans() started from our centres, which then
  # has nothing left to move.
  km <- kmeans(x, centers = cent, algorithm = "Lloyd", iter.max = 10)
  expect_equal(km$cluster, cl, ignore_attr = TRUE)
  expect_equal(unname(km$centers), unname(cent))
})

test_that("weighted seeding never picks a row of weight 0 and counts weights as copies", {
  set.seed(3)
  x <- rbind(matrix(rnorm(40), 20), c(100, 100))
  w <- c(rep(1, 20), 0)
  for (s in 1:10) {
    set.seed(s)
    cl <- kmeans_c(x, 2, w)
    # The far row has no weight, so it cannot be a centre of its own.
    expect_gt(sum(cl == cl[21]), 1)
  }
  expect_equal(sort(unique(kmeans_c(x, 3, c(rep(1, 20), 5)))), 1:3)
})

test_that("set.seed() reproduces the partition", {
  x <- as.matrix(iris[1:4])
  set.seed(5); a <- kmeans_c(x, 3)
  set.seed(5); b <- kmeans_c(x, 3)
  expect_identical(a, b)
})
