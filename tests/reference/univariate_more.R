# Reference values for srma's follow-ups of univariate models, computed by metafor:
# blup() and ranef(), se.tau2 of every tau² estimator, confint(type = "PL"),
# rma(method = "GENQ", weights =), influence() of meta-regressions, permutest()
# of intercept-only models (exact) and hc() (Henmi & Copas 2010).
#
# Usage: Rscript tests/reference/univariate_more.R OUTDIR
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"
tight <- list(threshold = 1e-13, maxiter = 100000, tol = 1e-13, tau2.max = 1e8)
num <- function(x) as.numeric(x)

bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
normand <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i,
                  n2i = n2i, data = dat.normand1999)
lee <- escalc("RR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.lee2004)
# a homogeneous set: every estimator truncates tau² at 0
flat <- data.frame(yi = c(0.10, 0.12, 0.09, 0.11, 0.10, 0.13),
                   vi = c(0.04, 0.05, 0.03, 0.06, 0.02, 0.05))
sets <- list(bcg = bcg, normand1999 = normand, lee2004 = lee, flat = flat)

# --- BLUPs and random effects ----------------------------------------------------------
blups <- list()
for (name in c("bcg", "normand1999")) {
  d <- sets[[name]]
  for (mods in list(NULL, ~ ablat)) {
    if (!is.null(mods) && name != "bcg") next
    for (method in c("EE", "DL", "REML")) {
      for (test in c("z", "knha")) {
        fit <- if (is.null(mods)) {
          rma(yi, vi, data = d, method = method, test = test, control = tight)
        } else {
          rma(yi, vi, mods = mods, data = d, method = method, test = test, control = tight)
        }
        b <- blup(fit)
        r <- ranef(fit)
        blups[[length(blups) + 1]] <- list(
          dataset = name, moderators = if (is.null(mods)) "" else "ablat",
          method = method, test = test,
          blup = list(pred = num(b$pred), se = num(b$se), pi_lower = num(b$pi.lb),
                      pi_upper = num(b$pi.ub)),
          ranef = list(pred = num(r$pred), se = num(r$se), pi_lower = num(r$pi.lb),
                       pi_upper = num(r$pi.ub)))
      }
    }
  }
}

# --- se(tau²) of every estimator, intercept-only and with a moderator ------------------
se_cases <- list()
for (name in names(sets)) {
  d <- sets[[name]]
  for (method in c("EE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM", "PMM")) {
    fit <- suppressWarnings(rma(yi, vi, data = d, method = method, control = tight))
    se_cases[[length(se_cases) + 1]] <- list(
      dataset = name, moderators = "", method = method, yi = num(d$yi), vi = num(d$vi),
      X = matrix(1, nrow(d), 1), tau2 = num(fit$tau2),
      tau2_se = num(fit$se.tau2))
  }
}
for (method in c("DL", "HE", "HS", "SJ", "ML", "REML", "PM", "PMM")) {
  fit <- rma(yi, vi, mods = ~ ablat, data = bcg, method = method, control = tight)
  se_cases[[length(se_cases) + 1]] <- list(
    dataset = "bcg", moderators = "ablat", method = method, yi = num(bcg$yi),
    vi = num(bcg$vi), X = unname(model.matrix(~ ablat, data = bcg)), tau2 = num(fit$tau2),
    tau2_se = num(fit$se.tau2))
}

# --- GENQ with weights (the estimate, its se and the pooled result) --------------------
genq <- list()
for (name in c("bcg", "normand1999", "flat")) {
  d <- sets[[name]]
  for (scheme in c("inverse", "sqrt_n", "unit")) {
    a <- switch(scheme, inverse = 1 / d$vi, sqrt_n = 1 / sqrt(d$vi), unit = rep(1, nrow(d)))
    for (test in c("z", "knha")) {
      fit <- rma(yi, vi, weights = a, data = d, method = "GENQ", test = test, control = tight)
      genq[[length(genq) + 1]] <- list(
        dataset = name, weights_scheme = scheme, test = test, yi = num(d$yi),
        vi = num(d$vi), weights = num(a), tau2 = num(fit$tau2), tau2_se = num(fit$se.tau2),
        estimate = num(fit$beta), se = num(fit$se), ci_lower = num(fit$ci.lb),
        ci_upper = num(fit$ci.ub), pvalue = num(fit$pval), q = num(fit$QE))
    }
  }
}

# --- profile-likelihood intervals of tau² ----------------------------------------------
pl <- list()
for (name in names(sets)) {
  d <- sets[[name]]
  for (method in c("ML", "REML")) {
    for (level in c(95, 90)) {
      fit <- rma(yi, vi, data = d, method = method, level = level, control = tight)
      ci <- confint(fit, type = "PL", control = list(tol = 1e-13, tau2.max = 100))
      pl[[length(pl) + 1]] <- list(
        dataset = name, moderators = "", method = method, level = level / 100,
        tau2 = num(fit$tau2), lower = num(ci$random["tau^2", "ci.lb"]),
        upper = num(ci$random["tau^2", "ci.ub"]))
    }
  }
}
for (method in c("ML", "REML")) {
  fit <- rma(yi, vi, mods = ~ ablat, data = bcg, method = method, control = tight)
  ci <- confint(fit, type = "PL", control = list(tol = 1e-13, tau2.max = 100))
  pl[[length(pl) + 1]] <- list(
    dataset = "bcg", moderators = "ablat", method = method, level = 0.95,
    tau2 = num(fit$tau2), lower = num(ci$random["tau^2", "ci.lb"]),
    upper = num(ci$random["tau^2", "ci.ub"]))
}

# --- influence() of meta-regressions ---------------------------------------------------
influence_cases <- list()
for (mods in c("ablat", "ablat + year")) {
  formula <- as.formula(paste("~", mods))
  for (method in c("EE", "DL", "REML")) {
    for (test in c("z", "knha")) {
      fit <- rma(yi, vi, mods = formula, data = bcg, method = method, test = test,
                 control = tight)
      inf <- influence(fit)
      influence_cases[[length(influence_cases) + 1]] <- list(
        dataset = "bcg", moderators = mods, method = method, test = test,
        rstudent = num(inf$inf$rstudent), dffits = num(inf$inf$dffits),
        cooks_distance = num(inf$inf$cook.d), covariance_ratio = num(inf$inf$cov.r),
        tau2_deleted = num(inf$inf$tau2.del), q_deleted = num(inf$inf$QE.del),
        hat = num(inf$inf$hat), weight = num(inf$inf$weight),
        dfbetas = sapply(seq_len(fit$p), function(j) num(unclass(inf$dfbs)[[j]])),
        influential = as.logical(inf$is.infl))
    }
  }
}

# --- exact sign-flip permutation tests of intercept-only models ------------------------
perm <- list()
perm_sets <- list(bcg8 = bcg[1:8, ], normand1999 = normand[1:9, ], lee10 = lee[1:10, ])
for (name in names(perm_sets)) {
  d <- perm_sets[[name]]
  for (method in c("EE", "DL", "REML")) {
    for (test in c("z", "knha")) {
      fit <- rma(yi, vi, data = d, method = method, test = test, control = tight)
      p <- permutest(fit, exact = TRUE, progbar = FALSE)
      perm[[length(perm) + 1]] <- list(
        dataset = name, method = method, test = test, yi = num(d$yi), vi = num(d$vi),
        statistic = num(fit$zval), pvalue = num(p$pval))
    }
  }
}

# --- Henmi & Copas (2010) --------------------------------------------------------------
hc_cases <- list()
for (name in c("bcg", "normand1999", "lee2004")) {
  d <- sets[[name]]
  for (level in c(95, 90)) {
    # hc() takes its level from the model (its own level argument is not used)
    fit <- rma(yi, vi, data = d, method = "DL", level = level, control = tight)
    h <- hc(fit, control = list(tol = 1e-13, maxiter = 10000))
    hc_cases[[length(hc_cases) + 1]] <- list(
      dataset = name, level = level / 100, yi = num(d$yi), vi = num(d$vi),
      estimate = num(h$beta), se = num(h$se), ci_lower = num(h$ci.lb),
      ci_upper = num(h$ci.ub), tau2 = num(h$tau2))
  }
}

write_json(
  list(meta = list(metafor_version = as.character(packageVersion("metafor")),
                   script = "tests/reference/univariate_more.R"),
       datasets = lapply(sets, function(d) list(yi = num(d$yi), vi = num(d$vi))),
       bcg_ablat = num(bcg$ablat), bcg_year = num(bcg$year),
       blup = blups, tau2_se = se_cases, genq = genq, profile = pl,
       influence = influence_cases, permutation = perm, henmi_copas = hc_cases),
  file.path(outdir, "univariate_more.json"), digits = NA, auto_unbox = TRUE, na = "null")
cat("wrote univariate_more.json\n")
