# Reference values for srma's Mantel-Haenszel and Peto pooling (metafor's rma.mh, rma.peto).
#
# Usage: Rscript tests/reference/mh.R OUTDIR
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"
num <- function(x) if (is.null(x) || length(x) == 0) NA_real_ else as.numeric(x)

sets <- list(
  bcg = with(dat.bcg, list(events1 = tpos, total1 = tpos + tneg, events2 = cpos,
                           total2 = cpos + cneg)),
  hine1989 = with(dat.hine1989, list(events1 = ai, total1 = n1i, events2 = ci, total2 = n2i)),
  collins1985a = with(dat.collins1985a[!is.na(dat.collins1985a$b.xti), ],
                      list(events1 = b.xti, total1 = nti, events2 = b.xci, total2 = nci)),
  zeros = list(events1 = c(0, 0, 3, 10, 0, 5), total1 = c(20, 15, 30, 10, 12, 40),
               events2 = c(0, 2, 0, 10, 0, 7), total2 = c(20, 16, 28, 10, 11, 38))
)
for (table in unique(dat.yusuf1985$table)) {
  d <- dat.yusuf1985[dat.yusuf1985$table == table & !is.na(dat.yusuf1985$ai), ]
  if (nrow(d) < 2) next
  sets[[paste0("yusuf1985_table", table)]] <- list(events1 = d$ai, total1 = d$n1i,
                                                    events2 = d$ci, total2 = d$n2i)
}

cases <- list()
for (name in names(sets)) {
  d <- sets[[name]]
  for (measure in c("OR", "RR", "RD", "PETO")) {
    fit <- tryCatch(suppressWarnings(
      if (measure == "PETO") rma.peto(ai = d$events1, n1i = d$total1, ci = d$events2,
                                      n2i = d$total2)
      else rma.mh(ai = d$events1, n1i = d$total1, ci = d$events2, n2i = d$total2,
                  measure = measure)), error = function(e) NULL)
    if (is.null(fit)) next
    res <- list(k = fit$k, estimate = num(fit$beta), se = num(fit$se),
                statistic = num(fit$zval), pvalue = num(fit$pval), ci_lower = num(fit$ci.lb),
                ci_upper = num(fit$ci.ub), q = num(fit$QE), q_pvalue = num(fit$QEp),
                i2 = num(fit$I2), h2 = num(fit$H2), k_yi = fit$k.yi,
                weights = num(weights(fit)),
                cochran_statistic = num(fit$CO), cmh_statistic = num(fit$MH),
                cmh_pvalue = num(fit$MHp), breslow_day_statistic = num(fit$BD),
                breslow_day_pvalue = num(fit$BDp), tarone_statistic = num(fit$TA),
                tarone_pvalue = num(fit$TAp))
    cases[[length(cases) + 1]] <- list(dataset = name, measure = measure, input = d,
                                       result = res)
  }
}
write_json(list(meta = list(metafor_version = as.character(packageVersion("metafor")),
                            script = "tests/reference/mh.R"), cases = cases),
           file.path(outdir, "mh.json"), digits = NA, auto_unbox = TRUE, na = "null")
cat("wrote", length(cases), "cases\n")
