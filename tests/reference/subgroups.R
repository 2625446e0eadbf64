# Reference values for srma's subgroup analyses, computed by metafor.
#
# Usage: Rscript tests/reference/subgroups.R OUTDIR
# Separate tau² per subgroup: rma() within each subgroup, and the test for
# subgroup differences as the Wald test of a common-effect meta-regression of
# the subgroup estimates on the subgroup (Q between, as RevMan and meta report
# it).  Common tau²: rma(mods = ~ factor(group)) gives tau² and the omnibus
# test QM; each subgroup is then pooled with tau² fixed at that value (for Q and I²
# within the subgroup), and its estimate, SE, interval, p-value and prediction interval
# come from the joint model rma(mods = ~ 0 + factor(group)) (test t or Knapp-Hartung:
# t on k - G df with the joint model's scale factor); the test for subgroup differences
# is the Wald-type test of equal coefficients, anova(joint, X = contrasts), which equals
# the QM of rma(mods = ~ factor(group)).
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
    for (test in c("z", "t", "knha", "adhoc")) {
      separate <- lapply(groups, function(g) {
        keep <- d$group == g
        pooled(suppressWarnings(rma(d$yi[keep], d$vi[keep], method = method, test = test,
                                    control = tight)))
      })
      est <- sapply(separate, function(s) s$estimate)
      se <- sapply(separate, function(s) s$se)
      between <- rma(est, sei = se, mods = ~ factor(groups), method = "EE")
      common_tau2 <- list(tau2 = NA, qm = NA, qm_pvalue = NA, subgroups = list(), joint = list())
      if (method != "EE") {
        reg <- suppressWarnings(rma(d$yi, d$vi, mods = ~ factor(d$group), method = method,
                                    test = test, control = tight))
        common_tau2$tau2 <- reg$tau2
        common_tau2$qm <- reg$QM
        common_tau2$qm_pvalue <- reg$QMp
        joint <- suppressWarnings(rma(d$yi, d$vi, mods = ~ 0 + factor(d$group), method = method,
                                      test = test, control = tight))
        G <- length(groups)
        contrasts <- cbind(-1, diag(G - 1))
        equal <- anova(joint, X = contrasts)
        newmods <- diag(G)
        riley <- predict(joint, newmods = newmods, pi.type = "riley")
        plain <- predict(joint, newmods = newmods, pi.type = "default")
        common_tau2$joint <- list(
          tau2 = joint$tau2, estimate = num(joint$beta), se = num(joint$se),
          statistic = num(joint$zval), pvalue = num(joint$pval), ci_lower = num(joint$ci.lb),
          ci_upper = num(joint$ci.ub), df = if (test == "z") NA else num(joint$ddf[1]),
          pi_lower_riley = num(riley$pi.lb), pi_upper_riley = num(riley$pi.ub),
          pi_lower_default = num(plain$pi.lb), pi_upper_default = num(plain$pi.ub),
          equal_statistic = num(equal$QM), equal_pvalue = num(equal$QMp),
          equal_df1 = num(equal$QMdf[1]), equal_df2 = num(equal$QMdf[2]))
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
