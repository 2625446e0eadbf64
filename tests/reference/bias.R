# Reference values for srma's small-study-effect tests, trim-and-fill and fail-safe N.
#
# Usage: Rscript tests/reference/bias.R [OUTDIR]   (writes OUTDIR/bias.json)
#
# metafor 3.8-1: regtest() (model = "lm" and the default "rma"; predictors sei, vi and,
# with study sizes, ninv and sqrtninv), ranktest(), trimfill() (L0, R0; side estimated,
# left, right), fsn() (Rosenthal, Orwin, Rosenberg).
#
# Peters' and Harbord's tests have no metafor function and R's meta package is not
# installed here, so they are computed with lm() straight from the published formulas:
#   Peters, Sutton, Jones, Abrams & Rushton (2006), JAMA 295:676-680: log OR on 1/N,
#     weighted by S F / N (S, F: events and non-events of the table, N its size);
#   Harbord, Egger & Sterne (2006), Stat Med 25:3443-3457: Z / sqrt(V) on sqrt(V) by
#     ordinary least squares, Z = a - n1 S / N, V = n1 n2 S F / (N^2 (N - 1)); the
#     intercept is tested.
# Each is fitted in two algebraically equivalent ways (the second as meta::metabias
# writes it: weights 1/(1/S + 1/F); Z/V on 1/sqrt(V) with weights V) and the script
# stops if they disagree.
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"
tight <- list(threshold = 1e-13, maxiter = 100000, tol = 1e-15, tau2.max = 1e8)
num <- function(x) if (is.null(x) || length(x) == 0) NA_real_ else as.numeric(x)

# --- data sets ----------------------------------------------------------------------
bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
bcg$ni <- with(dat.bcg, tpos + tneg + cpos + cneg)
normand <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
                  n2i = n2i, data = dat.normand1999)
