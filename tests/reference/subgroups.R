# Reference values for srma's subgroup analyses, computed by metafor.
#
# Usage: Rscript tests/reference/subgroups.R OUTDIR
# Separate tau² per subgroup: rma() within each subgroup, and the test for
# subgroup differences as the Wald test of a common-effect meta-regression of
# the subgroup estimates on the subgroup (Q between, as RevMan and meta report
# it).  Common tau²: rma(mods = ~ factor(group)) gives tau² and the omnibus
# test QM; each subgroup is then pooled with tau² fixed at that value.
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"
tight <- list(threshold = 1e-13, maxiter = 100000, tol = 1e-15, tau2.max = 1e8)

bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
sets <- list(
  bcg_alloc = list(yi = bcg$yi, vi = bcg$vi, group = as.character(bcg$alloc)),
  raudenbush_tester = list(yi = dat.raudenbush1985$yi, vi = dat.raudenbush1985$vi,
                           group = as.character(dat.raudenbush1985$tester)),
  raudenbush_weeks3 = list(yi = dat.raudenbush1985$yi, vi = dat.raudenbush1985$vi,
                           group = c("0 weeks", "1 week", "2+ weeks")[
                             pmin(dat.raudenbush1985$weeks, 2) + 1])
)
num <- function(x) as.numeric(x)
pooled <- function(fit) {
  p <- if (fit$method %in% c("EE", "FE")) list(pi.lb = NA, pi.ub = NA) else
    predict(fit, pi.type = "riley")
  list(k = fit$k, estimate = num(fit$beta), se = fit$se, ci_lower = fit$ci.lb,
       ci_upper = fit$ci.ub, pvalue = fit$pval, tau2 = fit$tau2, q = fit$QE,
       q_pvalue = fit$QEp, i2 = fit$I2, pi_lower = num(p$pi.lb), pi_upper = num(p$pi.ub))
}
cases <- list()
for (name in names(sets)) {
  d <- sets[[name]]
  groups <- sort(unique(d$group))
  for (method in c("EE", "DL", "REML", "PM")) {
    for (test in c("z", "knha")) {
      separate <- lapply(groups, function(g) {
        keep <- d$group == g
        pooled(suppressWarnings(rma(d$yi[keep], d$vi[keep], method = method, test = test,
                                    control = tight)))
      })
      est <- sapply(separate, function(s) s$estimate)
      se <- sapply(separate, function(s) s$se)
      between <- rma(est, sei = se, mods = ~ factor(groups), method = "EE")
      common_tau2 <- list(tau2 = NA, qm = NA, qm_pvalue = NA, subgroups = list())
      if (method != "EE") {
        reg <- suppressWarnings(rma(d$yi, d$vi, mods = ~ factor(d$group), method = method,
                                    test = test, control = tight))
        common_tau2$tau2 <- reg$tau2
        common_tau2$qm <- reg$QM
        common_tau2$qm_pvalue <- reg$QMp
        common_tau2$subgroups <- lapply(groups, function(g) {
          keep <- d$group == g
          pooled(suppressWarnings(rma(d$yi[keep], d$vi[keep], method = method, test = test,
                                      tau2 = reg$tau2, control = tight)))
        })
      }
      cases[[length(cases) + 1]] <- list(
        dataset = name, method = method, test = test, yi = num(d$yi), vi = num(d$vi),
        group = d$group, groups = groups, separate = separate,
        q_between = between$QM, q_between_df = length(groups) - 1,
        q_between_pvalue = between$QMp, common_tau2 = common_tau2)
    }
  }
}
write_json(list(meta = list(metafor_version = as.character(packageVersion("metafor")),
                            script = "tests/reference/subgroups.R"), cases = cases),
           file.path(outdir, "subgroups.json"), digits = NA, auto_unbox = TRUE, na = "null")
cat("wrote", length(cases), "cases\n")
