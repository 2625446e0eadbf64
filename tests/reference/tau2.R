# Reference values for srma's generalised Q (method of moments) tau² estimator with
# arbitrary weights, computed by metafor's rma.uni(method = "GENQ", weights = ...),
# with and without moderators.
#
# Usage: Rscript tests/reference/tau2.R OUTDIR
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"

bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
bcg$n <- with(bcg, tpos + tneg + cpos + cneg)
set.seed(20261201)
k <- 12
sim <- data.frame(vi = rchisq(k, 3) / 20 + 0.005, x = runif(k))
sim$yi <- rnorm(k, 0.3 + 0.2 * sim$x, sqrt(sim$vi + 0.4))
sim$w <- runif(k, 0.5, 2)

sets <- list(
  list(name = "bcg_n", data = bcg, weights = "n", mods = NULL),
  list(name = "bcg_n_ablat", data = bcg, weights = "n", mods = ~ ablat),
  list(name = "bcg_sqrt_n", data = transform(bcg, w = sqrt(n)), weights = "w", mods = NULL),
  list(name = "sim_w", data = sim, weights = "w", mods = NULL),
  list(name = "sim_w_x", data = sim, weights = "w", mods = ~ x)
)
num <- function(x) as.numeric(x)
cases <- list()
for (set in sets) {
  d <- set$data
  w <- d[[set$weights]]
  fit <- if (is.null(set$mods)) rma(yi, vi, weights = w, data = d, method = "GENQ")
         else rma(yi, vi, weights = w, mods = set$mods, data = d, method = "GENQ")
  X <- if (is.null(set$mods)) matrix(1, nrow(d), 1) else model.matrix(set$mods, data = d)
  cases[[length(cases) + 1]] <- list(name = set$name, yi = num(d$yi), vi = num(d$vi),
                                     weights = num(w), X = unname(X), tau2 = num(fit$tau2))
}
write_json(list(meta = list(metafor_version = as.character(packageVersion("metafor")),
                            script = "tests/reference/tau2.R"), cases = cases),
           file.path(outdir, "tau2.json"), digits = NA, auto_unbox = TRUE, na = "null")
cat("wrote", length(cases), "cases\n")
