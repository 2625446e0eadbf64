# Reference values for srma.stats.multilevel, computed by metafor's rma.mv (and confint.rma.mv).
#
# Usage: Rscript tests/reference/multilevel_engine.R OUTDIR
#
# Each model is fitted with several optimisers (nlminb, bobyqa, optim's BFGS, all with tight
# tolerances); the fit with the largest log-likelihood is kept and the largest relative
# difference of its variance parameters to the runner-up is stored as `refit_spread`
# (how well the optimum is pinned down).
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"
controls <- list(
  list(rel.tol = 1e-12, eval.max = 10000, iter.max = 10000),
  list(optimizer = "bobyqa", rhoend = 1e-14, maxfun = 1e5),
  list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-15, maxit = 10000)
)
num <- function(x) as.numeric(x)
codes <- function(x) as.integer(factor(x)) - 1L

# sigma2 (if any intercept terms), tau2 and rho, gamma2 and phi (inner | outer terms), cut to the
# parameters srma names (metafor keeps a fixed rho = 0 for ID and DIAG).
variance_parameters <- function(f, n = Inf) {
  theta <- c(if (f$withS) f$sigma2, if (f$withG) c(f$tau2, f$rho), if (f$withH) c(f$gamma2, f$phi))
  theta[seq_len(min(n, length(theta)))]
}
free_parameters <- function(f) {
  !c(if (f$withS) f$vc.fix$sigma2, if (f$withG) c(f$vc.fix$tau2, f$vc.fix$rho),
     if (f$withH) c(f$vc.fix$gamma2, f$vc.fix$phi))
}

best_fit <- function(fit_with) {
  fits <- list()
  for (con in controls) {
    f <- try(suppressWarnings(fit_with(con)), silent = TRUE)
    if (!inherits(f, "try-error")) fits[[length(fits) + 1]] <- f
  }
  ll <- sapply(fits, function(f) as.numeric(logLik(f)))
  order_ll <- order(ll, decreasing = TRUE)
  best <- fits[[order_ll[1]]]
  theta <- function(f) variance_parameters(f)[free_parameters(f)]
  spread <- NA_real_
  if (length(fits) > 1) {
    a <- theta(best)
    b <- theta(fits[[order_ll[2]]])
    spread <- max(abs(a - b) / pmax(abs(a), 1e-8))
  }
  list(fit = best, spread = spread)
}

intercept <- function(g) list(kind = "intercept", outer = codes(g))
structured <- function(inner, outer, struct, fixed = structure(list(), names = character(0))) {
  list(kind = "struct", outer = codes(outer), inner = codes(inner),
       n_inner = length(unique(inner)), struct = struct, fixed = fixed)
}

record <- function(name, fit_with, y, V, X, terms, method, theta_names, confint_of = character(0)) {
  cat(name, "\n")
  res <- best_fit(fit_with)
  f <- res$fit
  theta <- variance_parameters(f, length(theta_names))
  fs <- f$fit.stats[, method]
  intervals <- list()
  # confint refits the model at each trial value with the fit's control: nlminb (its default)
  # converges in every refit, and the bounds depend on the profile's maxima only.
  f_ci <- if (length(confint_of)) fit_with(list(eval.max = 10000, iter.max = 10000)) else NULL
  for (parameter in confint_of) {
    # srma's name -> confint's argument: sigma2_2 -> sigma2 = 2, tau2 -> tau2 = 1, rho -> rho = 1
    which <- list(if (grepl("_", parameter)) as.integer(sub("^.*_", "", parameter)) else 1L)
    names(which) <- sub("_.*$", "", parameter)
    ci <- do.call(confint, c(list(f_ci), which, list(control = list(tol = 1e-12))))
    intervals[[parameter]] <- list(lower = ci$random[1, "ci.lb"], upper = ci$random[1, "ci.ub"])
  }
  list(name = name, method = method, y = num(y), V = unname(as.matrix(V)), X = unname(X),
       terms = terms,
       result = list(beta = num(f$beta), se = num(f$se), vcov = unname(f$vb),
                     theta_names = theta_names, theta = num(theta),
                     loglik = fs[1], deviance = fs[2], aic = fs[3], bic = fs[4], aicc = fs[5],
                     qe = f$QE, qe_df = f$k - f$p, qe_pvalue = f$QEp, n_parameters = f$parms,
                     confint = intervals),
       refit_spread = res$spread)
}

