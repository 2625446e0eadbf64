# Times metafor's rma.mv on a three-level data set (effects within studies).
#
# Usage: Rscript benchmarks/metafor_multilevel.R INPUT.csv REPEATS OUTPUT.json
# INPUT has columns yi, vi, study, effect; the model is rma.mv(yi, vi, random = ~ 1 |
# study/effect) by REML with metafor's default control.  The fit is repeated REPEATS
# times inside system.time() (R's start-up and package loading are not timed), with
# metafor's default dense matrices and with sparse = TRUE; OUTPUT is {"k",
# "seconds_per_fit", "seconds_per_fit_sparse", "sigma2", "loglik"}.
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
data <- read.csv(args[1])
repeats <- as.integer(args[2])
fit_once <- function() rma.mv(yi, vi, random = ~ 1 | study / effect, data = data)
fit <- fit_once()  # warm-up
elapsed <- system.time(for (i in seq_len(repeats)) fit <- fit_once())[["elapsed"]]
fit_sparse <- function() rma.mv(yi, vi, random = ~ 1 | study / effect, data = data, sparse = TRUE)
invisible(fit_sparse())  # warm-up
sparse <- system.time(for (i in seq_len(repeats)) fit_sparse())[["elapsed"]]
writeLines(sprintf("{\"k\": %d, \"seconds_per_fit\": %.6f, \"seconds_per_fit_sparse\": %.6f, \"sigma2\": [%.10g, %.10g], \"loglik\": %.10f}",
                   nrow(data), elapsed / repeats, sparse / repeats, fit$sigma2[1], fit$sigma2[2],
                   as.numeric(logLik(fit))),
           args[3])
