# Reference effect sizes from metafor's escalc(), for tests/test_effect_sizes.py.
#
# Usage: Rscript tests/reference/effects.R [OUTDIR]   (default tests/reference/fixtures)
# Needs metafor (3.8-1 when the fixtures were written), metadat and jsonlite.
#
# Writes effects_continuous.json, effects_binary.json, effects_correlation.json and
# effects_generic.json, each with
#   data:  per data set, the input under its own column names (NA -> null) and
#          `columns`, srma's column roles mapped to those names (effect_sizes(**columns));
#   cases: the data set, the measure, srma's keyword arguments (`settings`: add, to,
#          drop00, log, level, given to escalc with the same meaning) and escalc's yi, vi.
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"

dataset <- function(input, columns) list(input = as.list(input), columns = columns)
case <- function(data, measure, res, settings = setNames(list(), character(0))) {
  list(data = data, measure = measure, settings = settings,
       yi = as.numeric(res$yi), vi = as.numeric(res$vi))
}
write_cases <- function(data, cases, file) {
  meta <- list(metafor_version = as.character(packageVersion("metafor")),
               metadat_version = as.character(packageVersion("metadat")),
               r_version = R.version.string, script = "tests/reference/effects.R")
  write_json(list(meta = meta, data = data, cases = cases), file.path(outdir, file),
             digits = NA, auto_unbox = TRUE, na = "null", null = "null")
  cat("wrote", length(cases), "cases to", file, "\n")
}

## Continuous: dat.normand1999 (length of hospital stay), roles mapped to metafor's names.
normand <- dat.normand1999[, c("study", "source", "n1i", "m1i", "sd1i", "n2i", "m2i", "sd2i")]
continuous_data <- list(normand1999 = dataset(normand, list(
  mean1 = "m1i", sd1 = "sd1i", n1 = "n1i", mean2 = "m2i", sd2 = "sd2i", n2 = "n2i")))
continuous <- lapply(c("MD", "SMD", "ROM"), function(m) {
  case("normand1999", m, escalc(m, m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
                                n2i = n2i, data = normand))
})
write_cases(continuous_data, continuous, "effects_continuous.json")

## Binary: 2x2 tables given as cells (dat.bcg) or as events and group sizes (the others).
events_roles <- list(events1 = "ai", total1 = "n1i", events2 = "ci", total2 = "n2i")
collins <- dat.collins1985a
binary_data <- list(
  bcg = dataset(dat.bcg[, c("trial", "author", "year", "tpos", "tneg", "cpos", "cneg")],
                list(a = "tpos", b = "tneg", c = "cpos", d = "cneg")),
  hine1989 = dataset(dat.hine1989[, c("study", "source", "n1i", "n2i", "ai", "ci")],
                     events_roles),
  # 130 rows in 9 tables, with zero cells and rows of missing counts
  yusuf1985 = dataset(dat.yusuf1985[, c("table", "id", "trial", "ai", "n1i", "ci", "n2i")],
                      events_roles),
  # deaths: zero cells and two double-zero trials; bleeding: missing counts
  collins1985a_deaths = dataset(data.frame(trial = collins$trial, ai = collins$d.xti,
                                           n1i = collins$nti, ci = collins$d.xci,
                                           n2i = collins$nci), events_roles),
  collins1985a_bleeding = dataset(data.frame(trial = collins$trial, ai = collins$b.xti,
                                             n1i = collins$nti, ci = collins$b.xci,
                                             n2i = collins$nci), events_roles),
  # constructed: no events in both groups (A, E), only events (D), one zero cell (B, C)
  zeros = dataset(data.frame(study = paste("Study", LETTERS[1:6]),
                             ai = c(0, 0, 3, 10, 0, 5), n1i = c(20, 15, 30, 10, 12, 40),
                             ci = c(0, 2, 0, 10, 0, 7), n2i = c(20, 16, 28, 10, 11, 38)),
                  events_roles)
)
binary_escalc <- function(measure, set, add, to, drop00) {
  cell <- function(role) set$input[[set$columns[[role]]]]
  if (!is.null(set$columns$a)) {
    escalc(measure, ai = cell("a"), bi = cell("b"), ci = cell("c"), di = cell("d"),
           add = add, to = to, drop00 = drop00)
  } else {
    escalc(measure, ai = cell("events1"), n1i = cell("total1"), ci = cell("events2"),
           n2i = cell("total2"), add = add, to = to, drop00 = drop00)
  }
}
# Tables without zero cells: srma's defaults (drop00 TRUE for RR and OR, else FALSE).
# Tables with zero cells: every `to`, add = 0.5 and 1, drop00 TRUE and FALSE.
grid <- expand.grid(to = c("only0", "all", "if0all", "none"), add = c(0.5, 1),
                    drop00 = c(TRUE, FALSE), stringsAsFactors = FALSE)
