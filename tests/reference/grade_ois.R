# Reference values for the optimal information size (GRADE guidelines 6): the sample size
# per group of one trial with two-sided alpha 0.05 and power 0.80, from R's stats package.
#
# Binary: power.prop.test (normal approximation, pooled variance under the null, no
# continuity correction), solved tightly (tol = 1e-13); srma's binary_group_size is its
# closed form.  Continuous: power.t.test (t distribution) for comparison with srma's
# normal approximation 2 (z_0.975 + z_0.8)^2 / delta^2, which asks about one participant
# per group fewer.
#
# Usage: Rscript tests/reference/grade_ois.R OUTDIR   (needs r-cran-jsonlite)
suppressPackageStartupMessages(library(jsonlite))
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"
binary <- list()
for (p1 in c(0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8)) {
  for (rrr in c(0.2, 0.25, 0.3)) {
    p2 <- p1 * (1 - rrr)
    fit <- power.prop.test(p1 = p1, p2 = p2, sig.level = 0.05, power = 0.8, tol = 1e-13)
    binary[[length(binary) + 1]] <- list(p1 = p1, rrr = rrr, n = fit$n)
  }
}
continuous <- list()
for (delta in c(0.1, 0.2, 0.5, 0.8)) {
  fit <- power.t.test(delta = delta, sd = 1, sig.level = 0.05, power = 0.8, tol = 1e-13)
  continuous[[length(continuous) + 1]] <- list(delta = delta, n_t = fit$n)
}
out <- list(
  generated_by = "tests/reference/grade_ois.R",
  r_version = R.version.string,
  binary = binary,
  continuous = continuous
)
write_json(out, file.path(outdir, "grade_ois.json"), auto_unbox = TRUE, digits = NA,
           pretty = TRUE)
