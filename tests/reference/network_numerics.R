# Reference values for srma's network meta-analysis numerics (srma.stats.network: ranking,
# inconsistency, contributions), computed from metafor's rma.mv fits of the contrast-based
# consistency model and the published formulas written out below.
#
# Usage: Rscript tests/reference/network_numerics.R OUTDIR
#
# Data: metadat's dat.senn2013 (glucose-lowering drugs, mean HbA1c change per arm; one
# three-arm study), dat.hasselblad1998 (smoking cessation, events per arm; two three-arm
# studies) and dat.dogliotti2014 (stroke in atrial fibrillation, events per arm; multi-arm
# studies), as log odds per arm with 0.5 added to every cell of a study with a zero cell;
# and netmeta's Stowe2010 (Parkinson's disease, mean off-time per arm; one three-arm study),
# written out below, whose published netmeta results (Balduzzi et al. 2023) the tests also
# compare with; and metadat's dat.lopez2019 (psychotherapies for depression, standardized
# mean changes per arm), its studies' two arms of one treatment pooled by inverse variance.
# Each study gives a - 1 contrasts against its first arm in the treatment order (the reference first,
# then alphabetical), with the shared-arm covariance (Salanti et al. 2008, Stat Methods Med
# Res 17:279): var(y_tb) = v_t + v_b, cov(y_tb, y_ub) = v_b.
#
# Models: rma.mv(y, V, mods = incidence without the reference column, intercept = FALSE),
# method "EE", and "REML" with random = ~ comparison | study, rho = 1/2 (Higgins & Whitehead
# 1996).  Not in metafor, written out here from their papers:
# * P-scores (Rücker & Schwarzer 2015, BMC Med Res Methodol 15:58, eq. 4);
# * the Q decomposition (Krahn, Binder & König 2013, BMC Med Res Methodol 13:35): Q of the
#   consistency model, Q of each design fitted alone by rma.mv (saturated within the design),
#   Q between designs = Q total - sum of within-design Q; the same with V + tau2 * structure;
# * the design-by-treatment interaction model (Higgins et al. 2012, Res Synth Methods 3:98):
#   rma.mv with mods = the consistency columns plus each design's own incidence columns
#   (metafor drops the redundant ones), QM of the design columns, under EE and with tau2
#   fixed at the REML estimate, and at the interaction model's own DerSimonian-Laird tau²
#   (netmeta's tau.within: (Q_within - df) / tr(P S) with the interaction model's columns);
# * node-splitting by back-calculation (König, Krahn & Binder 2013, Stat Med 32:5414; netmeta's
#   netsplit): direct = rma.uni (EE) of the studies with the comparison, a multi-arm study's
#   contrast with the reduced weight -L_ij of its Laplacian L = B' V^-1 B (Rücker & Schwarzer
#   2014, Biom J 56:1), indirect = (network - w direct) / (1 - w), w = var_network / var_direct;
# * the aggregate hat matrix H = C (X'WX)^-1 X'W of the network estimates of all pairs in terms
#   of the direct estimates (Rücker 2012, Res Synth Methods 3:312; Papakonstantinou et al.
#   2018, F1000Research 7:610) and the net heat matrix (Krahn et al. 2013).
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"
num <- function(x) as.numeric(x)
tight <- list(optimizer = "optim", optmethod = "BFGS", reltol = 1e-14, maxit = 10000)

# --- contrasts against each study's first arm ------------------------------------------------
contrasts_of <- function(study, treatment, yi, vi, treatments) {
  code <- match(treatment, treatments) - 1L
  rows <- list()
  blocks <- list()
  studies <- unique(study)
  for (s in seq_along(studies)) {
    here <- which(study == studies[s])
    here <- here[order(code[here])]
    base <- here[1]
    others <- here[-1]
    rows[[s]] <- data.frame(study = s - 1L, treat1 = code[others], treat2 = code[base],
                            y = yi[others] - yi[base])
    block <- matrix(vi[base], length(others), length(others))
    diag(block) <- vi[others] + vi[base]
    blocks[[s]] <- block
  }
  list(studies = as.character(studies), rows = do.call(rbind, rows), V = bldiag(blocks))
}

incidence <- function(rows, n) {
  B <- matrix(0, nrow(rows), n)
  B[cbind(seq_len(nrow(rows)), rows$treat1 + 1)] <- 1
  B[cbind(seq_len(nrow(rows)), rows$treat2 + 1)] <- -1
  B
}

