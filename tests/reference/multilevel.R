# Reference values for srma's multilevel and multivariate models (srma.meta_mv), computed by
# metafor's rma.mv on the data sets of metadat's help pages.
#
# Usage: Rscript tests/reference/multilevel.R OUTDIR
#
# Each case stores the data (the columns srma reads), the full V where it is not diagonal,
# the model in srma's spelling, and metafor's results: coefficients, variance components,
# fit statistics, QE, QM, multilevel I^2 and profile-likelihood intervals of the variance
# components.  Each model is solved by optim (BFGS, Nelder-Mead) and nlminb (rel.tol 1e-12,
# and 1e-10, as 1e-12 can stop with "false convergence"); the best is polished twice by
# Nelder-Mead (reltol 1e-15), each started where the last stopped, and the two polished fits
# must agree on every variance component to relative 1e-6 (BFGS and nlminb alone stop up to
# 1e-4 short on the flat likelihood of Berkey's five trials).
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"
controls <- list(
  list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-14, maxit = 10000),
  list(rel.tol = 1e-12, eval.max = 10000, iter.max = 10000),
  list(rel.tol = 1e-10, eval.max = 10000, iter.max = 10000),
  list(optimizer = "optim", optmethod = "Nelder-Mead", reltol = 1e-15, maxit = 100000))
num <- function(x) as.numeric(x)

# multilevel I^2 (metafor FAQ "I^2 for multilevel and multivariate models"):
# I2_l = 100 sigma2_l / (sum(sigma2) + (k - p) / tr(P)), P = W - W X (X'WX)^-1 X'W, W = V^-1
multilevel_i2 <- function(fit) {
  W <- solve(fit$V)
  X <- model.matrix(fit)
  P <- W - W %*% X %*% solve(t(X) %*% W %*% X) %*% t(X) %*% W
  typical <- (fit$k - fit$p) / sum(diag(P))
  total <- sum(fit$sigma2)
  list(levels = 100 * fit$sigma2 / (total + typical), total = 100 * total / (total + typical))
}

profile_ci <- function(fit, what, count) {
  lapply(seq_len(count), function(j) {
    args <- list(fit, control = list(tol = 1e-12))
    args[[what]] <- j
    trouble <- FALSE
    ci <- withCallingHandlers(do.call(confint, args)$random, warning = function(w) {
      trouble <<- TRUE
      invokeRestart("muffleWarning")
    })
    # a bound metafor could not find (its profile refits did not converge) is left out
    list(name = what, index = j, estimate = num(ci[1, 1]),
         ci_lower = if (trouble) NULL else num(ci[1, 2]),
         ci_upper = if (trouble) NULL else num(ci[1, 3]))
  })
}

