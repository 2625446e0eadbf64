# Reference values from metafor for proportions, incidence rates and the 2x2 /
# dichotomised measures, for tests/test_effects_proportions.py, test_effects_rates.py,
# test_effects_association.py and test_mh_rates.py.
#
# Usage: Rscript tests/reference/effects_counts_more.R [OUTDIR]  (default tests/reference/fixtures)
# Needs metafor (3.8-1 when the fixtures were written), metadat and jsonlite.
#
# Writes effects_counts_more.json with
#   data:   per data set, the input under its own column names (NA -> null) and `columns`,
#           srma's column roles mapped to those names (effect_sizes(**columns));
#   cases:  data set, measure, srma's keyword arguments (`settings`) and escalc's yi, vi;
#   pooled: rma.uni fits (REML, DL, EE) of some of these effects with the pooled estimate
#           back-transformed by predict(transf=...) (PFT: transf.ipft.hm, targs ni);
#   mh:     rma.mh fits for IRR and IRD (estimate, se, z, p, CI, Q, I2, H2, MH test, weights).
suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"
tight <- list(threshold = 1e-13, tol = 1e-13, maxiter = 10000)

dataset <- function(input, columns) list(input = as.list(input), columns = columns)
case <- function(data, measure, res, settings = setNames(list(), character(0))) {
  list(data = data, measure = measure, settings = settings,
       yi = as.numeric(res$yi), vi = as.numeric(res$vi))
}

## --- data ----------------------------------------------------------------------------
pritz <- dat.pritz1997[, c("study", "authors", "xi", "ni")]
debruin <- dat.debruin2009[, c("author", "year", "xi", "ni")]
# a proportion data set with a zero and an all-events study (continuity corrections)
edge <- data.frame(study = paste("Edge", 1:5), xi = c(0, 3, 10, 7, 12), ni = c(15, 20, 10, 30, 40))
hart <- dat.hart1999[, c("study", "year", "x1i", "t1i", "x2i", "t2i")]
nielweise <- dat.nielweise2008[, c("authors", "year", "x1i", "t1i", "x2i", "t2i")]
# rates with zero counts, one double-zero study (drop00) and one zero in one group
rate_edge <- data.frame(study = paste("Rate", 1:5), x1i = c(0, 4, 0, 9, 2),
                        t1i = c(120, 300, 80, 410, 150), x2i = c(3, 7, 0, 12, 5),
                        t2i = c(110, 280, 95, 400, 160))
bcg <- dat.bcg[, c("trial", "author", "year", "tpos", "tneg", "cpos", "cneg")]
# 2x2 tables with zero cells
cells_edge <- data.frame(study = paste("Table", 1:4), ai = c(0, 5, 12, 3), bi = c(20, 15, 0, 17),
                         ci = c(4, 9, 6, 0), di = c(16, 11, 14, 20))
normand <- dat.normand1999[, c("study", "source", "n1i", "m1i", "sd1i", "n2i", "m2i", "sd2i")]

prop_roles <- list(events = "xi", total = "ni")
rate_roles <- list(events = "x1i", time = "t1i")
two_rate_roles <- list(events1 = "x1i", time1 = "t1i", events2 = "x2i", time2 = "t2i")
data <- list(
  pritz1997 = dataset(pritz, prop_roles),
  debruin2009 = dataset(debruin, prop_roles),
  proportion_edge = dataset(edge, prop_roles),
  hart1999 = dataset(hart, two_rate_roles),
  hart1999_group1 = dataset(hart, rate_roles),
  nielweise2008 = dataset(nielweise, two_rate_roles),
  rate_edge = dataset(rate_edge, two_rate_roles),
  rate_edge_group1 = dataset(rate_edge, rate_roles),
  bcg = dataset(bcg, list(a = "tpos", b = "tneg", c = "cpos", d = "cneg")),
  cells_edge = dataset(cells_edge, list(a = "ai", b = "bi", c = "ci", d = "di")),
  normand1999 = dataset(normand, list(mean1 = "m1i", sd1 = "sd1i", n1 = "n1i",
                                      mean2 = "m2i", sd2 = "sd2i", n2 = "n2i"))
)

## --- escalc ----------------------------------------------------------------------------
cases <- list()
add_case <- function(x) cases[[length(cases) + 1]] <<- x
for (name in c("pritz1997", "debruin2009", "proportion_edge")) {
  d <- list(pritz1997 = pritz, debruin2009 = debruin, proportion_edge = edge)[[name]]
  for (m in c("PR", "PLN", "PLO", "PAS", "PFT")) {
    add_case(case(name, m, escalc(m, xi = xi, ni = ni, data = d)))
  }
}
add_case(case("proportion_edge", "PLO", escalc("PLO", xi = xi, ni = ni, data = edge, add = 1, to = "all"),
              list(add = 1, to = "all")))
add_case(case("proportion_edge", "PR", escalc("PR", xi = xi, ni = ni, data = edge, to = "none"),
              list(to = "none")))
for (name in c("hart1999_group1", "rate_edge_group1")) {
  d <- list(hart1999_group1 = hart, rate_edge_group1 = rate_edge)[[name]]
  for (m in c("IR", "IRLN", "IRS")) {
    add_case(case(name, m, escalc(m, xi = x1i, ti = t1i, data = d)))
  }
}
for (name in c("hart1999", "nielweise2008", "rate_edge")) {
  d <- list(hart1999 = hart, nielweise2008 = nielweise, rate_edge = rate_edge)[[name]]
  # srma drops double-zero studies for IRR by default (as for RR and OR), not for IRD
  add_case(case(name, "IRR", escalc("IRR", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i,
                                     data = d, drop00 = TRUE)))
  add_case(case(name, "IRD", escalc("IRD", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = d)))
}
add_case(case("rate_edge", "IRR", escalc("IRR", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i,
                                          data = rate_edge, drop00 = FALSE),
              list(drop00 = FALSE)))
