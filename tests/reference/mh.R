# Reference values for srma.stats.mantel_haenszel: metafor's rma.mh (OR, RR, RD) and
# rma.peto on metadat data sets and on constructed tables with zero and double-zero
# cells, with metafor's defaults and with other settings of add, to, drop00, correct
# and level.
#
# Usage: Rscript tests/reference/mh.R OUTDIR
# Writes OUTDIR/mh_<group>.json, one file per group of analyses (see `groups` below).
# Each fit records every number srma compares: the estimate and its inference, Q, I²,
# H², the per-study yi.f/vi.f used for Q, weights() in percent and, for OR, the
# Cochran, Cochran-Mantel-Haenszel, Breslow-Day and Tarone tests.  A fit metafor refuses
# (rma.peto when no table has both outcomes) is recorded with its error message.
# Non-finite numbers are written as the strings "NA", "NaN", "Inf" and "-Inf".
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"
options(na.action = "na.pass")  # fits as na.omit; weights() keep the length of the data

num <- function(x) if (is.null(x) || length(x) == 0) NA_real_ else unname(as.numeric(x))
vec <- function(x) I(unname(as.numeric(x)))  # never unboxed, even for one study

table_from <- function(ai, n1i, ci, n2i) {
  keep <- !(is.na(ai) | is.na(n1i) | is.na(ci) | is.na(n2i))
  list(a = ai[keep], b = (n1i - ai)[keep], c = ci[keep], d = (n2i - ci)[keep])
}

# ---- data ---------------------------------------------------------------------
yusuf <- list()
for (tab in c("6", "9", "10", "11", "12a", "12b")) {
  d <- dat.yusuf1985[dat.yusuf1985$table == tab, ]
  yusuf[[paste0("yusuf1985_table", tab)]] <- table_from(d$ai, d$n1i, d$ci, d$n2i)
}
collins <- with(dat.collins1985a, list(
  collins1985a_bleeding = table_from(b.xti, nti, b.xci, nci),
  collins1985a_deaths = table_from(d.xti, nti, d.xci, nci)
))
zeros <- list(
  # single zeros, a double-zero table (no events) and an all-events table
  zeros_mixed = list(a = c(0, 0, 3, 10, 0, 5, 2), b = c(20, 15, 27, 0, 12, 35, 18),
                     c = c(0, 2, 0, 10, 1, 7, 6), d = c(20, 14, 28, 0, 10, 31, 14)),
  # MH odds ratio exactly 1 (a = b and c = d, so sum(a d / N) and sum(b c / N) are the same
  # floating-point sum): Breslow-Day's fitted counts then take their simple form
  zeros_or_one = list(a = c(5, 3, 2), b = c(5, 3, 2), c = c(5, 4, 6), d = c(5, 4, 6)),
  # no events in group 1: MH OR and RR undefined, RD and Peto defined
  zeros_none_in_group1 = list(a = c(0, 0, 0), b = c(10, 12, 9),
                              c = c(2, 1, 3), d = c(8, 11, 6)),
  # one informative table and one double-zero table: Q on a single table
  zeros_one_informative = list(a = c(4, 0), b = c(6, 10), c = c(2, 0), d = c(8, 12)),
  # no events anywhere: everything undefined, rma.peto refuses
  zeros_no_events = list(a = c(0, 0), b = c(10, 12), c = c(0, 0), d = c(9, 11))
)
groups <- list(
  bcg = list(bcg = with(dat.bcg, list(a = tpos, b = tneg, c = cpos, d = cneg))),
  hine1989 = list(hine1989 = with(dat.hine1989, table_from(ai, n1i, ci, n2i))),
  yusuf1985 = yusuf,
  collins1985a = collins,
  zeros = zeros
)

# ---- settings -----------------------------------------------------------------
default <- list(add = 1 / 2, to = "only0", drop00 = TRUE, correct = TRUE, level = 95)
variants <- list(
  default,
  modifyList(default, list(correct = FALSE, level = 90)),
  modifyList(default, list(to = "all")),
  modifyList(default, list(to = "if0all", add = 1 / 4)),
  modifyList(default, list(drop00 = FALSE)),
  modifyList(default, list(add = c(1 / 2, 1 / 2), to = c("only0", "only0"))),
  modifyList(default, list(add = c(1 / 2, 1 / 2), to = c("all", "if0all"),
                           drop00 = c(TRUE, TRUE)))
)
settings_for <- function(group) if (group %in% c("zeros", "collins1985a")) variants else list(default)

pair <- function(x, second) if (length(x) == 1) c(x, second) else x

fit_one <- function(d, method, measure, s) {
  args <- list(ai = d$a, bi = d$b, ci = d$c, di = d$d, add = s$add, to = s$to,
               drop00 = s$drop00, level = s$level)
  if (method == "MH") {
    args$measure <- measure
    args$correct <- s$correct
  }
  tryCatch(suppressWarnings(do.call(if (method == "MH") rma.mh else rma.peto, args)),
           error = function(e) conditionMessage(e))
}

result_of <- function(fit, method, measure) {
  res <- list(
    k = fit$k, k_yi = fit$k.yi, q_df = fit$k.yi - 1,
    estimate = num(fit$beta), se = num(fit$se), statistic = num(fit$zval),
    pvalue = num(fit$pval), ci_lower = num(fit$ci.lb), ci_upper = num(fit$ci.ub),
    q = num(fit$QE), q_pvalue = num(fit$QEp), i2 = num(fit$I2), h2 = num(fit$H2),
    yi = vec(fit$yi.f), vi = vec(fit$vi.f), weights = vec(weights(fit))
  )
  if (method == "PETO") res$k_pos <- fit$k.pos
  if (method == "MH" && measure == "OR") {
    res <- c(res, list(
      k_pos = fit$k.pos,
      cochran_statistic = num(fit$CO), cochran_pvalue = num(fit$COp),
      cmh_statistic = num(fit$MH), cmh_pvalue = num(fit$MHp),
      breslow_day_statistic = num(fit$BD), breslow_day_pvalue = num(fit$BDp),
      tarone_statistic = num(fit$TA), tarone_pvalue = num(fit$TAp)
    ))
  }
  res
}

for (group in names(groups)) {
  analyses <- list()
  for (name in names(groups[[group]])) {
    d <- groups[[group]][[name]]
    fits <- list()
    for (s in settings_for(group)) {
      for (mm in list(c("MH", "OR"), c("MH", "RR"), c("MH", "RD"), c("PETO", "PETO"))) {
        fit <- fit_one(d, mm[1], mm[2], s)
        options <- list(add = vec(pair(s$add, 0)), to = I(pair(s$to, "none")),
                        drop00 = I(pair(s$drop00, FALSE)), correct = s$correct,
                        level = s$level / 100)
        entry <- list(method = mm[1], measure = mm[2], options = options)
        if (is.character(fit)) entry$error <- fit else entry$result <- result_of(fit, mm[1], mm[2])
        fits[[length(fits) + 1]] <- entry
      }
    }
    analyses[[length(analyses) + 1]] <- list(
      name = name, a = vec(d$a), b = vec(d$b), c = vec(d$c), d = vec(d$d), fits = fits
    )
  }
  out <- list(
    meta = list(metafor_version = as.character(packageVersion("metafor")),
                metadat_version = as.character(packageVersion("metadat")),
                r_version = R.version.string, script = "tests/reference/mh.R"),
    analyses = analyses
  )
  path <- file.path(outdir, paste0("mh_", group, ".json"))
  write_json(out, path, digits = NA, auto_unbox = TRUE, na = "string", pretty = FALSE)
  cat("wrote", path, "\n")
}
