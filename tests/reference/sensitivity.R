# Reference values for srma's sensitivity analyses, computed by metafor:
# leave1out(), influence(), cumul(), baujat() and gosh() on rma.uni fits.
#
# Usage: Rscript tests/reference/sensitivity.R OUTDIR
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"
tight <- list(threshold = 1e-13, maxiter = 100000, tol = 1e-15, tau2.max = 1e8)
pdf(NULL)  # baujat() draws; keep no Rplots.pdf

sets <- list(
  bcg_RR = escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg),
  normand1999_SMD = escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
                           n2i = n2i, data = dat.normand1999),
  raudenbush1985 = dat.raudenbush1985
)
num <- function(x) as.numeric(x)
cases <- list()
for (name in names(sets)) {
  d <- sets[[name]]
  for (method in c("EE", "DL", "REML", "PM")) {
    for (test in c("z", "knha")) {
      fit <- suppressWarnings(rma(d$yi, d$vi, method = method, test = test, control = tight))
      l1o <- leave1out(fit)
      inf <- influence(fit)
      order <- order(-d$vi)  # permutation: cumulate from the least precise study
      cum <- cumul(fit, order = -d$vi)
      bj <- baujat(fit, progbar = FALSE)
      cases[[length(cases) + 1]] <- list(
        dataset = name, method = method, test = test, yi = num(d$yi), vi = num(d$vi),
        leave1out = list(estimate = num(l1o$estimate), se = num(l1o$se),
                         statistic = num(l1o$zval), pvalue = num(l1o$pval),
                         ci_lower = num(l1o$ci.lb), ci_upper = num(l1o$ci.ub),
                         q = num(l1o$Q), q_pvalue = num(l1o$Qp), tau2 = num(l1o$tau2),
                         i2 = num(l1o$I2), h2 = num(l1o$H2)),
        influence = list(rstudent = num(inf$inf$rstudent), dffits = num(inf$inf$dffits),
                         cooks_distance = num(inf$inf$cook.d),
                         covariance_ratio = num(inf$inf$cov.r),
                         tau2_deleted = num(inf$inf$tau2.del), q_deleted = num(inf$inf$QE.del),
                         hat = num(inf$inf$hat), weight = num(inf$inf$weight),
                         dfbetas = num(inf$dfbs$intrcpt), influential = as.logical(inf$is.infl)),
        cumulative = list(order = order - 1, estimate = num(cum$estimate), se = num(cum$se),
                          ci_lower = num(cum$ci.lb), ci_upper = num(cum$ci.ub),
                          pvalue = num(cum$pval), q = num(cum$Q), tau2 = num(cum$tau2),
                          i2 = num(cum$I2)),
        baujat = list(x = num(bj$x), y = num(bj$y))
      )
    }
  }
}
# GOSH: every subset of the 13 BCG trials, common effect and DL.
gosh_cases <- list()
for (method in c("EE", "DL")) {
  fit <- rma(yi, vi, data = sets$bcg_RR, method = method)
  g <- gosh(fit, progbar = FALSE)
  gosh_cases[[length(gosh_cases) + 1]] <- list(
    method = method, yi = num(sets$bcg_RR$yi), vi = num(sets$bcg_RR$vi),
    included = unname(as.matrix(g$incl) * 1L),
    estimate = num(g$res$estimate), q = num(g$res$QE), i2 = num(g$res$I2),
    h2 = num(g$res$H2), tau2 = num(g$res$tau2))
}
write_json(list(meta = list(metafor_version = as.character(packageVersion("metafor")),
                            script = "tests/reference/sensitivity.R"),
                cases = cases, gosh = gosh_cases),
           file.path(outdir, "sensitivity.json"), digits = NA, auto_unbox = TRUE, na = "null")
cat("wrote", length(cases), "cases and", length(gosh_cases), "GOSH sets\n")