for (name in c("bcg", "cells_edge")) {
  d <- list(bcg = bcg, cells_edge = cells_edge)[[name]]
  cols <- if (name == "bcg") c("tpos", "tneg", "cpos", "cneg") else c("ai", "bi", "ci", "di")
  for (m in c("PHI", "YUQ", "YUY", "OR2DN", "OR2DL")) {
    add_case(case(name, m, escalc(m, ai = d[[cols[1]]], bi = d[[cols[2]]], ci = d[[cols[3]]],
                                  di = d[[cols[4]]])))
  }
}
add_case(case("normand1999", "RPB", escalc("RPB", m1i = m1i, sd1i = sd1i, n1i = n1i,
                                           m2i = m2i, sd2i = sd2i, n2i = n2i, data = normand)))

## --- pooled and back-transformed ---------------------------------------------------------
pooled <- list()
transforms <- list(PLO = transf.ilogit, PLN = exp, PAS = transf.iarcsin, IRLN = exp)
for (spec in list(list("pritz1997", "PFT"), list("debruin2009", "PFT"), list("pritz1997", "PLO"),
                  list("debruin2009", "PLN"), list("pritz1997", "PAS"), list("hart1999_group1", "IRLN"),
                  list("proportion_edge", "PFT"))) {
  name <- spec[[1]]; m <- spec[[2]]
  d <- switch(name, pritz1997 = pritz, debruin2009 = debruin, proportion_edge = edge,
              hart1999_group1 = hart)
  es <- if (m == "IRLN") escalc(m, xi = x1i, ti = t1i, data = d) else escalc(m, xi = xi, ni = ni, data = d)
  for (method in c("REML", "DL", "EE")) {
    fit <- rma(yi, vi, data = es, method = method, control = tight)
    pred <- if (m == "PFT") predict(fit, transf = transf.ipft.hm, targs = list(ni = d$ni))
            else predict(fit, transf = transforms[[m]])
    pooled[[length(pooled) + 1]] <- list(
      data = name, measure = m, method = method,
      estimate = as.numeric(fit$beta), se = fit$se, ci_lower = fit$ci.lb, ci_upper = fit$ci.ub,
      tau2 = fit$tau2,
      back = list(estimate = pred$pred, ci_lower = pred$ci.lb, ci_upper = pred$ci.ub,
                  pi_lower = if (is.null(pred$pi.lb)) NULL else pred$pi.lb,
                  pi_upper = if (is.null(pred$pi.ub)) NULL else pred$pi.ub),
      harmonic_mean_n = if (m == "PFT") 1 / mean(1 / d$ni) else NULL)
  }
}

## --- Mantel-Haenszel for incidence rates ----------------------------------------------------
mh <- list()
mh_case <- function(name, d, m, settings = list()) {
  args <- c(list(measure = m, x1i = d$x1i, t1i = d$t1i, x2i = d$x2i, t2i = d$t2i), settings)
  fit <- suppressWarnings(do.call(rma.mh, args))
  list(data = name, measure = m, settings = if (length(settings)) settings else setNames(list(), character(0)),
       k = fit$k, k_yi = fit$k.yi,
       estimate = as.numeric(fit$beta), se = fit$se, statistic = fit$zval, pvalue = fit$pval,
       ci_lower = fit$ci.lb, ci_upper = fit$ci.ub,
       q = fit$QE, q_pvalue = fit$QEp, i2 = fit$I2, h2 = fit$H2,
       mh_statistic = if (is.na(fit$MH)) NULL else fit$MH,
       mh_pvalue = if (is.na(fit$MHp)) NULL else fit$MHp,
       weights = as.numeric(weights(fit)),
       yi = as.numeric(fit$yi.f), vi = as.numeric(fit$vi.f))
}
for (m in c("IRR", "IRD")) {
  mh[[length(mh) + 1]] <- mh_case("hart1999", hart, m)
  mh[[length(mh) + 1]] <- mh_case("nielweise2008", nielweise, m)
  mh[[length(mh) + 1]] <- mh_case("rate_edge", rate_edge, m)
}
mh[[length(mh) + 1]] <- mh_case("hart1999", hart, "IRR", list(correct = FALSE))
mh[[length(mh) + 1]] <- mh_case("rate_edge", rate_edge, "IRR", list(add = 0.5, to = "all", drop00 = FALSE))
mh[[length(mh) + 1]] <- mh_case("nielweise2008", nielweise, "IRD", list(level = 0.9))

# leave-one-out of a Mantel-Haenszel rate ratio (the follow-ups refit the rates)
l1o_fit <- rma.mh(measure = "IRR", x1i = x1i, t1i = t1i, x2i = x2i, t2i = t2i, data = hart)
l1o <- leave1out(l1o_fit)
leave_one_out <- list(data = "hart1999", measure = "IRR", estimate = as.numeric(l1o$estimate),
                      se = as.numeric(l1o$se), q = as.numeric(l1o$Q))

meta <- list(metafor_version = as.character(packageVersion("metafor")),
             metadat_version = as.character(packageVersion("metadat")),
             r_version = R.version.string, script = "tests/reference/effects_counts_more.R")
write_json(list(meta = meta, data = data, cases = cases, pooled = pooled, mh = mh,
                leave_one_out = leave_one_out),
           file.path(outdir, "effects_counts_more.json"),
           digits = NA, auto_unbox = TRUE, na = "null", null = "null")
cat("wrote", length(cases), "cases,", length(pooled), "pooled and", length(mh), "MH fits\n")