case <- function(name, dat, columns, V, fitter, srma, profile = list(), i2 = FALSE) {
  cat(name, "\n")
  fits <- Filter(Negate(is.null), lapply(controls, function(control)
    tryCatch(fitter(control), error = function(e) NULL)))
  fits <- fits[order(-sapply(fits, logLik))]
  if (length(fits) < 2) stop(name, ": fewer than two optimizers converged")
  # polish the best fit: Nelder-Mead, then BFGS, each started where the last stopped
  started <- function(control, x) {
    for (what in c("sigma2", "tau2", "rho")) {
      if (length(x[[what]]) > 0) control[[paste0(what, ".init")]] <- x[[what]]
    }
    control
  }
  attempt <- function(control, otherwise) tryCatch(fitter(control), error = function(e) otherwise)
  polished <- attempt(started(controls[[4]], fits[[1]]), fits[[1]])
  again <- attempt(started(controls[[4]], polished), polished)
  fit <- if (logLik(again) >= logLik(polished)) again else polished
  components <- function(x) c(x$sigma2, x$tau2, x$rho, x$gamma2, x$phi)
  gap <- max(abs(components(again) - components(polished)) /
               pmax(abs(components(fit)), 1e-2))
  if (gap > 1e-6) stop(name, ": the polished fits differ by (relative) ", gap)
  # the profile refits each point with the fit's control: BFGS, started at the estimate
  profiled <- fit
  profiled$control <- started(controls[[1]], fit)
  cis <- unlist(lapply(names(profile), function(what) profile_ci(profiled, what, profile[[what]])),
                recursive = FALSE)
  result <- list(
    names = rownames(fit$beta), beta = num(fit$beta), se = num(fit$se),
    statistic = num(fit$zval), pvalue = num(fit$pval), ci_lower = num(fit$ci.lb),
    ci_upper = num(fit$ci.ub), ddf = if (fit$test == "t") num(fit$ddf) else NULL,
    sigma2 = num(fit$sigma2), s_nlevels = num(fit$s.nlevels),
    tau2 = num(fit$tau2), rho = num(fit$rho), gamma2 = num(fit$gamma2), phi = num(fit$phi),
    loglik = num(fit$fit.stats["ll", fit$method]),
    deviance = num(fit$fit.stats["dev", fit$method]),
    aic = num(fit$fit.stats["AIC", fit$method]), bic = num(fit$fit.stats["BIC", fit$method]),
    aicc = num(fit$fit.stats["AICc", fit$method]),
    qe = fit$QE, qe_df = fit$k - fit$p, qe_pvalue = fit$QEp, qm = fit$QM,
    qm_df = num(fit$QMdf), qm_pvalue = fit$QMp, k = fit$k, p = fit$p,
    vcov = unname(fit$vb), profile = cis,
    i2 = if (i2) multilevel_i2(fit) else NULL,
    polished_relative_gap = gap)
  c(list(name = name, data = as.list(dat[columns]),
         V = if (is.null(V)) NULL else unname(as.matrix(V))),
    srma, list(result = result))
}

cases <- list()

# --- three levels: schools within districts (Konstantopoulos 2011) -------------------------
dat <- dat.konstantopoulos2011
for (method in c("REML", "ML")) {
  cases[[length(cases) + 1]] <- case(
    paste0("konstantopoulos2011_", method), dat, c("district", "school", "yi", "vi"), NULL,
    function(control) rma.mv(yi, vi, random = ~ 1 | district/school, data = dat,
                             method = method, control = control),
    list(random = list("~ 1 | district/school"), mods = NULL, method = method, test = "z"),
    profile = list(sigma2 = 2), i2 = TRUE)
}
cases[[length(cases) + 1]] <- case(
  "konstantopoulos2011_t_year", dat, c("district", "school", "yi", "vi", "year"), NULL,
  function(control) rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/school, data = dat,
                           test = "t", control = control),
  list(random = list("~ 1 | district/school"), mods = "~ year", method = "REML", test = "t"))

# --- three levels with moderators (Assink & Wibbelink 2016) ---------------------------------
dat <- dat.assink2016
cases[[length(cases) + 1]] <- case(
  "assink2016", dat, c("study", "esid", "yi", "vi"), NULL,
  function(control) rma.mv(yi, vi, random = ~ 1 | study/esid, data = dat, control = control),
  list(random = list("~ 1 | study/esid"), mods = NULL, method = "REML", test = "z"),
  profile = list(sigma2 = 2), i2 = TRUE)
cases[[length(cases) + 1]] <- case(
  "assink2016_deltype", dat, c("study", "esid", "yi", "vi", "deltype"), NULL,
  function(control) rma.mv(yi, vi, mods = ~ deltype, random = ~ 1 | study/esid, data = dat,
                           control = control),
  list(random = list("~ 1 | study/esid"), mods = "~ deltype", method = "REML", test = "z"),
  i2 = TRUE)
cases[[length(cases) + 1]] <- case(
  "assink2016_year_t", dat, c("study", "esid", "yi", "vi", "year"), NULL,
  function(control) rma.mv(yi, vi, mods = ~ year, random = ~ 1 | study/esid, data = dat,
                           test = "t", control = control),
  list(random = list("~ 1 | study/esid"), mods = "~ year", method = "REML", test = "t"))

