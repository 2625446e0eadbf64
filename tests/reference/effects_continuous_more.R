# Reference effect sizes from metafor's escalc() for the pre-post, heteroscedastic and
# variability measures, for tests/test_effects_change.py and tests/test_effects_variability.py.
#
# Usage: Rscript tests/reference/effects_continuous_more.R [OUTDIR]
#        (default tests/reference/fixtures)
# Needs metafor (3.8-1 when the fixtures were written), metadat and jsonlite.
#
# Writes effects_continuous_more.json with
#   data:  per data set, the input under its own column names (NA -> null) and
#          `columns`, srma's column roles mapped to those names (effect_sizes(**columns));
#   cases: the data set, the measure and escalc's yi, vi (default vtype, as srma).
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"

dataset <- function(input, columns) list(input = as.list(input), columns = columns)
case <- function(data, measure, res) {
  list(data = data, measure = measure, yi = as.numeric(res$yi), vi = as.numeric(res$vi))
}

## Pre-post data of Morris (2008), Organ Res Methods 11:364-386, as typed in metafor's
## own tests (tests/testthat/test_analysis_example_morris2008.r): a treatment and a
## control group, each measured before and after; ri is the pre-post correlation.
morris_t <- data.frame(
  study = paste("Study", 1:5),
  m_pre = c(30.6, 23.5, 0.5, 53.4, 35.6), m_post = c(38.5, 26.8, 0.7, 75.9, 36.0),
  sd_pre = c(15.0, 3.1, 0.1, 14.5, 4.7), sd_post = c(11.6, 4.1, 0.1, 4.4, 4.6),
  ni = c(20, 50, 9, 10, 14), ri = c(0.47, 0.64, 0.77, 0.89, 0.44))
morris_c <- data.frame(
  study = paste("Study", 1:5),
  m_pre = c(23.1, 24.9, 0.6, 55.7, 34.8), m_post = c(19.7, 25.3, 0.6, 60.7, 33.4),
  sd_pre = c(13.8, 4.1, 0.2, 17.3, 3.1), sd_post = c(14.8, 3.3, 0.2, 17.9, 6.9),
  ni = c(20, 42, 9, 11, 14), ri = c(0.47, 0.64, 0.77, 0.89, 0.44))
# The SD of the change scores, as a paper reporting change scores gives it; escalc is
# handed it as sd1i with sd2i = 0 and ri = 0, so that its sddi is exactly this SD.
change_sd <- function(d) sqrt(d$sd_post^2 + d$sd_pre^2 - 2 * d$ri * d$sd_post * d$sd_pre)
morris_t_change <- data.frame(study = morris_t$study, m_pre = morris_t$m_pre,
                              m_post = morris_t$m_post, sd_change = change_sd(morris_t),
                              ni = morris_t$ni)
prepost_roles <- list(mean1 = "m_post", mean2 = "m_pre", sd1 = "sd_post", sd2 = "sd_pre",
                      n = "ni", r = "ri")
# SMCR standardises by sd1i, which Morris (and metafor's example) take as the pre-test SD
smcr_roles <- list(mean1 = "m_post", mean2 = "m_pre", sd1 = "sd_pre", n = "ni", r = "ri")
change_roles <- list(mean1 = "m_post", mean2 = "m_pre", sd_change = "sd_change", n = "ni")

## Two-group data: dat.normand1999 (length of stay) and dat.curtis1998 (plant mass under
## elevated CO2; the ecology data the response and variability ratios were made for).
normand <- dat.normand1999[, c("study", "source", "n1i", "m1i", "sd1i", "n2i", "m2i", "sd2i")]
curtis <- dat.curtis1998[, c("id", "paper", "n1i", "m1i", "sd1i", "n2i", "m2i", "sd2i")]
two_group_roles <- list(mean1 = "m1i", sd1 = "sd1i", n1 = "n1i", mean2 = "m2i", sd2 = "sd2i",
                        n2 = "n2i")
vr_roles <- list(sd1 = "sd1i", n1 = "n1i", sd2 = "sd2i", n2 = "n2i")

data <- list(
  morris2008_treatment = dataset(morris_t, prepost_roles),
  morris2008_control = dataset(morris_c, prepost_roles),
  morris2008_treatment_smcr = dataset(morris_t, smcr_roles),
  morris2008_control_smcr = dataset(morris_c, smcr_roles),
  morris2008_treatment_change = dataset(morris_t_change, change_roles),
  normand1999 = dataset(normand, two_group_roles),
  normand1999_vr = dataset(normand, vr_roles),
  curtis1998 = dataset(curtis, two_group_roles),
  curtis1998_vr = dataset(curtis, vr_roles)
)

prepost <- function(measure, d) {
  escalc(measure, m1i = m_post, m2i = m_pre, sd1i = sd_post, sd2i = sd_pre, ni = ni, ri = ri,
         data = d)
}
smcr <- function(d) escalc("SMCR", m1i = m_post, m2i = m_pre, sd1i = sd_pre, ni = ni, ri = ri,
                           data = d)
from_change_sd <- function(measure, d) {
  escalc(measure, m1i = m_post, m2i = m_pre, sd1i = sd_change, sd2i = rep(0, nrow(d)),
         ri = rep(0, nrow(d)), ni = ni, data = d)
}
two_group <- function(measure, d) {
  escalc(measure, m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i, data = d)
}

cases <- list()
add_case <- function(name, measure, res) cases[[length(cases) + 1]] <<- case(name, measure, res)
for (group in c("treatment", "control")) {
  d <- if (group == "treatment") morris_t else morris_c
  for (m in c("MC", "SMCC", "ROMC")) add_case(paste0("morris2008_", group), m, prepost(m, d))
  add_case(paste0("morris2008_", group, "_smcr"), "SMCR", smcr(d))
}
for (m in c("MC", "SMCC")) {
  add_case("morris2008_treatment_change", m, from_change_sd(m, morris_t_change))
}
for (name in c("normand1999", "curtis1998")) {
  d <- if (name == "normand1999") normand else curtis
  for (m in c("SMDH", "CVR")) add_case(name, m, two_group(m, d))
  add_case(paste0(name, "_vr"), "VR", two_group("VR", d))
}

meta <- list(metafor_version = as.character(packageVersion("metafor")),
             metadat_version = as.character(packageVersion("metadat")),
             r_version = R.version.string, script = "tests/reference/effects_continuous_more.R")
write_json(list(meta = meta, data = data, cases = cases),
           file.path(outdir, "effects_continuous_more.json"),
           digits = NA, auto_unbox = TRUE, na = "null", null = "null")
cat("wrote", length(cases), "cases to effects_continuous_more.json\n")