structure_of <- function(rows) {
  S <- outer(rows$study, rows$study, "==") * 0.5
  diag(S) <- 1
  S
}

# P-scores: P_i = mean_{j != i} Phi((d_j - d_i) / se_ij) when small values are good
pscores <- function(d, C, small_good) {
  n <- length(d)
  sapply(seq_len(n), function(i) {
    j <- setdiff(seq_len(n), i)
    se <- sqrt(C[i, i] + diag(C)[j] - 2 * C[i, j])
    z <- (d[j] - d[i]) / se
    mean(pnorm(if (small_good) z else -z))
  })
}

full_estimates <- function(fit) {
  list(d = c(0, num(fit$beta)), C = rbind(0, cbind(0, unname(fit$vb))))
}

network_case <- function(name, contr, treatments, small_good) {
  cat(name, "\n")
  rows <- contr$rows
  n <- length(treatments)
  B <- incidence(rows, n)
  X <- B[, -1, drop = FALSE]
  V <- contr$V
  S <- structure_of(rows)
  rows$comp <- paste(rows$treat1, rows$treat2, sep = "-")
  ee <- rma.mv(rows$y, V, mods = X, intercept = FALSE, method = "EE")
  reml <- rma.mv(rows$y, V, mods = X, intercept = FALSE, random = ~ comp | study, rho = 1 / 2,
                 data = rows, control = tight)
  again <- rma.mv(rows$y, V, mods = X, intercept = FALSE, random = ~ comp | study, rho = 1 / 2,
                  data = rows, control = list(optimizer = "optim", optmethod = "Nelder-Mead",
                                              reltol = 1e-15, maxit = 100000,
                                              tau2.init = 2 * reml$tau2 + 0.1))
  # the tests take tau2 from here and compute everything at it, so the fits need only agree
  # on it closely (the flat REML surface stops optimizers some 1e-7 apart)
  if (abs(again$tau2 - reml$tau2) > 1e-6 * max(reml$tau2, 1e-3))
    stop(name, ": REML not tight: ", reml$tau2, " vs ", again$tau2)
  tau2 <- reml$tau2

  # study arms and designs, as srma orders them (by first appearance among the studies)
  arms <- lapply(split(c(rows$treat1, rows$treat2), c(rows$study, rows$study)),
                 function(x) sort(unique(x)))
  design_names <- sapply(arms, paste, collapse = ":")
  designs <- unique(design_names)
  design_of_row <- match(design_names[as.character(rows$study)], designs)

  q_parts <- function(Vt) {
    total <- rma.mv(rows$y, Vt, mods = X, intercept = FALSE, method = "EE")
    within <- sapply(seq_along(designs), function(d) {
      keep <- which(design_of_row == d)
      treats <- arms[[which(design_names == designs[d])[1]]]
      Xd <- B[keep, treats[-1] + 1, drop = FALSE]
      if (length(keep) == ncol(Xd)) return(c(0, 0))
      fit <- rma.mv(rows$y[keep], Vt[keep, keep, drop = FALSE], mods = Xd, intercept = FALSE,
                    method = "EE")
      c(fit$QE, fit$k - fit$p)
    })
    list(q = total$QE, q_df = total$k - total$p, q_within_design = num(within[1, ]),
         q_within_design_df = num(within[2, ]), q_within = sum(within[1, ]),
         q_within_df = sum(within[2, ]), q_between = total$QE - sum(within[1, ]),
         q_between_df = total$k - total$p - sum(within[2, ]))
  }

  # design-by-treatment interaction: consistency columns, then each design's own columns
  inconsistency_columns <- do.call(cbind, lapply(seq_along(designs), function(d) {
    treats <- arms[[which(design_names == designs[d])[1]]]
    Xd <- B[, treats[-1] + 1, drop = FALSE]
    Xd[design_of_row != d, ] <- 0
    Xd
  }))
  Xdbt <- cbind(X, inconsistency_columns)
  dbt_test <- function(fit) {
    kept <- which(colnames(model.matrix(fit)) %in% paste0("X", (ncol(X) + 1):ncol(Xdbt)))
    test <- anova(fit, btt = kept)
    list(chi2 = num(test$QM), df = num(test$QMdf[1]), pvalue = num(test$QMp))
  }
  colnames(Xdbt) <- paste0("X", seq_len(ncol(Xdbt)))
  dbt_ee <- suppressWarnings(rma.mv(rows$y, V, mods = Xdbt, intercept = FALSE, method = "EE"))
  dbt_re <- suppressWarnings(rma.mv(rows$y, V, mods = Xdbt, intercept = FALSE,
                                    random = ~ comp | study, rho = 1 / 2, tau2 = tau2,
                                    data = rows))
  # the interaction model's own DerSimonian-Laird tau² (netmeta's tau.within in
  # decomp.design; Jackson, White & Riley 2012): (Q_within - df) / tr(P S), P = W - W Xd
  # (Xd' W Xd)^-1 Xd' W at W = V^-1, Xd the interaction model's non-redundant columns
  Xd <- model.matrix(dbt_ee)
  W <- solve(V)
  P <- W - W %*% Xd %*% solve(t(Xd) %*% W %*% Xd) %*% t(Xd) %*% W
  trace_ps <- sum(diag(P %*% S))
  tau2_within <- if (dbt_ee$k - dbt_ee$p <= 0 || trace_ps <= 1e-12 * sum(diag(W %*% S))) 0 else
    max(0, (dbt_ee$QE - (dbt_ee$k - dbt_ee$p)) / trace_ps)
  dbt_within <- suppressWarnings(rma.mv(rows$y, V, mods = Xdbt, intercept = FALSE,
                                        random = ~ comp | study, rho = 1 / 2,
                                        tau2 = tau2_within, data = rows))

  # net heat (Krahn et al. 2013): design d's inconsistency contribution, the part of the
  # consistency model's Q on d's rows minus d's within-design Q, and how it changes when
  # design e is detached (the consistency model refitted by rma.mv without e's rows)
  heat <- function(Vt, within) {
    W <- solve(Vt)
    part_of <- function(fitted) {
      r <- rows$y - fitted
      sapply(seq_along(designs), function(d) {
        keep <- which(design_of_row == d)
        sum(r[keep] * (W %*% r)[keep])
      })
    }
    full <- rma.mv(rows$y, Vt, mods = X, intercept = FALSE, method = "EE")
    inc <- part_of(X %*% full$beta) - within
    detached <- sapply(seq_along(designs), function(e) {
      keep <- which(design_of_row != e)
      used <- which(colSums(abs(X[keep, , drop = FALSE])) > 0)
      fit <- suppressWarnings(rma.mv(rows$y[keep], Vt[keep, keep], intercept = FALSE,
                                     mods = X[keep, used, drop = FALSE], method = "EE"))
      # a treatment only design e compares leaves with it (its column is zero elsewhere);
      # a detachment that cuts the network in two larger parts is not covered here
      if (length(fit$beta) != length(used)) stop(name, ": detaching a design cut the network")
      beta <- numeric(ncol(X))
      beta[used] <- num(fit$beta)
      contribution <- part_of(X %*% beta) - within
      contribution[e] <- 0
      inc - contribution
    })
    list(q_inconsistency = inc, matrix = unname(detached))
  }

  # node-splitting by back-calculation and the aggregate hat matrix
  # each study's comparison i - j (i < j among its arms): the contrast, its own (marginal)
  # variance c' V_s c, and its reduced weight -L_ij, L = B_s' V_s^-1 B_s
  study_pairs <- function(Vt) {
    out <- list()
    for (s in unique(rows$study)) {
      keep <- which(rows$study == s)
      Bs <- B[keep, , drop = FALSE]
      Vs <- Vt[keep, keep, drop = FALSE]
      L <- t(Bs) %*% solve(Vs) %*% Bs
      treats <- arms[[as.character(s)]] + 1
      for (a in seq_along(treats)) for (b in seq_along(treats)) if (a < b) {
        i <- treats[a]; j <- treats[b]
        # rows are theta_treat1 - theta_base (theta_base = 0): theta_i - theta_j = c'y
        cvec <- (rows$treat1[keep] + 1 == i) - (rows$treat1[keep] + 1 == j)
        out[[length(out) + 1]] <- data.frame(
          study = s, t1 = i - 1, t2 = j - 1, y = sum(cvec * rows$y[keep]),
          v = num(t(cvec) %*% Vs %*% cvec), w = -L[i, j])
      }
    }
    do.call(rbind, out)
  }
  pooled <- function(pairs, comps, variance) {
    t(sapply(seq_len(nrow(comps)), function(r) {
      here <- pairs[pairs$t1 == comps$t1[r] & pairs$t2 == comps$t2[r], ]
      fit1 <- rma.uni(here$y, variance(here), method = "EE")
      c(num(fit1$beta), fit1$se^2)
    }))
  }

  # node-splitting by back-calculation (direct: each study's own contrast variance, as
  # netmeta's TE.direct, metagen on seTE.orig) and the aggregate hat matrix (direct: the
  # reduced weights, as netmeta's hatmatrix.aggr)
  split_and_hat <- function(fit, Vt) {
    est <- full_estimates(fit)
    pairs <- study_pairs(Vt)
    comps <- unique(pairs[order(pairs$t1, pairs$t2), c("t1", "t2")])
    net <- sapply(seq_len(nrow(comps)), function(r) {
      i <- comps$t1[r] + 1; j <- comps$t2[r] + 1
      c(est$d[i] - est$d[j], est$C[i, i] + est$C[j, j] - 2 * est$C[i, j])
    })
    direct <- pooled(pairs, comps, function(here) here$v)
    w <- net[2, ] / direct[, 2]
    indirect <- (net[1, ] - w * direct[, 1]) / (1 - w)
    indirect_var <- 1 / (1 / net[2, ] - 1 / direct[, 2])
    indirect[w > 1 - 1e-10] <- NA
    indirect_var[w > 1 - 1e-10] <- NA
    difference <- direct[, 1] - indirect
    z <- difference / sqrt(direct[, 2] + indirect_var)
    # aggregate hat matrix over all pairs i < j
    reduced <- pooled(pairs, comps, function(here) 1 / here$w)
    Bagg <- matrix(0, nrow(comps), n)
    Bagg[cbind(seq_len(nrow(comps)), comps$t1 + 1)] <- 1
    Bagg[cbind(seq_len(nrow(comps)), comps$t2 + 1)] <- -1
    Xagg <- Bagg[, -1, drop = FALSE]
    Wagg <- diag(1 / reduced[, 2], nrow(comps))
    all_pairs <- t(combn(n, 2))
    Call <- matrix(0, nrow(all_pairs), n)
    Call[cbind(seq_len(nrow(all_pairs)), all_pairs[, 1])] <- 1
    Call[cbind(seq_len(nrow(all_pairs)), all_pairs[, 2])] <- -1
    H <- Call[, -1, drop = FALSE] %*% solve(t(Xagg) %*% Wagg %*% Xagg) %*% t(Xagg) %*% Wagg
    list(
      node_split = list(
        comparisons = list(treat1 = comps$t1, treat2 = comps$t2),
        direct = direct[, 1], direct_var = direct[, 2], network = net[1, ],
        network_var = net[2, ], proportion_direct = w, indirect = indirect,
        indirect_var = indirect_var, difference = difference, z = z,
        pvalue = 2 * pnorm(-abs(z))),
      hat = list(
        comparisons = list(treat1 = comps$t1, treat2 = comps$t2),
        direct = reduced[, 1], direct_var = reduced[, 2],
        proportion_direct = net[2, ] / reduced[, 2],
        rows = list(treat1 = all_pairs[, 1] - 1, treat2 = all_pairs[, 2] - 1),
        matrix = unname(H), times_direct = num(H %*% reduced[, 1])))
  }
  ee_est <- full_estimates(ee)
  reml_est <- full_estimates(reml)
  q_common <- q_parts(V)
  q_reml <- q_parts(V + tau2 * S)
  list(
    name = name, treatments = treatments, studies = contr$studies,
    study = rows$study, treat1 = rows$treat1, treat2 = rows$treat2, y = rows$y,
    V = unname(V), small_values_good = small_good,
    designs = designs,
    common = c(list(estimates = ee_est$d, covariance = ee_est$C, qe = ee$QE,
                  pscores = pscores(ee_est$d, ee_est$C, small_good),
                  q = q_common, design_by_treatment = dbt_test(dbt_ee),
                  tau2_within = tau2_within,
                  design_by_treatment_within = dbt_test(dbt_within),
                  net_heat = heat(V, q_common$q_within_design)),
               split_and_hat(ee, V)),
    reml = c(list(tau2 = tau2, estimates = reml_est$d, covariance = reml_est$C,
                pscores = pscores(reml_est$d, reml_est$C, small_good),
                q = q_reml, design_by_treatment = dbt_test(dbt_re),
                net_heat = heat(V + tau2 * S, q_reml$q_within_design)),
             split_and_hat(reml, V + tau2 * S)))
}