grid <- grid[!(grid$to == "none" & grid$add != 0.5), ]
binary <- list()
for (name in names(binary_data)) {
  for (m in c("RR", "OR", "RD", "PETO")) {
    settings <- if (name %in% c("bcg", "hine1989")) {
      data.frame(to = "only0", add = 0.5, drop00 = m %in% c("RR", "OR"))
    } else {
      grid
    }
    for (i in seq_len(nrow(settings))) {
      s <- settings[i, ]
      res <- suppressWarnings(binary_escalc(m, binary_data[[name]], s$add, s$to, s$drop00))
      binary[[length(binary) + 1]] <- case(name, m, res,
                                           list(add = s$add, to = s$to, drop00 = s$drop00))
    }
  }
}
write_cases(binary_data, binary, "effects_binary.json")

## Correlations: dat.molloy2014 (conscientiousness and medication adherence).
molloy <- dat.molloy2014[, c("authors", "year", "ni", "ri")]
correlation <- lapply(c("COR", "ZCOR"), function(m) {
  case("molloy2014", m, escalc(m, ri = ri, ni = ni, data = molloy))
})
write_cases(list(molloy2014 = dataset(molloy, list(r = "ri", n = "ni"))), correlation,
            "effects_correlation.json")

## Generic: escalc's own effects (log RR for dat.bcg, MD for dat.normand1999) turned
## into what a paper reports by summary.escalc (sei, ci.lb, ci.ub, pval, from qnorm and
## pnorm); srma must recover escalc's yi and vi from each.
bcg_rr <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
bcg_95 <- summary(bcg_rr)
bcg_90 <- summary(bcg_rr, level = 90)
normand_md <- summary(escalc("MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
                             n2i = n2i, data = dat.normand1999))
ratio_ci <- function(s) data.frame(trial = dat.bcg$trial, rr = exp(s$yi), lower = exp(s$ci.lb),
                                   upper = exp(s$ci.ub))
ci_roles <- list(yi = "rr", ci_lower = "lower", ci_upper = "upper")
generic_data <- list(
  bcg_sei = dataset(data.frame(trial = dat.bcg$trial, logrr = bcg_95$yi, se = bcg_95$sei),
                    list(yi = "logrr", sei = "se")),
  bcg_ci95 = dataset(ratio_ci(bcg_95), ci_roles),
  bcg_ci90 = dataset(ratio_ci(bcg_90), ci_roles),
  bcg_p = dataset(data.frame(trial = dat.bcg$trial, logrr = bcg_95$yi, p = bcg_95$pval),
                  list(yi = "logrr", pvalue = "p")),
  normand1999_ci95 = dataset(data.frame(study = dat.normand1999$study, md = normand_md$yi,
                                        lower = normand_md$ci.lb, upper = normand_md$ci.ub),
                             list(yi = "md", ci_lower = "lower", ci_upper = "upper"))
)
generic <- list(
  case("bcg_sei", "GEN", escalc(measure = "GEN", yi = bcg_95$yi, sei = bcg_95$sei)),
  case("bcg_ci95", "GEN", bcg_rr, list(log = TRUE)),
  case("bcg_ci90", "GEN", bcg_rr, list(log = TRUE, level = 0.9)),
  case("bcg_p", "GEN", bcg_rr),
  case("normand1999_ci95", "GEN", normand_md)
)
write_cases(generic_data, generic, "effects_generic.json")
