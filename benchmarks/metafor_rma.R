# Times metafor's rma(method = "REML", test = "knha") on the data sets in a CSV.
#
# Usage: Rscript benchmarks/metafor_rma.R INPUT.csv OUTPUT.csv
# INPUT has columns dataset, yi, vi (long format); OUTPUT gets one row per
# data set with tau2, estimate, se, and a first line "# seconds=<elapsed>".
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
data <- read.csv(args[1])
groups <- split(data[, c("yi", "vi")], data$dataset)
rma(groups[[1]]$yi, groups[[1]]$vi, method = "REML", test = "knha")  # warm-up
out <- data.frame(dataset = names(groups), tau2 = NA_real_, estimate = NA_real_, se = NA_real_)
start <- proc.time()[["elapsed"]]
for (i in seq_along(groups)) {
  fit <- tryCatch(rma(groups[[i]]$yi, groups[[i]]$vi, method = "REML", test = "knha"),
                  error = function(e) NULL)
  if (!is.null(fit)) out[i, 2:4] <- c(fit$tau2, fit$beta[1], fit$se)
}
elapsed <- proc.time()[["elapsed"]] - start
writeLines(sprintf("# seconds=%.6f", elapsed), args[2])
write.table(out, args[2], sep = ",", row.names = FALSE, append = TRUE)
