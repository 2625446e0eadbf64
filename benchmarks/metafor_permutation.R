# Times metafor's permutest() on the data sets written by bench_permutation.py.
#
# Usage: Rscript benchmarks/metafor_permutation.R CASES.json OUTPUT.json
# CASES is a list of {"name", "file", "moderator" (true/false), "test", "iterations",
# "exact", "repeats"}; each file has columns yi, vi (and x). rma(method = "REML") is
# fitted once with metafor's default control, as users call it; permutest() is timed alone with proc.time()'s elapsed seconds, the minimum over "repeats" runs.
# OUTPUT: a list of {"name", "seconds", "pval" (the coefficients' p-values), "QMp"}.
suppressPackageStartupMessages({library(metafor); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
cases <- fromJSON(args[1], simplifyDataFrame = FALSE)
out <- lapply(cases, function(case) {
  data <- read.csv(case$file)
  fit <- if (isTRUE(case$moderator)) {
    rma(yi, vi, mods = ~ x, data = data, method = "REML", test = case$test)
  } else {
    rma(yi, vi, data = data, method = "REML", test = case$test)
  }
  best <- Inf
  for (run in seq_len(case$repeats)) {
    set.seed(run)
    start <- proc.time()[["elapsed"]]
    result <- permutest(fit, iter = case$iterations, exact = isTRUE(case$exact), progbar = FALSE)
    best <- min(best, proc.time()[["elapsed"]] - start)
  }
  list(name = case$name, seconds = best, pval = as.numeric(result$pval),
       QMp = as.numeric(result$QMp))
})
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA), args[2])
