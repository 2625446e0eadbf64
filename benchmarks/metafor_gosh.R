# Times metafor's gosh() on a random sample of subsets.
#
# Usage: Rscript benchmarks/metafor_gosh.R INPUT.csv METHOD SUBSETS OUTPUT.txt
# INPUT has columns yi, vi; OUTPUT gets "seconds=<elapsed> subsets=<n>".
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
data <- read.csv(args[1])
fit <- rma(data$yi, data$vi, method = args[2])
start <- proc.time()[["elapsed"]]
res <- gosh(fit, subsets = as.integer(args[3]), progbar = FALSE, seed = 1)
elapsed <- proc.time()[["elapsed"]] - start
writeLines(sprintf("seconds=%.6f subsets=%d", elapsed, nrow(res$res)), args[4])
