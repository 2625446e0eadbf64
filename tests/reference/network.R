# Reference values for srma's network meta-analysis (srma.network_meta), from metafor's rma.mv
# on the networks of metadat's help pages.
#
# Usage: Rscript tests/reference/network.R OUTDIR
#
# Each case stores the arm-level table srma reads (one row per arm), the reference treatment,
# and metafor's results for the contrast-based consistency model
#     rma.mv(yi, V, mods = ~ 0 + X, random = ~ comp | study, rho = 1/2)
# (Salanti et al. 2008; metadat's dat.lopez2019 example), X the incidence matrix of the
# contrasts without the reference column.  The contrasts are built here, independently of
# srma: each study's arms against one of them (its first arm in the treatment order, which
# puts the reference first), with the covariance of two contrasts of one study the variance
# of their shared arm.  Binary arms: log odds with variance 1/(x) + 1/(n - x); a study with a
# zero cell (or an arm with only events) in any arm gets 1/2 added to both cells of every arm;
# a study with no events (or only events) in every arm is left out.
#
# Stored: EE (no random term; its ML log-likelihood), REML and ML (coefficients, vcov, tau2, QE, loglik, each REML/ML
# fit refitted from a second start, required to agree to relative 1e-6, the better kept), DL: netmeta's generalised
# DerSimonian-Laird tau^2 (netmeta 3.x nma.ruecker(), Rücker 2012 / Jackson, White & Riley
# 2012, Stat Med 31:3805, eq. 7 with one tau^2):
#     tau2 = max(0, (Q - df) / tr(P S)),  P = W - W X (X'WX)^-1 X'W,  W = V^-1,
# S the random-effects structure (1 on the diagonal, 1/2 within a study), which equals
# netmeta's tr((I - H)(B B' o E / 2) W) on all pairwise comparisons with reduced weights;
# then rma.mv with tau2 fixed at that value.  Knapp-Hartung for REML: vcov * s2 with
# s2 = r' M^-1 r / (k - p), M = V + tau2 S, t on k - p df.
suppressPackageStartupMessages({
  library(metafor)
  library(metadat)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"
num <- function(x) as.numeric(x)
tight <- list(rel.tol = 1e-13, eval.max = 10000, iter.max = 10000)
bfgs <- list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-14, maxit = 10000)
# nlminb at rel.tol 1e-13 and optim's BFGS at reltol 1e-14, the higher likelihood kept
fit_mv <- function(..., init = NULL) {
  extra <- if (is.null(init)) list() else list(tau2.init = init)
  fits <- lapply(list(tight, bfgs), function(control)
    tryCatch(rma.mv(..., control = c(control, extra)), error = function(e) NULL))
  fits <- Filter(Negate(is.null), fits)
  fits[[which.max(sapply(fits, logLik))]]
}

# one row per arm: study, treatment, and the arm's estimate (arm_y) and variance (arm_v)
arm_estimates <- function(arms, measure) {
  if (measure == "MD") {
    arms$arm_y <- arms$mean
    arms$arm_v <- arms$sd^2 / arms$n
  } else if (measure == "OR") {
    x <- arms$events
    n <- arms$total
    zero <- tapply(x == 0 | x == n, arms$study, any)[arms$study]
    none <- tapply(x == 0, arms$study, all)[arms$study] | tapply(x == n, arms$study, all)[arms$study]
    keep <- !none
    add <- ifelse(zero, 0.5, 0)
    arms$arm_y <- log((x + add) / (n - x + add))
    arms$arm_v <- 1 / (x + add) + 1 / (n - x + add)
    arms <- arms[keep, ]
  } else if (measure == "GEN") {
    arms$arm_y <- arms$yi
    arms$arm_v <- arms$sei^2
  }
  arms
}

contrasts <- function(arms, treatments) {
  rows <- list()
  blocks <- list()
  for (s in unique(arms$study)) {
    a <- arms[arms$study == s, ]
    a <- a[order(match(a$treatment, treatments)), ]
    base <- a[1, ]
    other <- a[-1, ]
    rows[[length(rows) + 1]] <- data.frame(
      study = s, treat1 = other$treatment, treat2 = base$treatment,
      yi = other$arm_y - base$arm_y, stringsAsFactors = FALSE)
    v <- matrix(base$arm_v, nrow(other), nrow(other))
    diag(v) <- other$arm_v + base$arm_v
    blocks[[length(blocks) + 1]] <- v
  }
  dat <- do.call(rbind, rows)
  dat$comp <- paste(dat$treat1, dat$treat2, sep = " vs ")
  list(dat = dat, V = bldiag(blocks))
}

structure_matrix <- function(study) {
  S <- outer(study, study, "==") * 0.5
  diag(S) <- 1
  S
}

fit_case <- function(name, arms, measure, reference, columns) {
  arms <- arm_estimates(arms, measure)
  others <- sort(setdiff(unique(arms$treatment), reference), method = "radix")
  treatments <- c(reference, others)
  built <- contrasts(arms, treatments)
  dat <- built$dat
  V <- built$V
  X <- sapply(others, function(t) (dat$treat1 == t) - (dat$treat2 == t))
  X <- matrix(X, ncol = length(others))
  ee <- rma.mv(dat$yi, V, mods = ~ 0 + X, method = "ML", control = tight)
  models <- list(EE = list(
    beta = num(coef(ee)), vcov = unname(ee$vb), tau2 = 0, qe = ee$QE, qe_df = ee$k - ee$p,
    loglik = num(logLik(ee))))
  for (method in c("REML", "ML")) {
    fit <- fit_mv(dat$yi, V, mods = ~ 0 + X, random = ~ comp | study, rho = 1 / 2,
                  struct = "CS", method = method, data = dat)
    again <- fit_mv(dat$yi, V, mods = ~ 0 + X, random = ~ comp | study, rho = 1 / 2,
                    struct = "CS", method = method, data = dat, init = 10 * fit$tau2 + 0.5)
    if (logLik(again) > logLik(fit)) fit <- again
    if (abs(again$tau2 - fit$tau2) > max(1e-6 * fit$tau2, 1e-8)) stop(sprintf("%s %s: tau2 %.15g vs %.15g from a second start", name, method, fit$tau2, again$tau2))
    models[[method]] <- list(
      beta = num(coef(fit)), vcov = unname(fit$vb), tau2 = fit$tau2, qe = fit$QE,
      qe_df = fit$k - fit$p, loglik = num(logLik(fit)))
    if (method == "REML") {
      M <- V + fit$tau2 * structure_matrix(dat$study)
      r <- dat$yi - X %*% coef(fit)
      s2 <- num(t(r) %*% solve(M, r)) / (fit$k - fit$p)
      models$REML_knha <- list(beta = num(coef(fit)), vcov = unname(fit$vb * s2), s2 = s2,
                               df = fit$k - fit$p)
    }
  }
  W <- solve(V)
  P <- W - W %*% X %*% solve(t(X) %*% W %*% X) %*% t(X) %*% W
  S <- structure_matrix(dat$study)
  tau2_dl <- max(0, (ee$QE - (ee$k - ee$p)) / sum(diag(P %*% S)))
  dl <- rma.mv(dat$yi, V, mods = ~ 0 + X, random = ~ comp | study, rho = 1 / 2,
               struct = "CS", tau2 = tau2_dl, data = dat, control = tight)
  models$DL <- list(beta = num(coef(dl)), vcov = unname(dl$vb), tau2 = tau2_dl, qe = ee$QE,
                    qe_df = ee$k - ee$p)
  data_out <- arms[, c("study", "treatment", columns)]
  list(name = name, measure = measure, reference = reference, treatments = treatments,
       columns = columns, data = data_out, n_contrasts = nrow(dat),
       k = length(unique(dat$study)), models = models)
}

senn <- dat.senn2013
senn <- data.frame(study = senn$study, treatment = senn$treatment, mean = senn$mi,
                   sd = senn$sdi, n = senn$ni, stringsAsFactors = FALSE)

hassel <- dat.hasselblad1998
hassel <- data.frame(study = paste(hassel$authors, hassel$year), treatment = hassel$trt,
                     events = hassel$xi, total = hassel$ni, stringsAsFactors = FALSE)

dogl <- dat.dogliotti2014
dogl <- data.frame(study = dogl$study, treatment = dogl$treatment, events = dogl$stroke,
                   total = dogl$total, stringsAsFactors = FALSE)

# lopez2019 has studies with two arms of one treatment (variants of one intervention); they
# are pooled here by inverse variance (estimate sum(w y)/sum(w), se 1/sqrt(sum(w)),
# w = 1/se^2), and a study left with one treatment is dropped
lopez <- dat.lopez2019
key <- paste(lopez$study, lopez$treatment, sep = "\r")
pooled <- lapply(split(lopez, factor(key, levels = unique(key))), function(x) {
  w <- 1 / x$se^2
  data.frame(study = x$study[1], treatment = x$treatment[1], yi = sum(w * x$diff) / sum(w),
             sei = 1 / sqrt(sum(w)), stringsAsFactors = FALSE)
})
lopez <- do.call(rbind, pooled)
arms_per_study <- table(lopez$study)
lopez <- lopez[lopez$study %in% names(arms_per_study)[arms_per_study >= 2], ]
rownames(lopez) <- NULL

cases <- list(
  fit_case("senn2013", senn, "MD", "placebo", c("mean", "sd", "n")),
  fit_case("hasselblad1998", hassel, "OR", "no_contact", c("events", "total")),
  fit_case("dogliotti2014", dogl, "OR", "Placebo/Control", c("events", "total")),
  fit_case("lopez2019", lopez, "GEN", "TAU", c("yi", "sei"))
)
# the input tables as given (hasselblad/dogliotti with their zero-event studies)
cases[[2]]$data <- hassel
cases[[3]]$data <- dogl
writeLines(toJSON(list(source = "tests/reference/network.R", metafor = as.character(packageVersion("metafor")),
                       cases = cases), digits = NA, auto_unbox = TRUE, matrix = "rowmajor"),
           file.path(outdir, "network.json"))
