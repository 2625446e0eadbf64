# More metadat data sets, beyond those the issue names (k from 14 to 160; proportions,
# correlations, odds and risk ratios, standardized differences): rma() with tight
# convergence, confint() and predict(pi.type = "riley").
#
# Usage: Rscript tests/reference/pooling_extra.R OUTDIR
suppressPackageStartupMessages({library(metafor); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"
tight <- list(threshold = 1e-13, maxiter = 100000, tol = 1e-15, tau2.max = 1e8)
sets <- list(
 hackshaw = dat.hackshaw1998[,c("yi","vi")],
 molloy = escalc("ZCOR", ri=ri, ni=ni, data=dat.molloy2014)[,c("yi","vi")],
 pritz = escalc("PR", xi=xi, ni=ni, data=dat.pritz1997)[,c("yi","vi")],
 laopaiboon = escalc("RR", ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=dat.laopaiboon2015)[,c("yi","vi")],

 bangertdrowns = dat.bangertdrowns2004[,c("yi","vi")],
 mcdaniel = escalc("COR", ri=ri, ni=ni, data=dat.mcdaniel1994)[,c("yi","vi")],
 konstantopoulos = dat.konstantopoulos2011[,c("yi","vi")],
 li2007 = escalc("OR", ai=ai, n1i=n1i, ci=ci, n2i=n2i, data=dat.li2007)[,c("yi","vi")]
)
out <- list()
for (n in names(sets)) { d <- sets[[n]]; d <- d[is.finite(d$yi) & is.finite(d$vi),]
 for (m in c("DL","REML","PM","ML","SJ","EB")) for (t in c("z","knha")) {
  f <- tryCatch(rma(d$yi, d$vi, method=m, test=t, control=tight), error=function(e) NULL); if (is.null(f)) next
  ci <- confint(f, control=list(tol=1e-15, tau2.max=1e8))$random
  p <- predict(f, pi.type="riley")
  out[[length(out)+1]] <- list(name=n, method=m, test=t, yi=as.numeric(d$yi), vi=as.numeric(d$vi), est=as.numeric(f$beta), se=f$se, tau2=f$tau2, i2=f$I2, q=f$QE, lb=ci["tau^2","ci.lb"], ub=ci["tau^2","ci.ub"], pil=p$pi.lb, piu=p$pi.ub)
 }}
write_json(out, file.path(outdir, "pooling_extra.json"), digits = NA, auto_unbox = TRUE)
cat(length(out), "\n")