cases <- list()

# --- Senn et al. (2013): mean HbA1c change, lower is better ---------------------------------
dat <- escalc(measure = "MN", mi = mi, sdi = sdi, ni = ni, data = dat.senn2013)
treatments <- c("placebo", setdiff(sort(unique(dat$treatment)), "placebo"))
contr <- contrasts_of(dat$study, dat$treatment, num(dat$yi), num(dat$vi), treatments)
cases[[length(cases) + 1]] <- network_case("senn2013", contr, treatments, TRUE)

# --- Hasselblad (1998): smoking cessation, log odds of quitting, higher is better -----------
dat <- dat.hasselblad1998
zero <- ave(dat$xi == 0 | dat$xi == dat$ni, dat$study, FUN = any)
xi <- dat$xi + 0.5 * zero
ni <- dat$ni + 1.0 * zero
treatments <- c("no_contact", "grp_counseling", "ind_counseling", "self_help")
contr <- contrasts_of(dat$study, dat$trt, log(xi / (ni - xi)), 1 / xi + 1 / (ni - xi), treatments)
cases[[length(cases) + 1]] <- network_case("hasselblad1998", contr, treatments, FALSE)

# --- Dogliotti et al. (2014): stroke in atrial fibrillation, log odds per arm, lower is
# better; 0.5 added to every cell of a study with a zero cell ---------------------------------
dat <- dat.dogliotti2014
zero <- ave(dat$stroke == 0 | dat$stroke == dat$total, dat$study, FUN = any)
xi <- dat$stroke + 0.5 * zero
ni <- dat$total + 1.0 * zero
treatments <- c("Placebo/Control", setdiff(sort(unique(dat$treatment)), "Placebo/Control"))
contr <- contrasts_of(dat$study, dat$treatment, log(xi / (ni - xi)), 1 / xi + 1 / (ni - xi),
                      treatments)
