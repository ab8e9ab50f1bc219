# The height example of the original notes: heights of men and women mixed, with
# the sex not recorded. Two 1-D components are started where the notes start them
# (170 and 190 cm, sd 5, weights 0.5). The notes report 0.116 / 163.82 / 2.458 and
# 0.884 / 178.02 / 5.477 (weight / mean / sd); here the data are simulated from
# those values, so the fit should land within sampling error of them.
library(gaussmix)

set.seed(2024)
notes <- data.frame(pro = c(0.116, 0.884), mean = c(163.82, 178.02), sd = c(2.458, 5.477))
n <- 2000
sex <- sample(1:2, n, replace = TRUE, prob = notes$pro)
height <- rnorm(n, notes$mean[sex], notes$sd[sex])

fit <- gmm(height, k = 2, model = "V",
           init = list(mean = c(170, 190), sd = c(5, 5), pro = c(0.5, 0.5)))
print(fit)

est <- data.frame(pro = fit$parameters$pro, mean = fit$parameters$mean[1, ],
                  sd = sqrt(fit$parameters$sigma[1, 1, ]))
print(cbind(component = 1:2, notes = notes, fitted = round(est, 3)), row.names = FALSE)

# BIC over K = 1:9 and both 1-D models: does the data ask for two components?
sel <- gmm(height)
print(sel$bic_table)

png_file <- "heights.png"
grDevices::png(png_file, width = 800, height = 560, res = 110)
plot(fit, what = "density", xlab = "height (cm)")
grDevices::dev.off()
cat("Figure written to", normalizePath(png_file), "\n")
