# Reference values for Cohen's kappa and its confidence interval, from psych::cohen.kappa
# (which uses the large-sample variance of Fleiss, Cohen & Everitt 1969).
#
# Usage: Rscript tests/reference/agreement.R OUTDIR
# Needs Debian's r-cran-psych besides r-cran-jsonlite.
suppressPackageStartupMessages({
  library(psych)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"
set.seed(20261122)
cases <- list()
make <- function(name, r1, r2) {
  fit <- cohen.kappa(cbind(r1, r2))
  cases[[length(cases) + 1]] <<- list(
    name = name, rater1 = r1, rater2 = r2, kappa = fit$kappa,
    se = sqrt(fit$var.kappa), ci_lower = fit$confid[1, 1], ci_upper = fit$confid[1, 3],
    observed = sum(diag(fit$agree)))
}
# Screening decisions: 200 records, two reviewers agreeing on most.
truth <- sample(c("include", "exclude"), 200, replace = TRUE, prob = c(0.15, 0.85))
flip <- function(x, p) ifelse(runif(length(x)) < p, ifelse(x == "include", "exclude", "include"), x)
make("screening_200", flip(truth, 0.05), flip(truth, 0.08))
# Three categories (include, exclude, maybe).
three <- sample(c("include", "exclude", "maybe"), 80, replace = TRUE, prob = c(0.3, 0.5, 0.2))
other <- ifelse(runif(80) < 0.25, sample(c("include", "exclude", "maybe"), 80, replace = TRUE),
                three)
make("three_categories_80", three, other)
write_json(list(meta = list(psych_version = as.character(packageVersion("psych")),
                            script = "tests/reference/agreement.R"), cases = cases),
           file.path(outdir, "agreement.json"), digits = NA, auto_unbox = TRUE)
cat("wrote", length(cases), "cases\n")