cases[[length(cases) + 1]] <- network_case("dogliotti2014", contr, treatments, TRUE)

# --- Stowe et al. (2010): Parkinson's disease, mean off-time reduction (h/day), lower is better;
# arm data as netmeta's Stowe2010 (netmeta 3.6-2, data/Stowe2010.rda), the worked example of
# Balduzzi et al. (2023, J Stat Softw 106(2), section 4) -----------------------------------
stowe2010 <- data.frame(
  study = c(
    "DA(pr/B) Int", "DA(pr/B) Int", "DA(B) Germany", "DA(B) Germany", "DA(C)Spain",
    "DA(C)Spain", "DA(C) UK", "DA(C) UK", "DA(C) USA", "DA(C) USA", "DA(pe) N America",
    "DA(pe) N America", "DA(Pr) Aus/ger", "DA(Pr) Aus/ger", "DA(Pr) CLEOPATRA",
    "DA(Pr) CLEOPATRA", "DA(Pr) Denmark", "DA(Pr) Denmark", "DA(Pr) Europe", "DA(Pr) Europe",
    "DA(Pr) US/CANADA", "DA(Pr) US/CANADA", "DA(Pr) EASE-PD", "DA(Pr) EASE-PD",
    "DA(Pr) France/Eng", "DA(Pr) France/Eng", "DA(Pr) UK/Israel", "DA(Pr) UK/Israel",
    "DA(Pr) USA", "DA(Pr) USA", "COMTI(E) Colemen", "COMTI(E) Colemen", "COMTI(E) ComQol",
    "COMTI(E) ComQol", "COMTI(E) INT-OZ", "COMTI(E) INT-OZ", "LARGO", "LARGO", "LARGO",
    "COMTI(E) Nomecomt", "COMTI(E) Nomecomt", "COMTI(E) Sth Korea", "COMTI(E) Sth Korea",
    "COMTI(E) UK/Irish", "COMTI(E) UK/Irish", "COMTI(T) China", "COMTI(T) China",
    "COMTI(T) Europe", "COMTI(T) Europe", "COMTI(T) TFSG1", "COMTI(T) TFSG1", "COMTI(T) TFSG3",
    "COMTI(T) TFSG3", "COMTI(T) TIPS I", "COMTI(T) TIPS I", "MAOBI(R) PRESTO",
    "MAOBI(R) PRESTO", "MAOBI(ZS) USA", "MAOBI(ZS) USA"),
  treatment = c(
    "Dopamine Agonist", "Placebo", "Dopamine Agonist", "Placebo", "Dopamine Agonist",
    "Placebo", "Dopamine Agonist", "Placebo", "Dopamine Agonist", "Placebo",
    "Dopamine Agonist", "Placebo", "Dopamine Agonist", "Placebo", "Dopamine Agonist",
    "Placebo", "Dopamine Agonist", "Placebo", "Dopamine Agonist", "Placebo",
    "Dopamine Agonist", "Placebo", "Dopamine Agonist", "Placebo", "Dopamine Agonist",
    "Placebo", "Dopamine Agonist", "Placebo", "Dopamine Agonist", "Placebo", "COMTI",
    "Placebo", "COMTI", "Placebo", "COMTI", "Placebo", "COMTI", "Placebo", "MAOBI", "COMTI",
    "Placebo", "COMTI", "Placebo", "COMTI", "Placebo", "COMTI", "Placebo", "COMTI", "Placebo",
    "COMTI", "Placebo", "COMTI", "Placebo", "COMTI", "Placebo", "MAOBI", "Placebo", "MAOBI",
    "Placebo"),
  mean = c(
    -1.9, -0.3, -3.4, 0.3, -3.33, -2.47, -2, -0.7, -2.08, -0.77, -1.8, -0.2, -2.3, 0.4, -2.8,
    -0.9, -1.2, -0.9, -1.94, -0.12, -2.4, -0.7, -2.1, -0.3, -1.74, -2.22, -1.33, -0.75, -1.53,
    -1.22, -1.6, -0.9, -1, -0.9, -0.86, -0.54, -1.2, -0.4, -1.18, -1.3, -0.1, -1.5, -1, -1.1,
    -0.3, -1.9, 0.15, -2.03, -0.67, -1.61, -0.04, -2, -0.3, -1.78, -0.11, -1.85, -0.91, -2.2,
    -0.6),
  sd = c(
    4.3, 4.4, 2.78, 3.66, 3.47, 3.91, 2.33, 2.25, 3.19, 3.34, 4.8, 4.8, 2.7, 3.5, 2.83, 5, 2.9,
    5, 2.59, 3.11, 3.4, 3.7, 4.54, 4.41, 2.36, 3, 2.35, 2.81, 4.28, 3.7, 2.5, 3.4, 1.9, 2, 2.9,
    3.13, 2.21, 2.21, 2.23, 2.2, 2.45, 2.55, 2.29, 2.55, 2.85, 3.3, 3.3, 2.6, 2.8, 1.77, 1.75,
    2.49, 2.55, 2.76, 2.63, 2.5, 2.5, 2.43, 2.49),
  n = c(
    152, 76, 20, 20, 14, 12, 18, 16, 89, 46, 189, 187, 23, 37, 200, 100, 29, 29, 174, 180, 174,
    172, 201, 190, 23, 23, 42, 22, 90, 53, 129, 74, 174, 96, 99, 63, 218, 218, 222, 85, 86, 98,
    99, 115, 57, 20, 20, 60, 58, 40, 42, 69, 72, 31, 37, 149, 159, 94, 46))