cases <- list()
add <- function(case) cases[[length(cases) + 1]] <<- case

# Konstantopoulos (2011): three-level model, schools within districts.
ko <- dat.konstantopoulos2011
ko_terms <- list(intercept(ko$district), intercept(paste(ko$district, ko$school)))
ko_x <- model.matrix(~ 1, ko)
for (method in c("REML", "ML")) {
  add(record(paste0("konstantopoulos_", method),
             function(con) rma.mv(yi, vi, random = ~ 1 | district / school, data = ko,
                                  method = method, control = con),
             ko$yi, diag(ko$vi), ko_x, ko_terms, method, c("sigma2_1", "sigma2_2"),
             confint_of = c("sigma2_1", "sigma2_2")))
}
ko_year <- model.matrix(~ I(year - 1990), ko)
add(record("konstantopoulos_year_REML",
           function(con) rma.mv(yi, vi, mods = ~ I(year - 1990), random = ~ 1 | district / school,
                                data = ko, control = con),
           ko$yi, diag(ko$vi), ko_year, ko_terms, "REML", c("sigma2_1", "sigma2_2")))
# A fixed variance (metafor's sigma2 = c(NA, value)).
ko_fixed <- ko_terms
ko_fixed[[2]]$fixed <- list(sigma2 = 0.02)
add(record("konstantopoulos_fixed_sigma2_2",
           function(con) rma.mv(yi, vi, random = ~ 1 | district / school, data = ko,
                                sigma2 = c(NA, 0.02), control = con),
           ko$yi, diag(ko$vi), ko_x, ko_fixed, "REML", c("sigma2_1", "sigma2_2")))
# Crossed terms, one of which ends at the boundary 0.
add(record("konstantopoulos_crossed_boundary",
           function(con) rma.mv(yi, vi, random = list(~ 1 | district, ~ 1 | year), data = ko,
                                control = con),
           ko$yi, diag(ko$vi), ko_x, list(intercept(ko$district), intercept(ko$year)), "REML",
           c("sigma2_1", "sigma2_2"), confint_of = "sigma2_2"))

# Berkey et al. (1998): bivariate outcomes (PD, AL) within trials, V known within trial.
be <- dat.berkey1998
be_v <- bldiag(lapply(split(be[, c("v1i", "v2i")], be$trial), as.matrix))
be_x <- model.matrix(~ outcome - 1, be)
struct_names <- list(UN = c("tau2_1", "tau2_2", "rho_12"), CS = c("tau2", "rho"),
                     HCS = c("tau2_1", "tau2_2", "rho"), DIAG = c("tau2_1", "tau2_2"),
                     ID = c("tau2"))
for (struct in names(struct_names)) {
  add(record(paste0("berkey_", struct),
             function(con) rma.mv(yi, be_v, mods = ~ outcome - 1, random = ~ outcome | trial,
                                  struct = struct, data = be, control = con),
             be$yi, be_v, be_x, list(structured(be$outcome, be$trial, struct)), "REML",
             struct_names[[struct]]))
}
add(record("berkey_CS_confint",
           function(con) rma.mv(yi, be_v, mods = ~ outcome - 1, random = ~ outcome | trial,
                                struct = "CS", data = be, control = con),
           be$yi, be_v, be_x, list(structured(be$outcome, be$trial, "CS")), "REML",
           struct_names$CS, confint_of = c("tau2", "rho")))
