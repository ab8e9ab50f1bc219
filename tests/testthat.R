library(testthat)
library(gaussmix)

test_check("gaussmix")
