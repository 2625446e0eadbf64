# Reference values for srma's follow-up analyses of Mantel-Haenszel and Peto fits,
# computed by metafor: leave1out(), cumul(), gosh() and baujat() on rma.mh (OR, RR, RD)
# and rma.peto fits; subgroups as rma.mh / rma.peto fitted within each subgroup, with
# the test for subgroup differences as srma defines it (Cochran's Q of the subgroup
# estimates: a common-effect fit of the subgroup estimates with their standard errors);
# and Cochran's and the Cochran-Mantel-Haenszel tests with correct = TRUE and FALSE.
#
# Usage: Rscript tests/reference/followups_mh.R OUTDIR
# Writes OUTDIR/followups_mh.json.  Non-finite numbers are written as "NA", "NaN",
# "Inf", "-Inf".  metafor has no influence() or trimfill() for rma.mh / rma.peto.
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"
options(na.action = "na.pass")
pdf(NULL)  # baujat() draws

num <- function(x) if (is.null(x) || length(x) == 0) NA_real_ else unname(as.numeric(x))
vec <- function(x) I(unname(as.numeric(x)))

table_from <- function(ai, n1i, ci, n2i, group = NULL, key = NULL) {
  keep <- !(is.na(ai) | is.na(n1i) | is.na(ci) | is.na(n2i))
  out <- data.frame(a = ai[keep], b = (n1i - ai)[keep], c = ci[keep], d = (n2i - ci)[keep])
  out$group <- if (is.null(group)) NA_character_ else as.character(group[keep])
  out$key <- if (is.null(key)) seq_len(nrow(out)) else key[keep]
  out
}

# ---- data ---------------------------------------------------------------------
y12 <- dat.yusuf1985[dat.yusuf1985$table %in% c("12a", "12b"), ]
y6 <- dat.yusuf1985[dat.yusuf1985$table == "6", ][1:8, ]
sets <- list(
  bcg = with(dat.bcg, table_from(tpos, tpos + tneg, cpos, cpos + cneg, alloc, year)),
  hine1989 = with(dat.hine1989, table_from(ai, n1i, ci, n2i, NULL, -n1i)),
  collins1985a_deaths = with(dat.collins1985a, table_from(d.xti, nti, d.xci, nci, trt, year)),
  yusuf1985_table12 = with(y12, table_from(ai, n1i, ci, n2i, table, NULL)),
  yusuf1985_table6_first8 = with(y6, table_from(ai, n1i, ci, n2i, NULL, NULL)),
  # single zeros, a double-zero table (no events) and an all-events table
  zeros_mixed = data.frame(a = c(0, 0, 3, 10, 0, 5, 2), b = c(20, 15, 27, 0, 12, 35, 18),
                           c = c(0, 2, 0, 10, 1, 7, 6), d = c(20, 14, 28, 0, 10, 31, 14),
                           group = c("x", "x", "x", "y", "y", "y", "y"),
                           key = c(3, 1, 7, 2, 6, 5, 4))
)
gosh_sets <- c("hine1989", "yusuf1985_table6_first8", "zeros_mixed")

default <- list(add = 1 / 2, to = "only0", drop00 = TRUE, correct = TRUE)
variants <- list(
  default,
  modifyList(default, list(correct = FALSE)),
  modifyList(default, list(to = "all")),
  modifyList(default, list(to = "if0all", add = 1 / 4)),
  modifyList(default, list(drop00 = FALSE)),
  modifyList(default, list(add = c(1 / 2, 1 / 2), to = c("only0", "only0"))),
  modifyList(default, list(add = c(1 / 2, 1 / 2), to = c("all", "if0all"),
                           drop00 = c(TRUE, TRUE)))
)
settings_for <- function(name) if (name == "zeros_mixed") variants else list(default)
pair <- function(x, second) if (length(x) == 1) c(x, second) else x

fit_on <- function(d, method, measure, s) {
  args <- list(ai = d$a, bi = d$b, ci = d$c, di = d$d, add = s$add, to = s$to,
               drop00 = s$drop00)
  if (method == "MH") {
    args$measure <- measure
    args$correct <- s$correct
  }
  suppressWarnings(do.call(if (method == "MH") rma.mh else rma.peto, args))
}

