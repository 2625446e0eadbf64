# Reference values for srma's small-study-effect tests, trim-and-fill and fail-safe N.
#
# Usage: Rscript tests/reference/bias.R OUTDIR
# metafor: regtest() (model = "lm" and the default "rma"), ranktest(), trimfill(), fsn().
# Peters' and Harbord's tests have no metafor function; they are computed here
# with lm() from the formulas of Peters et al. (2006) and Harbord et al. (2006).
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"
tight <- list(threshold = 1e-13, maxiter = 100000, tol = 1e-15, tau2.max = 1e8)
num <- function(x) if (is.null(x) || length(x) == 0) NA_real_ else as.numeric(x)

bcg <- escalc("RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
norm <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
               data = dat.normand1999)
skewed <- data.frame(yi = c(0.90, 0.75, 0.62, 0.55, 0.48, 0.41, 0.35, 0.30, 0.27, 0.24, 0.22),
                     vi = c(0.20, 0.15, 0.12, 0.09, 0.07, 0.05, 0.04, 0.03, 0.02, 0.015, 0.01))
sets <- list(bcg_RR = bcg[, c("yi", "vi")], normand1999_SMD = norm[, c("yi", "vi")],
             raudenbush1985 = dat.raudenbush1985[, c("yi", "vi")],
             hackshaw1998 = dat.hackshaw1998[, c("yi", "vi")], skewed = skewed)

cases <- list()
for (name in names(sets)) {
  d <- sets[[name]]
  for (method in c("EE", "DL", "REML")) {
    test <- if (method == "EE") "z" else "knha"
    fit <- rma(d$yi, d$vi, method = method, test = test, control = tight)
    lm_fit <- lm(d$yi ~ sqrt(d$vi), weights = 1 / d$vi)
    classic <- regtest(fit, model = "lm")
    mixed <- regtest(fit)
    rank <- ranktest(fit)
    fills <- list()
    for (estimator in c("L0", "R0")) {
      for (side in c("estimated", "left", "right")) {
        tf <- if (side == "estimated") trimfill(fit, estimator = estimator, control = tight)
              else trimfill(fit, estimator = estimator, side = side, control = tight)
        # trimfill() refits the filled data with the z test; srma keeps the model's
        # test, so the reference refits the filled data with it
        refit <- rma(as.numeric(tf$yi), as.numeric(tf$vi), method = method, test = test,
                     control = tight)
        fills[[length(fills) + 1]] <- list(
          estimator = estimator, side_asked = side, side = tf$side, k0 = tf$k0,
          se_k0 = num(tf$se.k0), estimate = num(refit$beta), se = num(refit$se),
          ci_lower = num(refit$ci.lb), ci_upper = num(refit$ci.ub), tau2 = num(refit$tau2),
          trimfill_estimate = num(tf$beta),
          imputed_y = num(tail(tf$yi, tf$k0)), imputed_v = num(tail(tf$vi, tf$k0)))
      }
    }
    cases[[length(cases) + 1]] <- list(
      dataset = name, method = method, test = test, yi = num(d$yi), vi = num(d$vi),
      egger = list(statistic = classic$zval, pvalue = classic$pval, df = classic$dfs,
                   limit_estimate = num(classic$est), limit_ci_lower = num(classic$ci.lb),
                   limit_ci_upper = num(classic$ci.ub),
                   coefficient = num(coef(lm_fit)[2]),
                   coefficient_se = num(summary(lm_fit)$coefficients[2, 2])),
      egger_mixed = list(statistic = mixed$zval, pvalue = mixed$pval,
                         df = if (is.null(mixed$dfs)) NA_real_ else num(mixed$dfs),
                         limit_estimate = num(mixed$est)),
      begg = list(tau = num(rank$tau), pvalue = num(rank$pval)),
      trimfill = fills,
      failsafe = list(
        rosenthal = num(fsn(d$yi, d$vi)$fsnum), rosenthal_p = num(fsn(d$yi, d$vi)$pval),
        orwin = num(fsn(d$yi, d$vi, type = "Orwin")$fsnum),
        orwin_target = num(fsn(d$yi, d$vi, type = "Orwin")$target),
        orwin_weighted = num(fsn(d$yi, d$vi, type = "Orwin", weighted = TRUE)$fsnum),
        orwin_target_01 = num(fsn(d$yi, d$vi, type = "Orwin", target = 0.1)$fsnum),
        rosenberg = num(fsn(d$yi, d$vi, type = "Rosenberg")$fsnum),
        rosenberg_p = num(fsn(d$yi, d$vi, type = "Rosenberg")$pval)))
  }
}

# Peters and Harbord on 2x2 data (log odds ratios).
counts <- list(
  bcg = with(dat.bcg, data.frame(a = tpos, b = tneg, c = cpos, d = cneg)),
  collins1985a = with(dat.collins1985a[!is.na(dat.collins1985a$b.xti), ],
                      data.frame(a = b.xti, b = nti - b.xti, c = b.xci, d = nci - b.xci))
)
binary <- list()
for (name in names(counts)) {
  d <- counts[[name]]
  d <- d[d$a + d$c > 0 & d$b + d$d > 0, ]
  d[] <- lapply(d, as.numeric)  # avoid integer overflow in products of counts
  es <- escalc("OR", ai = a, bi = b, ci = c, di = d, data = d)
  n <- with(d, a + b + c + d)
  peters <- summary(lm(es$yi ~ I(1 / n), weights = with(d, (a + c) * (b + d) / n)))
  z <- with(d, a - (a + b) * (a + c) / n)
  v <- with(d, (a + b) * (c + d) * (a + c) * (b + d) / (n^2 * (n - 1)))
  harbord <- summary(lm(I(z / sqrt(v)) ~ sqrt(v)))
  binary[[length(binary) + 1]] <- list(
    dataset = name, a = d$a, b = d$b, c = d$c, d = d$d, yi = num(es$yi),
    peters = list(coefficient = peters$coefficients[2, 1], statistic = peters$coefficients[2, 3],
                  pvalue = peters$coefficients[2, 4], df = peters$df[2]),
    harbord = list(coefficient = harbord$coefficients[1, 1],
                   statistic = harbord$coefficients[1, 3], pvalue = harbord$coefficients[1, 4],
                   df = harbord$df[2]))
}
write_json(list(meta = list(metafor_version = as.character(packageVersion("metafor")),
                            script = "tests/reference/bias.R"), cases = cases, binary = binary),
           file.path(outdir, "bias.json"), digits = NA, auto_unbox = TRUE, na = "null")
cat("wrote", length(cases), "cases and", length(binary), "binary sets\n")
