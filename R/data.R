#' Heights of Galton's adult children, with their sex
#'
#' The adult heights of the 934 children in the 205 families that Francis Galton
#' measured for his 1886 study of regression towards the mean, converted to
#' centimetres, with each child's sex. Heights of women and men overlap: a
#' mixture of two normal components is the natural model when the sex is not
#' recorded, as in the height example of the notes this package grew from.
#'
#' @format A data frame with 934 rows and 3 columns:
#' \describe{
#'   \item{height}{adult height in centimetres (the recorded inches times 2.54,
#'     rounded to 0.01 cm); the column carries the attribute `units = "cm"`,
#'     which [plot.gmm()] uses in its axis labels.}
#'   \item{sex}{factor, `"female"` (453) or `"male"` (481).}
#'   \item{family}{factor, Galton's family identifier (205 families).}
#' }
#' Daughters' heights are as measured. Galton multiplied them by 1.08 in his
#' analyses; that is not done here.
#' @source Galton, F. (1886). Regression towards mediocrity in hereditary
#'   stature. *Journal of the Anthropological Institute of Great Britain and
#'   Ireland*, 15, 246--263. Transcribed as `GaltonFamilies` in the CRAN package
#'   HistData (Friendly 2021); the script that builds this data set is
#'   `data-raw/heights.R` in the package sources.
#' @references Friendly, M. (2021). HistData: Data sets from the history of
#'   statistics and data visualization. R package.
#' @examples
#' str(heights)
#' tapply(heights$height, heights$sex, mean)
#' fit <- gmm(heights$height, k = 2, model = "V")
#' table(fit$classification, heights$sex)
"heights"
