# Reference values for the correlated-and-hierarchical-effects (CHE) working model
# (Pustejovsky & Tipton 2022, Prev Sci 23:425): V built by vcalc for an assumed
# within-study correlation, a three-level rma.mv (effects in studies), and CR2
# cluster-robust inference by study with Satterthwaite df (clubSandwich).
#
# Usage: Rscript tests/reference/che.R OUTDIR
suppressPackageStartupMessages({
  library(metafor)
  library(clubSandwich)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"
num <- function(x) as.numeric(x)

dat <- dat.assink2016
cases <- list()
for (rho in c(0.6, 0.8)) {
  V <- vcalc(vi, cluster = study, obs = esid, data = dat, rho = rho)
  for (mods in c("~ 1", "~ deltype")) {
    fit <- rma.mv(yi, V, mods = as.formula(mods), random = ~ 1 | study/esid, data = dat,
                  control = list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-14))
    # polish from the estimate, and check that a second start lands on the same point
    again <- rma.mv(yi, V, mods = as.formula(mods), random = ~ 1 | study/esid, data = dat,
                    control = list(optimizer = "optim", optmethod = "Nelder-Mead",
                                   reltol = 1e-15, maxit = 100000, sigma2.init = fit$sigma2))
    stopifnot(max(abs(again$sigma2 - fit$sigma2) / fit$sigma2) < 1e-6)
    ct <- coef_test(fit, vcov = "CR2", cluster = dat$study, test = "Satterthwaite")
    cases[[length(cases) + 1]] <- list(
      rho = rho, mods = mods, sigma2 = num(fit$sigma2), beta = num(fit$beta),
      model_se = num(fit$se), robust_se = num(ct$SE), df = num(ct$df_Satt),
      pvalue = num(ct$p_Satt), statistic = num(ct$tstat), loglik = num(logLik(fit))
    )
  }
}
out <- list(
  meta = list(metafor = as.character(packageVersion("metafor")),
              clubSandwich = as.character(packageVersion("clubSandwich")),
              data = "metadat::dat.assink2016"),
  data = list(study = dat$study, esid = dat$esid, yi = dat$yi, vi = dat$vi,
              deltype = as.character(dat$deltype)),
  cases = cases
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE), file.path(outdir, "che.json"))
