# Reference values for srma's pooling with user weights (meta(weights=), method "GENQ").
#
# Usage: Rscript tests/reference/genq.R OUTDIR
# Needs Debian's r-base-core, r-cran-metafor, r-cran-metadat, r-cran-jsonlite.
#
# rma.uni(yi, vi, weights = a, method = m) estimates tau² by m (method "GENQ":
# the generalised Q moments estimator of DerSimonian & Kacker 2007 at weights a)
# and the pooled effect by weighted least squares at the user's weights a, with
# the sandwich variance sum a² (v + tau²) / (sum a)².  For every data set x
# weight scheme x method x test this records the estimate, se, test, CI, tau²,
# se.tau2, Q, I², H², weights(), the prediction intervals of predict(), the
# leave-one-out (leave1out) and cumulative (cumul) refits, the Baujat coordinates
# (baujat, drawn to a null device) and, for dat.normand1999 (GENQ, REML; z), every GOSH fit
# (gosh; slow: a few minutes).  blup() and ranef() refuse a fit with weights ("not
# available for models with non-standard weights").  confint()
# of a GENQ fit (type "GENQ") needs CompQuadForm, which is not installed: not recorded.
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"
dir.create(outdir, showWarnings = FALSE, recursive = TRUE)
pdf(NULL)  # baujat() draws its plot

tight <- list(threshold = 1e-13, maxiter = 100000, tol = 1e-13, tau2.max = 1e8)

bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
bcg$n <- with(dat.bcg, tpos + tneg + cpos + cneg)
normand <- escalc("MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
                  data = dat.normand1999)
normand$n <- with(dat.normand1999, n1i + n2i)

datasets <- list(bcg_RR = bcg, normand1999_MD = normand)
schemes <- list(
  ones = function(d) rep(1, nrow(d)),
  n = function(d) as.numeric(d$n),
  inverse_vi = function(d) 1 / as.numeric(d$vi)
)
methods <- c("GENQ", "DL", "REML", "EE")
tests <- c("z", "knha", "adhoc")

num <- function(x) if (is.null(x) || length(x) == 0 || is.na(x)) NA_real_ else as.numeric(x)
nums <- function(x) as.numeric(x)

cases <- list()
for (name in names(datasets)) {
  d <- datasets[[name]]
  for (scheme in names(schemes)) {
    a <- schemes[[scheme]](d)
    for (method in methods) {
      for (test in tests) {
        fit <- tryCatch(
          suppressWarnings(rma(d$yi, d$vi, weights = a, method = method, test = test,
                               control = tight)),
          # Fisher scoring gave up; a smaller step reaches the same root
          error = function(e) suppressWarnings(rma(d$yi, d$vi, weights = a, method = method,
                                                   test = test,
                                                   control = c(tight, list(stepadj = 0.25)))))
        res <- list(
          k = fit$k, estimate = num(fit$beta), se = num(fit$se), statistic = num(fit$zval),
          pvalue = num(fit$pval), ci_lower = num(fit$ci.lb), ci_upper = num(fit$ci.ub),
          df = if (test == "z") NA_real_ else num(fit$ddf),
          tau2 = num(fit$tau2), tau2_se = num(fit$se.tau2), q = num(fit$QE),
          q_pvalue = num(fit$QEp), i2 = num(fit$I2), h2 = num(fit$H2),
          weights = nums(weights(fit))
        )
        if (method != "EE") {
          for (pi_type in c("riley", "default")) {
            p <- predict(fit, pi.type = pi_type)
            res[[paste0("pi_lower_", pi_type)]] <- num(p$pi.lb)
            res[[paste0("pi_upper_", pi_type)]] <- num(p$pi.ub)
          }
        }
        if (method != "GENQ" && method != "EE") {
          ci <- confint(fit, control = list(tol = 1e-15, tau2.max = 1e8))$random
          res$tau2_ci_lower <- num(ci["tau^2", "ci.lb"])
          res$tau2_ci_upper <- num(ci["tau^2", "ci.ub"])
        }
        l1o <- suppressWarnings(leave1out(fit))
        res$leave1out <- list(estimate = nums(l1o$estimate), se = nums(l1o$se),
                              ci_lower = nums(l1o$ci.lb), ci_upper = nums(l1o$ci.ub),
                              tau2 = nums(l1o$tau2), q = nums(l1o$Q), i2 = nums(l1o$I2))
        bj <- suppressWarnings(baujat(fit))
        res$baujat <- list(x = nums(bj$x), y = nums(bj$y))
        if (name == "normand1999_MD" && test == "z" && method %in% c("GENQ", "REML")) {
          # every subset of the k = 9 studies; code = sum of 2^(i-1) over the studies in it
          g <- suppressWarnings(gosh(fit))
          res$gosh <- list(code = as.numeric(g$incl %*% 2^(seq_len(ncol(g$incl)) - 1)),
                           k = rowSums(g$incl), estimate = nums(g$res$estimate),
                           tau2 = nums(g$res$tau2), q = nums(g$res$QE), i2 = nums(g$res$I2),
                           h2 = nums(g$res$H2))
        }
        cu <- suppressWarnings(cumul(fit))
        res$cumulative <- list(estimate = nums(cu$estimate), se = nums(cu$se),
                               ci_lower = nums(cu$ci.lb), ci_upper = nums(cu$ci.ub),
                               tau2 = nums(cu$tau2))
        cases[[length(cases) + 1]] <- list(
          dataset = name, scheme = scheme, method = method, test = test,
          yi = nums(d$yi), vi = nums(d$vi), weights = a, result = res)
      }
    }
  }
}

meta <- list(metafor_version = as.character(packageVersion("metafor")),
             r_version = R.version.string, script = "tests/reference/genq.R")
write_json(list(meta = meta, cases = cases), file.path(outdir, "genq.json"),
           digits = NA, auto_unbox = TRUE, na = "null", null = "null")
cat("wrote", length(cases), "cases to", file.path(outdir, "genq.json"), "\n")
