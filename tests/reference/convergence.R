# Data sets on which metafor's default REML Fisher scoring gives up.
#
# Usage: Rscript tests/reference/convergence.R OUTDIR
# Simulates random-effects data with k = 10 and widely spread sampling
# variances, keeps the data sets where rma(method = "REML") with metafor's
# default control stops with "Fisher scoring algorithm did not converge", and
# records the REML estimate found with a damped step (stepadj = 0.1) and a
# tight threshold, checked against a direct maximisation of the restricted
# log-likelihood with optimize().
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"

reml_loglik <- function(tau2, yi, vi) {
  wi <- 1 / (vi + tau2)
  mu <- sum(wi * yi) / sum(wi)
  -0.5 * sum(log(vi + tau2)) - 0.5 * log(sum(wi)) - 0.5 * sum(wi * (yi - mu)^2)
}

set.seed(20261122)
cases <- list()
simulated <- 0
while (length(cases) < 25 && simulated < 50000) {
  simulated <- simulated + 1
  k <- 10
  vi <- exp(rnorm(k, -3, 2))
  yi <- rnorm(k, 0, sqrt(vi + 0.1 * rexp(1)))
  default <- tryCatch(rma(yi, vi, method = "REML"), error = function(e) conditionMessage(e))
  if (!is.character(default)) next
  damped <- rma(yi, vi, method = "REML",
                control = list(stepadj = 0.1, maxiter = 1e6, threshold = 1e-14))
  direct <- optimize(reml_loglik, c(0, 100 * max(var(yi), vi)), yi = yi, vi = vi,
                     maximum = TRUE, tol = 1e-12)$maximum
  cases[[length(cases) + 1]] <- list(
    yi = yi, vi = vi, metafor_default_error = default,
    tau2 = damped$tau2, estimate = as.numeric(damped$beta), se = damped$se,
    tau2_optimize = direct)
}
write_json(list(meta = list(metafor_version = as.character(packageVersion("metafor")),
                            simulated = simulated, failures = length(cases),
                            script = "tests/reference/convergence.R"),
                cases = cases),
           file.path(outdir, "convergence.json"), digits = NA, auto_unbox = TRUE)
cat("kept", length(cases), "failures out of", simulated, "simulated data sets\n")
