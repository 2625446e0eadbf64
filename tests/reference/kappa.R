# Reference values for Cohen's kappa and weighted kappa (linear and quadratic weights) with
# their standard errors and confidence intervals, from psych::cohen.kappa and vcd::Kappa.
#
# Both use the large-sample variance of Fleiss, Cohen & Everitt (1969) for unweighted kappa.
# For weighted kappa vcd::Kappa implements that variance as published,
#   var = [sum_ij p_ij (w_ij - (wbar_i. + wbar_.j)(1 - kw))^2 - (kw - pe (1 - kw))^2]
#         / (n (1 - pe)^2),  wbar_i. = sum_j p_.j w_ij,  wbar_.j = sum_i p_i. w_ij,
# while psych::cohen.kappa (2.2.9) puts p_j. * sum_k w_jk in place of wbar_.j (its `roww`),
# which agrees only for unweighted kappa; srma follows the published variance, so the tests
# check weighted standard errors against vcd and record psych's for the comparison.
# irr::kappa2 is not packaged for this R (no r-cran-irr in Debian), so it is not used.
#
# Usage: Rscript tests/reference/kappa.R OUTDIR
# Needs Debian's r-cran-psych, r-cran-vcd and r-cran-jsonlite.
suppressPackageStartupMessages({
  library(psych)
  library(vcd)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"
set.seed(20261123)
cases <- list()
weights_of <- function(q, power) 1 - abs(outer(1:q, 1:q, "-"))^power / (q - 1)^power
make <- function(name, r1, r2, levels) {
  tab <- table(factor(r1, levels = levels), factor(r2, levels = levels))
  x <- unclass(tab)
  q <- length(levels)
  un <- cohen.kappa(x, w = diag(q))
  lin <- cohen.kappa(x, w = weights_of(q, 1))
  quad <- cohen.kappa(x, w = weights_of(q, 2))
  v_lin <- Kappa(x, weights = "Equal-Spacing")
  v_quad <- Kappa(x, weights = "Fleiss-Cohen")
  ci_lin <- confint(v_lin)
  ci_quad <- confint(v_quad)
  stopifnot(abs(un$kappa - v_lin$Unweighted[["value"]]) < 1e-12,
            abs(lin$weighted.kappa - v_lin$Weighted[["value"]]) < 1e-12,
            abs(quad$weighted.kappa - v_quad$Weighted[["value"]]) < 1e-12,
            all(abs(c(un$confid[1, ], lin$confid[2, ], quad$confid[2, ])) < 1))
  cases[[length(cases) + 1]] <<- list(
    name = name, levels = levels, rater1 = as.character(r1), rater2 = as.character(r2),
    table = unname(lapply(seq_len(q), function(i) as.integer(x[i, ]))),
    unweighted = list(
      kappa = un$kappa, se_psych = sqrt(un$var.kappa), se_vcd = v_lin$Unweighted[["ASE"]],
      ci_lower = un$confid[1, 1], ci_upper = un$confid[1, 3],
      observed = sum(diag(x)) / sum(x)),
    linear = list(
      kappa = lin$weighted.kappa, se_vcd = v_lin$Weighted[["ASE"]],
      se_psych = sqrt(lin$var.weighted),
      ci_lower = ci_lin["Weighted", "lwr"], ci_upper = ci_lin["Weighted", "upr"]),
    quadratic = list(
      kappa = quad$weighted.kappa, se_vcd = v_quad$Weighted[["ASE"]],
      se_psych = sqrt(quad$var.weighted),
      ci_lower = ci_quad["Weighted", "lwr"], ci_upper = ci_quad["Weighted", "upr"]))
}
# Two assessors judging 60 RoB 2 results (Low, Some concerns, High), mostly agreeing.
rob2 <- c("Low", "Some concerns", "High")
truth <- sample(rob2, 60, replace = TRUE, prob = c(0.5, 0.3, 0.2))
shift <- function(x, levels, p) {
  i <- match(x, levels)
  move <- runif(length(x)) < p
  i[move] <- pmin(pmax(i[move] + sample(c(-1L, 1L), sum(move), replace = TRUE), 1L),
                  length(levels))
  levels[i]
}
make("rob2_60", shift(truth, rob2, 0.15), shift(truth, rob2, 0.2), rob2)
# ROBINS-I's four ordered levels over 80 results; nobody judged "Critical" (an empty level
# still counts in the weights' q - 1).
robins <- c("Low", "Moderate", "Serious", "Critical")
truth <- sample(robins[1:3], 80, replace = TRUE, prob = c(0.3, 0.5, 0.2))
make("robins_i_80_unused_level", shift(truth, robins[1:3], 0.25),
     shift(truth, robins[1:3], 0.3), robins)
# Five levels, 150 items, and a small table of 12.
five <- c("1", "2", "3", "4", "5")
truth <- sample(five, 150, replace = TRUE)
make("five_levels_150", shift(truth, five, 0.4), shift(truth, five, 0.4), five)
three <- c("Low", "Unclear", "High")
truth <- sample(three, 12, replace = TRUE)
make("rob1_12", shift(truth, three, 0.6), shift(truth, three, 0.6), three)
# The "Agreement Study" of the SAS/STAT PROC FREQ documentation (skin condition, 88 patients).
skin <- c("Terrible", "Poor", "Marginal", "Clear")
counts <- matrix(c(10, 4, 1, 0, 5, 10, 12, 2, 2, 4, 12, 5, 0, 2, 6, 13), 4, 4, byrow = TRUE)
cells <- which(counts > 0, arr.ind = TRUE)
r1 <- rep(skin[cells[, 1]], counts[cells])
r2 <- rep(skin[cells[, 2]], counts[cells])
make("sas_skin_condition", r1, r2, skin)
write_json(list(meta = list(psych_version = as.character(packageVersion("psych")),
                            vcd_version = as.character(packageVersion("vcd")),
                            script = "tests/reference/kappa.R"), cases = cases),
           file.path(outdir, "kappa.json"), digits = NA, auto_unbox = TRUE)
cat("wrote", length(cases), "cases\n")