treatments <- c("Placebo", "COMTI", "Dopamine Agonist", "MAOBI")
contr <- contrasts_of(stowe2010$study, stowe2010$treatment, stowe2010$mean,
                      stowe2010$sd^2 / stowe2010$n, treatments)
cases[[length(cases) + 1]] <- network_case("stowe2010", contr, treatments, TRUE)

# --- Lopez-Lopez et al. (2019): psychotherapies for depression, standardized mean changes
# per arm (metadat's dat.lopez2019, lower is better); a study's two arms of one treatment
# (variants of one intervention) pooled by inverse variance and a study left with one
# treatment dropped, as tests/reference/network.R does
lopez <- dat.lopez2019
key <- paste(lopez$study, lopez$treatment, sep = "\r")
lopez <- do.call(rbind, lapply(split(lopez, factor(key, levels = unique(key))), function(x) {
  w <- 1 / x$se^2
  data.frame(study = x$study[1], treatment = x$treatment[1], yi = sum(w * x$diff) / sum(w),
             vi = 1 / sum(w), stringsAsFactors = FALSE)
}))
arms_per_study <- table(lopez$study)
lopez <- lopez[lopez$study %in% names(arms_per_study)[arms_per_study >= 2], ]
treatments <- c("TAU", setdiff(sort(unique(lopez$treatment)), "TAU"))
contr <- contrasts_of(lopez$study, lopez$treatment, lopez$yi, lopez$vi, treatments)
cases[[length(cases) + 1]] <- network_case("lopez2019", contr, treatments, TRUE)

dir.create(outdir, showWarnings = FALSE, recursive = TRUE)
write_json(list(metafor = as.character(packageVersion("metafor")), cases = cases),
           file.path(outdir, "network_numerics.json"), digits = NA, auto_unbox = TRUE,
           pretty = FALSE)
