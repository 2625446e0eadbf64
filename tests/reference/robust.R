# Reference values for srma's cluster-robust variance: clubSandwich's vcovCR, coef_test
# (Satterthwaite), conf_int and Wald_test (HTZ), and metafor's own robust(adjust = TRUE).
#
# Usage: Rscript tests/reference/robust.R OUTDIR
suppressPackageStartupMessages({
  library(metafor)
  library(clubSandwich)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"
tight_uni <- list(threshold = 1e-13, maxiter = 100000, tol = 1e-15)
tight_mv <- list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-14)
num <- function(x) as.numeric(x)

# What clubSandwich reports for one fit, cluster and adjustment.
sandwich <- function(fit, cluster, type) {
  vc <- vcovCR(fit, cluster = cluster, type = type)
  ct <- coef_test(fit, vcov = vc, test = c("Satterthwaite", "naive-tp"))
  ci <- conf_int(fit, vcov = vc, test = "Satterthwaite", level = 0.95)
  out <- list(type = type, vcov = unname(as.matrix(vc)), se = num(ct$SE),
              statistic = num(ct$tstat), df = num(ct$df_Satt), pvalue = num(ct$p_Satt),
              ci_lower = num(ci$CI_L), ci_upper = num(ci$CI_U),
              pvalue_tp = num(ct$p_tp), df_tp = num(ct$df_tp))
  p <- length(coef(fit))
  if (p > 1) {
    # the HTZ test of every coefficient but the intercept
    wt <- Wald_test(fit, constraints = constrain_zero(2:p), vcov = vc, test = "HTZ")
    out$wald <- list(statistic = num(wt$Fstat), df_num = num(wt$df_num),
                     df_denom = num(wt$df_denom), pvalue = num(wt$p_val))
  }
  out
}

cases <- list()
add_case <- function(name, fit, X, cluster, kind, extra = list()) {
  types <- lapply(c("CR0", "CR1", "CR1p", "CR1S", "CR2"), function(t) sandwich(fit, cluster, t))
  # metafor's own sandwich: CR0 times J / (J - p), t test with J - p df
  mf <- robust(fit, cluster = cluster, adjust = TRUE)
  metafor_robust <- list(vcov = unname(mf$vb), se = num(mf$se), statistic = num(mf$zval),
                         pvalue = num(mf$pval), df = num(mf$ddf), ci_lower = num(mf$ci.lb),
                         ci_upper = num(mf$ci.ub), qm = num(mf$QM), qm_pvalue = num(mf$QMp))
  cases[[length(cases) + 1]] <<- c(list(
    name = name, kind = kind, yi = num(fit$yi), vi = num(fit$vi), X = unname(fit$X),
    columns = colnames(fit$X), cluster = as.character(cluster), beta = num(fit$beta),
    sandwiches = types, metafor_robust = metafor_robust), extra)
}

# 1. rma.uni on dat.assink2016 (clusters: studies with several effect sizes)
assink <- dat.assink2016
for (spec in list(list(name = "assink_intercept", mods = ~ 1),
                  list(name = "assink_year_pubstatus", mods = ~ year + pubstatus))) {
  fit <- rma(yi, vi, mods = spec$mods, data = assink, method = "REML", control = tight_uni)
  add_case(spec$name, fit, NULL, assink$study, "rma.uni",
           list(method = "REML", tau2 = num(fit$tau2)))
}
# CR2 with a target other than the working model's variances (inverse_var = FALSE):
# the sampling variances alone, as if tau² were 0 in the target
fit <- rma(yi, vi, mods = ~ year + pubstatus, data = assink, method = "REML", control = tight_uni)
vc <- vcovCR(fit, cluster = assink$study, type = "CR2", target = assink$vi)
ct <- coef_test(fit, vcov = vc, test = "Satterthwaite")
targeted <- list(name = "assink_year_pubstatus_target_vi", yi = num(fit$yi), vi = num(fit$vi),
                 X = unname(fit$X), cluster = as.character(assink$study), tau2 = num(fit$tau2),
                 beta = num(fit$beta), vcov = unname(as.matrix(vc)), se = num(ct$SE),
                 df = num(ct$df_Satt), pvalue = num(ct$p_Satt))
# a DerSimonian-Laird fit of the same data (another tau², the same algebra)
fit <- rma(yi, vi, data = assink, method = "DL")
add_case("assink_intercept_dl", fit, NULL, assink$study, "rma.uni",
         list(method = "DL", tau2 = num(fit$tau2)))
# dat.bangertdrowns2004: writing-to-learn interventions; the clusters are the grades
# the studies taught (a real column, 1-4), moderators length and meta
bd <- dat.bangertdrowns2004[!is.na(dat.bangertdrowns2004$grade) &
                              !is.na(dat.bangertdrowns2004$length), ]
fit <- rma(yi, vi, mods = ~ length, data = bd, method = "REML", control = tight_uni)
add_case("bangertdrowns_length_by_grade", fit, NULL, bd$grade, "rma.uni",
         list(method = "REML", tau2 = num(fit$tau2)))

# 2. rma.mv three-level model on dat.konstantopoulos2011 (schools within districts)
ko <- dat.konstantopoulos2011
ko$year_c <- ko$year - mean(ko$year)
for (spec in list(list(name = "konstantopoulos_intercept", mods = ~ 1),
                  list(name = "konstantopoulos_year", mods = ~ year_c))) {
  fit <- rma.mv(yi, vi, mods = spec$mods, random = ~ 1 | district/school, data = ko,
                method = "REML", control = tight_mv)
  refit <- rma.mv(yi, vi, mods = spec$mods, random = ~ 1 | district/school, data = ko,
                  method = "REML", control = c(tight_mv, list(sigma2.init = c(0.2, 0.01))))
  stopifnot(max(abs(fit$sigma2 - refit$sigma2)) < 1e-8)
  add_case(spec$name, fit, NULL, ko$district, "rma.mv",
           list(method = "REML", sigma2 = num(fit$sigma2), district = as.character(ko$district),
                marginal_covariance = unname(fit$M)))
}

write_json(list(meta = list(metafor_version = as.character(packageVersion("metafor")),
                            clubSandwich_version = as.character(packageVersion("clubSandwich")),
                            script = "tests/reference/robust.R"), cases = cases,
                targeted = targeted),
           file.path(outdir, "robust.json"), digits = NA, auto_unbox = TRUE, na = "null")
cat("wrote", length(cases), "cases\n")
