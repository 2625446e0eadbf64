# Times metafor's rma(method = "REML", test = "knha") on the data sets in a CSV.
#
# Usage: Rscript benchmarks/metafor_rma.R INPUT.csv OUTPUT.csv
# INPUT has columns dataset, yi, vi (long format). OUTPUT starts with a line
# "# seconds=<elapsed>" (proc.time() around the loop of default-control fits
# only), then one row per data set: tau2, estimate, se from rma() with
# metafor's default control (NA where it stops with an error, e.g. "Fisher
# scoring algorithm did not converge"), and the same three from an untimed
# refit with tight convergence control (tests/reference/pooling.R's settings,
# with a damped step where plain scoring gives up), for checking agreement.
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
data <- read.csv(args[1])
groups <- split(data[, c("yi", "vi")], data$dataset)
tight <- list(threshold = 1e-13, maxiter = 100000, tol = 1e-15, tau2.max = 1e8)

fit_one <- function(d, control = list()) {
  tryCatch(suppressWarnings(rma(d$yi, d$vi, method = "REML", test = "knha", control = control)),
           error = function(e) NULL)
}
values <- function(fit) {
  if (is.null(fit)) c(NA_real_, NA_real_, NA_real_) else c(fit$tau2, fit$beta[1], fit$se)
}

fit_one(groups[[1]])  # warm-up
n <- length(groups)
default <- matrix(NA_real_, n, 3)
start <- proc.time()[["elapsed"]]
for (i in seq_len(n)) default[i, ] <- values(fit_one(groups[[i]]))
elapsed <- proc.time()[["elapsed"]] - start

out <- data.frame(dataset = as.integer(names(groups)),
                  tau2 = default[, 1], estimate = default[, 2], se = default[, 3],
                  tau2_tight = NA_real_, estimate_tight = NA_real_, se_tight = NA_real_)
for (i in seq_len(n)) {
  refit <- fit_one(groups[[i]], tight)
  for (stepadj in c(0.25, 0.1)) {
    if (!is.null(refit)) break
    refit <- fit_one(groups[[i]], c(tight, list(stepadj = stepadj)))
  }
  out[i, 5:7] <- values(refit)
}
writeLines(sprintf("# seconds=%.6f", elapsed), args[2])
suppressWarnings(write.table(out, args[2], sep = ",", row.names = FALSE, append = TRUE))