normand$ni <- with(dat.normand1999, n1i + n2i)
raudenbush <- dat.raudenbush1985
raudenbush$ni <- with(dat.raudenbush1985, n1i + n2i)
magnesium <- escalc("OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.egger2001)
magnesium$ni <- with(dat.egger2001, n1i + n2i)
# effects that shrink as precision grows: trim-and-fill imputes studies on the left
skewed <- data.frame(yi = c(0.90, 0.75, 0.62, 0.55, 0.48, 0.41, 0.35, 0.30, 0.27, 0.24, 0.22),
                     vi = c(0.20, 0.15, 0.12, 0.09, 0.07, 0.05, 0.04, 0.03, 0.02, 0.015, 0.01))
# ties in the variances: the rank test takes the normal approximation
tied <- data.frame(yi = c(0.10, 0.35, -0.20, 0.62, 0.05, 0.48, 0.30, 0.15, 0.80, 0.22),
                   vi = c(0.02, 0.05, 0.05, 0.10, 0.02, 0.08, 0.05, 0.03, 0.12, 0.03))
# many studies: the exact null distribution of Kendall's score at k = 120
set.seed(20240611)
sim_vi <- round(runif(120, 0.005, 0.4), 6)
sim <- data.frame(yi = round(0.2 + 0.6 * sqrt(sim_vi) + rnorm(120, 0, sqrt(sim_vi + 0.02)), 6),
                  vi = sim_vi)
sets <- list(
  bcg_RR = list(data = bcg, ni = bcg$ni),
  normand1999_SMD = list(data = normand, ni = normand$ni),
  raudenbush1985 = list(data = raudenbush, ni = raudenbush$ni),
  hackshaw1998 = list(data = dat.hackshaw1998, ni = NULL),
  egger2001_OR = list(data = magnesium, ni = magnesium$ni),
  skewed = list(data = skewed, ni = NULL),
  tied = list(data = tied, ni = NULL),
  sim120 = list(data = sim, ni = NULL)
)
models <- list(c("EE", "z"), c("DL", "knha"), c("REML", "z"), c("REML", "knha"), c("PMM", "z"),
               c("PMM", "knha"))

# --- Egger: regtest, and the classic form as Egger wrote it ------------------------------
regression <- function(fit, d, ni, model, predictor) {
  r <- if (is.null(ni)) regtest(fit, model = model, predictor = predictor)
       else regtest(fit, model = model, predictor = predictor, ni = ni)
  if (model == "lm") {
    co <- coef(summary(r$fit))
    coefficient <- co[2, 1]; coefficient_se <- co[2, 2]; tau2 <- NA_real_
  } else {
    coefficient <- r$fit$beta[2]; coefficient_se <- r$fit$se[2]; tau2 <- r$fit$tau2
  }
  list(model = model, predictor = predictor, statistic = num(r$zval), pvalue = num(r$pval),
       df = if (is.null(r$dfs)) NA_real_ else num(r$dfs), coefficient = num(coefficient),
       coefficient_se = num(coefficient_se), limit_estimate = num(r$est),
       limit_ci_lower = num(r$ci.lb), limit_ci_upper = num(r$ci.ub), tau2 = num(tau2))
}

cases <- list()
for (name in names(sets)) {
  d <- sets[[name]]$data
  ni <- sets[[name]]$ni
  yi <- as.numeric(d$yi); vi <- as.numeric(d$vi)
  predictors <- if (is.null(ni)) c("sei", "vi") else c("sei", "vi", "ninv", "sqrtninv")
  # Egger's original regression: standard normal deviate on precision, ordinary least
  # squares; its intercept is the slope on sei of the weighted regression of regtest
  snd <- coef(summary(lm(I(yi / sqrt(vi)) ~ I(1 / sqrt(vi)))))
  for (m in models) {
    method <- m[1]; test <- m[2]
    fit <- rma(yi, vi, method = method, test = test, control = tight)
    regressions <- list()
    for (predictor in predictors) for (model in c("lm", "rma")) {
      regressions[[length(regressions) + 1]] <- regression(fit, d, ni, model, predictor)
    }
    classic <- regressions[[1]]
    stopifnot(isTRUE(all.equal(classic$coefficient, snd[1, 1], tolerance = 1e-10)),
              isTRUE(all.equal(classic$coefficient_se, snd[1, 2], tolerance = 1e-10)))
    rank <- ranktest(fit)
    vstar <- vi - 1 / sum(1 / vi)
    ystar <- (yi - sum(yi / vi) / sum(1 / vi)) / sqrt(vstar)
    fills <- list()
    for (estimator in c("L0", "R0")) for (side in c("estimated", "left", "right")) {
      tf <- if (side == "estimated") trimfill(fit, estimator = estimator, control = tight)
            else trimfill(fit, estimator = estimator, side = side, control = tight)
      # trimfill() refits the filled data with a z test (or returns the model itself
      # when k0 = 0); srma keeps the model's test, so refit with it as well
      refit <- rma(as.numeric(tf$yi), as.numeric(tf$vi), method = method, test = test,
                   control = tight)
      fills[[length(fills) + 1]] <- list(
        estimator = estimator, side_asked = side, side = tf$side, k0 = tf$k0,
        se_k0 = num(tf$se.k0), p_k0 = num(tf$p.k0),
        metafor_estimate = num(tf$beta), metafor_se = num(tf$se),
        metafor_ci_lower = num(tf$ci.lb), metafor_ci_upper = num(tf$ci.ub),
        metafor_test = tf$test,
        estimate = num(refit$beta), se = num(refit$se), ci_lower = num(refit$ci.lb),
        ci_upper = num(refit$ci.ub), pvalue = num(refit$pval), tau2 = num(refit$tau2),
        imputed_y = num(tail(as.numeric(tf$yi), tf$k0)),
        imputed_v = num(tail(as.numeric(tf$vi), tf$k0)))
    }
    fsn_orwin <- fsn(yi, vi, type = "Orwin")
    fsn_rosenberg <- fsn(yi, vi, type = "Rosenberg")
    cases[[length(cases) + 1]] <- list(
      dataset = name, method = method, test = test, yi = yi, vi = vi,
      ni = if (is.null(ni)) NULL else as.numeric(ni),
      regressions = regressions,
      egger_snd = list(intercept = snd[1, 1], intercept_se = snd[1, 2]),
      begg = list(tau = num(rank$tau), pvalue = num(rank$pval),
                  exact = !(any(duplicated(ystar)) || any(duplicated(vi)))),
      trimfill = fills,
      failsafe = list(
        rosenthal = num(fsn(yi, vi)$fsnum), rosenthal_p = num(fsn(yi, vi)$pval),
        rosenthal_01 = num(fsn(yi, vi, alpha = 0.01)$fsnum),
        orwin = num(fsn_orwin$fsnum), orwin_target = num(fsn_orwin$target),
        orwin_mean = num(fsn_orwin$meanes),
        orwin_weighted = num(fsn(yi, vi, type = "Orwin", weighted = TRUE)$fsnum),
        orwin_target_01 = num(fsn(yi, vi, type = "Orwin", target = 0.1)$fsnum),
        rosenberg = num(fsn_rosenberg$fsnum), rosenberg_p = num(fsn_rosenberg$pval),
        rosenberg_mean = num(fsn_rosenberg$meanes),
        rosenberg_01 = num(fsn(yi, vi, type = "Rosenberg", alpha = 0.01)$fsnum)))
  }
}

# --- Peters and Harbord on 2x2 tables ----------------------------------------------------
tables <- list(
  bcg = with(dat.bcg, data.frame(events1 = tpos, total1 = tpos + tneg,
                                 events2 = cpos, total2 = cpos + cneg)),
  collins1985a = with(dat.collins1985a[!is.na(dat.collins1985a$b.xti), ],
                      data.frame(events1 = b.xti, total1 = nti, events2 = b.xci, total2 = nci)),
  egger2001 = with(dat.egger2001, data.frame(events1 = ai, total1 = n1i,
                                             events2 = ci, total2 = n2i)),
  # has a table without events (Yucel 2004): it drops out of both tests
  nielweise2007 = with(dat.nielweise2007, data.frame(events1 = ai, total1 = n1i,
                                                     events2 = ci, total2 = n2i))
)
binary <- list()
for (name in names(tables)) {
  all <- tables[[name]]
  all[] <- lapply(all, as.numeric)  # no integer overflow in products of counts
  d <- all[all$events1 + all$events2 > 0 &
             all$events1 + all$events2 < all$total1 + all$total2, ]
  with(d, {
    a <- events1; b <- total1 - events1; c <- events2; dd <- total2 - events2
    S <- a + c; F <- b + dd; N <- total1 + total2
    es <- escalc("OR", ai = a, bi = b, ci = c, di = dd)  # 0.5 added to tables with a zero cell
    peters <- summary(lm(es$yi ~ I(1 / N), weights = S * F / N))
    peters_meta <- summary(lm(es$yi ~ I(1 / N), weights = 1 / (1 / S + 1 / F)))
    stopifnot(isTRUE(all.equal(coef(peters), coef(peters_meta), tolerance = 1e-10)))
    Z <- a - total1 * S / N
    V <- total1 * total2 * S * F / (N^2 * (N - 1))
    harbord <- summary(lm(I(Z / sqrt(V)) ~ sqrt(V)))
    harbord_meta <- summary(lm(I(Z / V) ~ I(1 / sqrt(V)), weights = V))
    stopifnot(isTRUE(all.equal(coef(harbord)[1, ], coef(harbord_meta)[2, ], tolerance = 1e-10)))
    binary[[length(binary) + 1]] <<- list(
      dataset = name, events1 = all$events1, total1 = all$total1, events2 = all$events2,
      total2 = all$total2, k_used = nrow(d), yi = num(es$yi),
      peters = list(coefficient = coef(peters)[2, 1], coefficient_se = coef(peters)[2, 2],
                    statistic = coef(peters)[2, 3], pvalue = coef(peters)[2, 4],
                    df = peters$df[2], limit_estimate = coef(peters)[1, 1]),
      harbord = list(coefficient = coef(harbord)[1, 1], coefficient_se = coef(harbord)[1, 2],
                     statistic = coef(harbord)[1, 3], pvalue = coef(harbord)[1, 4],
                     df = harbord$df[2], limit_estimate = coef(harbord)[2, 1]))
  })
}

write_json(list(meta = list(metafor_version = as.character(packageVersion("metafor")),
                            R_version = R.version.string, script = "tests/reference/bias.R"),
                cases = cases, binary = binary),
           file.path(outdir, "bias.json"), digits = NA, auto_unbox = TRUE, na = "null")
cat("wrote", length(cases), "cases and", length(binary), "binary sets\n")
