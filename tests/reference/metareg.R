# Reference values for srma's meta-regression, computed by metafor's rma.uni with mods.
#
# Usage: Rscript tests/reference/metareg.R OUTDIR
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"
tight <- list(threshold = 1e-13, maxiter = 100000, tol = 1e-15, tau2.max = 1e8)

bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
models <- list(
  list(name = "bcg_ablat", data = bcg, mods = ~ ablat),
  list(name = "bcg_ablat_year", data = bcg, mods = ~ ablat + year),
  list(name = "bcg_alloc", data = bcg, mods = ~ factor(alloc)),
  list(name = "raudenbush_weeks", data = dat.raudenbush1985, mods = ~ weeks),
  list(name = "raudenbush_setting_tester", data = dat.raudenbush1985,
       mods = ~ factor(setting) + factor(tester))
)
num <- function(x) as.numeric(x)
cases <- list()
for (model in models) {
  X <- model.matrix(model$mods, data = model$data)
  for (method in c("EE", "DL", "HE", "HS", "SJ", "ML", "REML", "PM", "EB", "PMM")) {
    for (test in c("z", "t", "knha", "adhoc")) {
      fit <- suppressWarnings(rma(yi, vi, mods = model$mods, data = model$data,
                                  method = method, test = test, control = tight))
      res <- list(beta = num(fit$beta), se = num(fit$se), statistic = num(fit$zval),
                  pvalue = num(fit$pval), ci_lower = num(fit$ci.lb), ci_upper = num(fit$ci.ub),
                  tau2 = num(fit$tau2), qe = fit$QE, qe_pvalue = fit$QEp, qm = fit$QM,
                  qm_pvalue = fit$QMp, i2 = fit$I2, h2 = fit$H2,
                  r2 = if (is.null(fit$R2)) NA_real_ else num(fit$R2),
                  fitted = num(fitted(fit)))
      cases[[length(cases) + 1]] <- list(model = model$name, method = method, test = test,
                                         yi = num(model$data$yi), vi = num(model$data$vi),
                                         X = unname(X), columns = colnames(X), result = res)
    }
  }
}
write_json(list(meta = list(metafor_version = as.character(packageVersion("metafor")),
                            script = "tests/reference/metareg.R"), cases = cases),
           file.path(outdir, "metareg.json"), digits = NA, auto_unbox = TRUE, na = "null")
cat("wrote", length(cases), "cases\n")

# Exact permutation tests (permutest with exact = TRUE) on small data sets.
perm_models <- list(
  list(name = "bcg6_ablat", data = bcg[1:6, ], mods = ~ ablat),
  list(name = "bcg8_alloc", data = bcg[1:8, ], mods = ~ factor(alloc))
)
perm_cases <- list()
for (model in perm_models) {
  X <- model.matrix(model$mods, data = model$data)
  for (method in c("DL", "REML")) {
    for (test in c("z", "knha")) {
      fit <- rma(yi, vi, mods = model$mods, data = model$data, method = method, test = test,
                 control = tight)
      perm <- permutest(fit, exact = TRUE, progbar = FALSE)
      perm_cases[[length(perm_cases) + 1]] <- list(
        model = model$name, method = method, test = test, yi = num(model$data$yi),
        vi = num(model$data$vi), X = unname(X), qm_pvalue = perm$QMp, pvalue = num(perm$pval),
        iterations = length(perm$QM.perm))
    }
  }
}
write_json(list(meta = list(metafor_version = as.character(packageVersion("metafor")),
                            script = "tests/reference/metareg.R"), cases = perm_cases),
           file.path(outdir, "permutation.json"), digits = NA, auto_unbox = TRUE, na = "null")
cat("wrote", length(perm_cases), "permutation cases\n")