# --- bivariate, known V, unstructured (Berkey et al. 1998) ----------------------------------
dat <- dat.berkey1998
V <- vcalc(vi = 1, cluster = author, rvars = c(v1i, v2i), data = dat)
for (method in c("REML", "ML")) {
  cases[[length(cases) + 1]] <- case(
    paste0("berkey1998_UN_", method), dat, c("trial", "outcome", "yi", "vi"), V,
    function(control) rma.mv(yi, V, mods = ~ outcome - 1, random = ~ outcome | trial,
                             struct = "UN", data = dat, method = method, control = control),
    list(random = list("~ outcome | trial"), mods = "~ outcome - 1", struct = list("UN"),
         method = method, test = "z"),
    profile = list(tau2 = 2, rho = 1))
}
cases[[length(cases) + 1]] <- case(
  "berkey1998_CS", dat, c("trial", "outcome", "yi", "vi"), V,
  function(control) rma.mv(yi, V, mods = ~ outcome, random = ~ outcome | trial,
                           struct = "CS", data = dat, control = control),
  list(random = list("~ outcome | trial"), mods = "~ outcome", struct = list("CS"),
       method = "REML", test = "z"))

# --- repeated measurements over time: AR(1) and HAR (Ishak et al. 2007) ----------------------
dat <- reshape(dat.ishak2007, direction = "long", idvar = "study", v.names = c("yi", "vi"),
               varying = list(c(2, 4, 6, 8), c(3, 5, 7, 9)))
dat <- dat[order(dat$study, dat$time), ]
dat <- dat[!is.na(dat$yi), ]
rownames(dat) <- NULL
V <- vcalc(vi, cluster = study, time1 = time, phi = 0.97, data = dat)
for (struct in c("AR", "HAR")) {
  cases[[length(cases) + 1]] <- case(
    paste0("ishak2007_", struct), dat, c("study", "time", "yi", "vi"), V,
    function(control) rma.mv(yi, V, mods = ~ factor(time) - 1, random = ~ time | study,
                             struct = struct, data = dat, control = control),
    list(random = list("~ time | study"), mods = "~ factor(time) - 1", struct = list(struct),
         method = "REML", test = "z"),
    profile = if (struct == "AR") list(tau2 = 1, rho = 1) else list())
}

# --- contrast-based network meta-analysis, multi-arm V, rho = 1/2 (Senn et al. 2013) --------
dat <- dat.senn2013[c(1, 4:2, 5:6)]
dat <- to.wide(dat, study = "study", grp = "treatment", ref = "placebo", grpvars = 4:6)
dat <- escalc(measure = "MD", m1i = mi.1, sd1i = sdi.1, n1i = ni.1,
              m2i = mi.2, sd2i = sdi.2, n2i = ni.2, data = dat)
shared_arm <- function(x) {
  v <- matrix(x$sdi.2[1]^2 / x$ni.2[1], nrow = nrow(x), ncol = nrow(x))
  diag(v) <- x$vi
  v
}
V <- bldiag(lapply(split(dat, dat$study), shared_arm))
dat <- contrmat(dat, grp1 = "treatment.1", grp2 = "treatment.2")
treatments <- c("acarbose", "benfluorex", "metformin", "miglitol", "pioglitazone",
                "rosiglitazone", "sitagliptin", "sulfonylurea", "vildagliptin")
# split() orders the blocks by study name: order the rows the same way, so V matches them
stopifnot(identical(order(dat$study), seq_len(nrow(dat))) ||
            all(diff(match(dat$study, sort(unique(dat$study)))) >= 0))
dat$yi <- num(dat$yi)
dat$vi <- num(dat$vi)
senn_mods <- paste("~", paste(treatments, collapse = " + "), "- 1")
cases[[length(cases) + 1]] <- case(
  "senn2013_network", dat, c("study", "comp", "yi", "vi", treatments), V,
  function(control) rma.mv(yi, V, mods = as.formula(senn_mods), random = ~ comp | study,
                           rho = 1/2, data = dat, control = control),
  list(random = list("~ comp | study"), mods = senn_mods, struct = list("CS"), rho = 0.5,
       method = "REML", test = "z"),
  profile = list(tau2 = 1))