# An intercept term with a DIAG term on the same trials.
add(record("berkey_intercept_DIAG",
           function(con) rma.mv(yi, be_v, mods = ~ outcome - 1,
                                random = list(~ 1 | trial, ~ outcome | trial),
                                struct = "DIAG", data = be, control = con),
           be$yi, be_v, be_x, list(intercept(be$trial), structured(be$outcome, be$trial, "DIAG")),
           "REML", c("sigma2_1", "tau2_1", "tau2_2")))
# Two inner | outer terms (metafor's G and H): CS within trials, ID within periods; gamma2 ends at 0.
be$period <- ifelse(be$year < 1983, "early", "late")
add(record("berkey_CS_and_ID",
           function(con) rma.mv(yi, be_v, mods = ~ outcome - 1,
                                random = list(~ outcome | trial, ~ outcome | period),
                                struct = c("CS", "ID"), data = be, control = con),
           be$yi, be_v, be_x, list(structured(be$outcome, be$trial, "CS"),
                                   structured(be$outcome, be$period, "ID")),
           "REML", c("tau2", "rho", "gamma2")))
add(record("berkey_CS_rho_fixed",
           function(con) rma.mv(yi, be_v, mods = ~ outcome - 1, random = ~ outcome | trial,
                                struct = "CS", rho = 0.5, data = be, control = con),
           be$yi, be_v, be_x, list(structured(be$outcome, be$trial, "CS", list(rho = 0.5))),
           "REML", c("tau2", "rho")))
add(record("berkey_UN_ML",
           function(con) rma.mv(yi, be_v, mods = ~ outcome - 1, random = ~ outcome | trial,
                                struct = "UN", method = "ML", data = be, control = con),
           be$yi, be_v, be_x, list(structured(be$outcome, be$trial, "UN")), "ML",
           struct_names$UN))

# Ishak et al. (2007): repeated measurements over time (metafor's help example).
ish <- reshape(dat.ishak2007, direction = "long", idvar = "study", v.names = c("yi", "vi"),
               varying = list(c(2, 4, 6, 8), c(3, 5, 7, 9)))
ish <- ish[order(ish$study, ish$time), ]
ish <- ish[!is.na(ish$yi), ]
ish_x <- model.matrix(~ factor(time) - 1, ish)
# sampling errors correlated over time with autocorrelation 0.97 (metafor's help example)
ish_v <- vcalc(vi, cluster = study, time1 = time, phi = 0.97, data = ish)
for (struct in c("AR", "HAR")) {
  add(record(paste0("ishak_", struct),
             function(con) rma.mv(yi, ish_v, mods = ~ factor(time) - 1, random = ~ time | study,
                                  struct = struct, data = ish, control = con),
             ish$yi, ish_v, ish_x, list(structured(ish$time, ish$study, struct)), "REML",
             if (struct == "AR") c("tau2", "rho") else c("tau2_1", "tau2_2", "tau2_3", "tau2_4", "rho")))
}

# Continuous-time AR (metafor's CAR): srma's AR term with the levels' positions as times.
ish$years <- c(0.25, 0.5, 1, 2)[ish$time]
car <- structured(ish$time, ish$study, "AR")
car$times <- c(0.25, 0.5, 1, 2)
add(record("ishak_CAR",
           function(con) rma.mv(yi, ish_v, mods = ~ factor(time) - 1, random = ~ years | study,
                                struct = "CAR", data = ish, control = con),
           ish$yi, ish_v, ish_x, list(car), "REML", c("tau2", "rho")))

write_json(list(meta = list(metafor_version = as.character(packageVersion("metafor")),
                            script = "tests/reference/multilevel_engine.R"), cases = cases),
           file.path(outdir, "multilevel_engine.json"), digits = NA, auto_unbox = TRUE, na = "null")
cat("wrote", length(cases), "cases\n")