pooled <- function(fit) list(
  k = fit$k, estimate = num(fit$beta), se = num(fit$se), statistic = num(fit$zval),
  pvalue = num(fit$pval), ci_lower = num(fit$ci.lb), ci_upper = num(fit$ci.ub),
  q = num(fit$QE), q_pvalue = num(fit$QEp), i2 = num(fit$I2), h2 = num(fit$H2)
)
refits <- function(x) list(
  estimate = vec(x$estimate), se = vec(x$se), statistic = vec(x$zval), pvalue = vec(x$pval),
  ci_lower = vec(x$ci.lb), ci_upper = vec(x$ci.ub), q = vec(x$Q), q_pvalue = vec(x$Qp),
  i2 = vec(x$I2), h2 = vec(x$H2)
)

cases <- list()
for (name in names(sets)) {
  d <- sets[[name]]
  for (s in settings_for(name)) {
    for (mm in list(c("MH", "OR"), c("MH", "RR"), c("MH", "RD"), c("PETO", "PETO"))) {
      fit <- fit_on(d, mm[1], mm[2], s)
      key <- d$key
      cum_data <- fit
      entry <- list(
        dataset = name, method = mm[1], measure = mm[2],
        options = list(add = vec(pair(s$add, 0)), to = I(pair(s$to, "none")),
                       drop00 = I(pair(s$drop00, FALSE)), correct = s$correct),
        a = vec(d$a), b = vec(d$b), c = vec(d$c), d = vec(d$d), key = vec(d$key),
        result = pooled(fit),
        leave1out = refits(leave1out(fit)),
        cumulative = refits(cumul(fit)),
        cumulative_by_key = c(list(order = vec(order(d$key) - 1)),
                              refits(cumul(fit, order = key)))
      )
      bj <- tryCatch(baujat(fit, progbar = FALSE), error = function(e) NULL)
      if (!is.null(bj)) entry$baujat <- list(x = vec(bj$x), y = vec(bj$y))
      if (mm[1] == "MH" && mm[2] == "OR") {
        other <- fit_on(d, "MH", "OR", modifyList(s, list(correct = !s$correct)))
        corrected <- if (s$correct) fit else other
        plain <- if (s$correct) other else fit
        entry$tests <- list(
          cochran_statistic = num(corrected$CO), cochran_pvalue = num(corrected$COp),
          cmh_statistic = num(corrected$MH), cmh_pvalue = num(corrected$MHp),
          cochran_statistic_uncorrected = num(plain$CO),
          cochran_pvalue_uncorrected = num(plain$COp),
          cmh_statistic_uncorrected = num(plain$MH), cmh_pvalue_uncorrected = num(plain$MHp),
          breslow_day_statistic = num(fit$BD), breslow_day_pvalue = num(fit$BDp),
          tarone_statistic = num(fit$TA), tarone_pvalue = num(fit$TAp)
        )
      }
      if (name %in% gosh_sets) {
        g <- gosh(fit, progbar = FALSE)
        entry$gosh <- list(included = unname(as.matrix(g$incl) * 1L),
                           k = vec(g$res$k), estimate = vec(g$res$estimate),
                           q = vec(g$res$QE), i2 = vec(g$res$I2), h2 = vec(g$res$H2))
      }
      if (!all(is.na(d$group))) {
        groups <- sort(unique(d$group))
        fits <- lapply(groups, function(g) {
          keep <- d$group == g
          pooled(fit_on(d[keep, ], mm[1], mm[2], s))
        })
        est <- sapply(fits, function(f) f$estimate)
        se <- sapply(fits, function(f) f$se)
        between <- rma(est, sei = se, method = "EE")
        entry$subgroups <- list(group = I(d$group), groups = I(groups), fits = fits,
                                q_between = num(between$QE), df_between = length(groups) - 1,
                                pvalue_between = num(between$QEp))
      }
      cases[[length(cases) + 1]] <- entry
    }
  }
}
out <- list(
  meta = list(metafor_version = as.character(packageVersion("metafor")),
              metadat_version = as.character(packageVersion("metadat")),
              r_version = R.version.string, script = "tests/reference/followups_mh.R"),
  cases = cases
)
path <- file.path(outdir, "followups_mh.json")
write_json(out, path, digits = NA, auto_unbox = TRUE, na = "string", pretty = FALSE)
cat("wrote", length(cases), "cases to", path, "\n")
