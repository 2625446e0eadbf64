# Reference values for srma's inverse-variance pooling, computed by metafor.
#
# Usage: Rscript tests/reference/pooling.R OUTDIR
# Needs Debian's r-base-core, r-cran-metafor, r-cran-metadat, r-cran-jsonlite.
#
# For every data set x tau² method x test it records rma.uni's estimate, se,
# test statistic, p-value, CI, tau², Q, I², H², the Q-profile CI of tau² (and
# of I², H²) from confint(), and the prediction interval from predict() with
# pi.type = "riley" (t, k-2 df) and "default".  metafor's convergence settings
# are tightened so that the reference is the exact root, not a value within
# metafor's default tolerance of 1e-5.
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"
dir.create(outdir, showWarnings = FALSE, recursive = TRUE)

tight <- list(threshold = 1e-13, maxiter = 100000, tol = 1e-15, tau2.max = 1e8)

datasets <- list()
add_set <- function(name, dat) {
  keep <- is.finite(dat$yi) & is.finite(dat$vi)
  datasets[[name]] <<- list(yi = as.numeric(dat$yi[keep]), vi = as.numeric(dat$vi[keep]))
}

add_set("bcg_RR", escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg))
add_set("bcg_OR", escalc("OR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg))
add_set("bcg_RD", escalc("RD", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg))
add_set("normand1999_MD", escalc("MD", m1i = m1i, sd1i = sd1i, n1i = n1i,
                                 m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999))
add_set("normand1999_SMD", escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i,
                                  m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999))
add_set("normand1999_ROM", escalc("ROM", m1i = m1i, sd1i = sd1i, n1i = n1i,
                                  m2i = m2i, sd2i = sd2i, n2i = n2i, data = dat.normand1999))
add_set("hine1989_RD", escalc("RD", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.hine1989))
add_set("hine1989_OR", escalc("OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.hine1989))
add_set("yusuf1985_PETO", escalc("PETO", ai = ai, n1i = n1i, ci = ci, n2i = n2i,
                                 data = dat.yusuf1985, subset = (table == "6")))
add_set("collins1985a_OR", escalc("OR", ai = b.xti, n1i = nti, ci = b.xci, n2i = nci,
                                  data = dat.collins1985a, drop00 = TRUE))
add_set("raudenbush1985_SMD", dat.raudenbush1985)
add_set("two_studies", data.frame(yi = c(0.2, 0.9), vi = c(0.04, 0.09)))
add_set("homogeneous", data.frame(yi = c(0.1, 0.12, 0.11, 0.1), vi = c(0.01, 0.02, 0.015, 0.03)))

# Random data sets: k from 2 to 30, tau² from 0 to 1, unequal variances.
set.seed(20261122)
for (i in seq_len(40)) {
  k <- sample(2:30, 1)
  vi <- rchisq(k, df = 3) / 20 + 0.005
  tau2 <- sample(c(0, 0.01, 0.1, 1), 1)
  yi <- rnorm(k, 0.3, sqrt(vi + tau2))
  add_set(sprintf("random_%02d", i), data.frame(yi = yi, vi = vi))
}

methods <- c("EE", "DL", "HE", "HS", "SJ", "ML", "REML", "PM", "EB", "PMM")
tests <- c("z", "t", "knha", "adhoc")

num <- function(x) if (is.null(x) || length(x) == 0 || is.na(x)) NA_real_ else as.numeric(x)

cases <- list()
for (name in names(datasets)) {
  d <- datasets[[name]]
  for (method in methods) {
    for (test in tests) {
      fit <- tryCatch(
        suppressWarnings(rma(d$yi, d$vi, method = method, test = test, control = tight)),
        error = function(e) NULL)
      if (is.null(fit)) {
        # Fisher scoring gave up; a smaller step reaches the same root.
        fit <- tryCatch(
          suppressWarnings(rma(d$yi, d$vi, method = method, test = test,
                               control = c(tight, list(stepadj = 0.25)))),
          error = function(e) NULL)
      }
      if (is.null(fit)) next
      res <- list(
        k = fit$k, estimate = num(fit$beta), se = num(fit$se), statistic = num(fit$zval),
        pvalue = num(fit$pval), ci_lower = num(fit$ci.lb), ci_upper = num(fit$ci.ub),
        df = if (test == "z") NA_real_ else num(fit$ddf),
        tau2 = num(fit$tau2), q = num(fit$QE), q_pvalue = num(fit$QEp),
        i2 = num(fit$I2), h2 = num(fit$H2), weights = as.numeric(weights(fit))
      )
      if (method != "EE") {
        for (pi_type in c("riley", "default", "t")) {
          p <- predict(fit, pi.type = pi_type)
          res[[paste0("pi_lower_", pi_type)]] <- num(p$pi.lb)
          res[[paste0("pi_upper_", pi_type)]] <- num(p$pi.ub)
        }
        ci <- confint(fit, control = list(tol = 1e-15, tau2.max = 1e8))$random
        res$tau2_ci_lower <- num(ci["tau^2", "ci.lb"])
        res$tau2_ci_upper <- num(ci["tau^2", "ci.ub"])
        res$i2_ci_lower <- num(ci["I^2(%)", "ci.lb"])
        res$i2_ci_upper <- num(ci["I^2(%)", "ci.ub"])
        res$h2_ci_lower <- num(ci["H^2", "ci.lb"])
        res$h2_ci_upper <- num(ci["H^2", "ci.ub"])
      }
      cases[[length(cases) + 1]] <- list(dataset = name, method = method, test = test,
                                         yi = d$yi, vi = d$vi, result = res)
    }
  }
}

meta <- list(metafor_version = as.character(packageVersion("metafor")),
             r_version = R.version.string, script = "tests/reference/pooling.R")
write_json(list(meta = meta, cases = cases), file.path(outdir, "pooling.json"),
           digits = NA, auto_unbox = TRUE, na = "null", null = "null")
cat("wrote", length(cases), "cases to", file.path(outdir, "pooling.json"), "\n")
