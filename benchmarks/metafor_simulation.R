# A simulation study's fitting as an R loop: metafor's rma() once per data set and method.
#
# Usage: Rscript benchmarks/metafor_simulation.R INPUT.csv OUTPUT.csv
# INPUT has columns dataset, yi, vi (long format). For each of the methods DL, REML, PM,
# HS and ML (test = "z", as srma's benchmark), rma() is called once per data set in a
# plain loop, as a doParallel worker's body would; the loop is timed with proc.time().
# OUTPUT starts with "# seconds=<elapsed>" and "# fits=<number>", then one row per data
# set and method with metafor's tau² (NA where rma() stops with an error) for checking
# agreement with srma.
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
data <- read.csv(args[1])
groups <- split(data[, c("yi", "vi")], data$dataset)
methods <- c("DL", "REML", "PM", "HS", "ML")

fit_tau2 <- function(d, method) {
  fit <- tryCatch(suppressWarnings(rma(d$yi, d$vi, method = method)), error = function(e) NULL)
  if (is.null(fit)) NA_real_ else fit$tau2
}

fit_tau2(groups[[1]], "REML")  # warm-up
n <- length(groups)
tau2 <- matrix(NA_real_, n, length(methods))
start <- proc.time()[["elapsed"]]
for (j in seq_along(methods)) {
  for (i in seq_len(n)) tau2[i, j] <- fit_tau2(groups[[i]], methods[j])
}
elapsed <- proc.time()[["elapsed"]] - start

out <- data.frame(dataset = rep(as.integer(names(groups)), length(methods)),
                  method = rep(methods, each = n), tau2 = as.vector(tau2))
writeLines(c(sprintf("# seconds=%.6f", elapsed), sprintf("# fits=%d", n * length(methods))),
           args[2])
suppressWarnings(write.table(out, args[2], sep = ",", row.names = FALSE, append = TRUE))
