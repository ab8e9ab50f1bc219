# Builds data/heights.rda: the adult heights of the children in Galton's (1886)
# family data, in centimetres, with their sex.
#
# Source: HistData::GaltonFamilies (CRAN package HistData), which transcribes
# Galton's notebook of 205 families: 934 children, heights in inches as recorded
# (to the nearest tenth or quarter of an inch; daughters' heights are as measured,
# not multiplied by 1.08 as Galton did in his analyses).
# Run from the package root: Rscript data-raw/heights.R
library(HistData)

g <- HistData::GaltonFamilies
heights <- data.frame(
  height = round(g$childHeight * 2.54, 2),   # 1 inch = 2.54 cm exactly
  sex = factor(as.character(g$gender), levels = c("female", "male")),
  family = factor(as.character(g$family))
)
attr(heights$height, "units") <- "cm"
stopifnot(nrow(heights) == 934, !anyNA(heights))
save(heights, file = "data/heights.rda", compress = "xz", version = 2)