# --- several patient groups against one shared control group (Knapp et al. 2017) ------------
# (the dependence of several treatment arms against one shared control in animal studies)
# V as on metadat's help page: shared control groups, and tasks/difficulties of one sample
# correlated 0.4 (difficulties of a task), 0.7 (a difficulty across tasks), 0.28 (otherwise)
dat <- dat.knapp2017
dat$task.diff <- unlist(lapply(split(dat, dat$study), function(x) {
  task.int <- as.integer(factor(x$task))
  diff.int <- as.integer(factor(x$difficulty))
  diff.int[is.na(diff.int)] <- 1
  paste0(task.int, ".", diff.int)
}))
R <- matrix(0.4, nrow = 8, ncol = 8)
R[5:8, 1:4] <- R[1:4, 5:8] <- 0.28
diag(R[1:4, 5:8]) <- 0.7
diag(R[5:8, 1:4]) <- 0.7
diag(R) <- 1
rownames(R) <- colnames(R) <- paste0(rep(1:2, each = 4), ".", 1:4)
V <- vcalc(vi, cluster = study, grp1 = group1, grp2 = group2, w1 = n_sz, w2 = n_hc,
           obs = task.diff, rho = R, data = dat)
cases[[length(cases) + 1]] <- case(
  "knapp2017_shared_control", dat, c("authors", "study", "comp", "yi", "vi"), V,
  function(control) rma.mv(yi, V, random = ~ 1 | study/comp, data = dat, control = control),
  list(random = list("~ 1 | study/comp"), mods = NULL, method = "REML", test = "z"),
  profile = list(sigma2 = 2), i2 = TRUE)

write_json(list(meta = list(metafor_version = as.character(packageVersion("metafor")),
                            script = "tests/reference/multilevel.R"), cases = cases),
           file.path(outdir, "multilevel.json"), digits = NA, auto_unbox = TRUE, na = "null",
           null = "null")
cat("wrote", length(cases), "cases\n")

# --- likelihood-ratio tests (anova.rma with two models) -------------------------------------
dat <- dat.konstantopoulos2011
full <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat, control = controls[[1]])
reduced <- rma.mv(yi, vi, random = ~ 1 | district, data = dat, control = controls[[1]])
lrt_random <- anova(full, reduced)
full_ml <- rma.mv(yi, vi, mods = ~ year, random = ~ 1 | district/school, data = dat,
                  method = "ML", control = controls[[1]])
reduced_ml <- rma.mv(yi, vi, random = ~ 1 | district/school, data = dat, method = "ML",
                     control = controls[[1]])
lrt_fixed <- anova(full_ml, reduced_ml)
lrt <- list(
  list(name = "konstantopoulos2011_district_school_vs_district", method = "REML",
       full = list(random = list("~ 1 | district/school"), mods = NULL),
       reduced = list(random = list("~ 1 | district"), mods = NULL),
       statistic = num(lrt_random$LRT), df = num(lrt_random$parms.f - lrt_random$parms.r),
       pvalue = num(lrt_random$pval)),
  list(name = "konstantopoulos2011_year_ML", method = "ML",
       full = list(random = list("~ 1 | district/school"), mods = "~ year"),
       reduced = list(random = list("~ 1 | district/school"), mods = NULL),
       statistic = num(lrt_fixed$LRT), df = num(lrt_fixed$parms.f - lrt_fixed$parms.r),
       pvalue = num(lrt_fixed$pval)))
write_json(list(meta = list(metafor_version = as.character(packageVersion("metafor")),
                            script = "tests/reference/multilevel.R"),
                data = as.list(dat[c("district", "school", "yi", "vi", "year")]), cases = lrt),
           file.path(outdir, "multilevel_lrt.json"), digits = NA, auto_unbox = TRUE,
           na = "null", null = "null")
cat("wrote", length(lrt), "likelihood-ratio tests\n")
