# Reference effect sizes from metafor's escalc().
#
# Usage: Rscript tests/reference/effects.R OUTDIR
# Each case records the input columns (under srma's canonical names), the
# settings, and escalc's yi and vi.
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"
num <- function(x) as.numeric(x)
cases <- list()
add_case <- function(name, measure, input, res, settings = list()) {
  cases[[length(cases) + 1]] <<- list(name = name, measure = measure, input = input,
                                      settings = settings, yi = num(res$yi), vi = num(res$vi))
}

n <- dat.normand1999
cont <- list(mean1 = n$m1i, sd1 = n$sd1i, n1 = n$n1i, mean2 = n$m2i, sd2 = n$sd2i, n2 = n$n2i)
for (m in c("MD", "SMD", "ROM")) {
  add_case("normand1999", m, cont, escalc(m, m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i,
                                          sd2i = sd2i, n2i = n2i, data = n))
}

binary_sets <- list(
  bcg = with(dat.bcg, list(events1 = tpos, total1 = tpos + tneg, events2 = cpos,
                           total2 = cpos + cneg)),
  hine1989 = with(dat.hine1989, list(events1 = ai, total1 = n1i, events2 = ci, total2 = n2i)),
  yusuf1985 = with(dat.yusuf1985, list(events1 = ai, total1 = n1i, events2 = ci, total2 = n2i)),
  collins1985a = with(dat.collins1985a[!is.na(dat.collins1985a$b.xti), ],
                      list(events1 = b.xti, total1 = nti, events2 = b.xci, total2 = nci)),
  zeros = list(events1 = c(0, 0, 3, 10, 0, 5), total1 = c(20, 15, 30, 10, 12, 40),
               events2 = c(0, 2, 0, 10, 0, 7), total2 = c(20, 16, 28, 10, 11, 38))
)
for (name in names(binary_sets)) {
  d <- binary_sets[[name]]
  for (m in c("RR", "OR", "RD", "PETO")) {
    for (to in c("only0", "all", "if0all", "none")) {
      for (add in c(0.5, 1)) {
        if (to == "none" && add != 0.5) next
        drop00 <- m %in% c("RR", "OR")  # srma's default
        res <- suppressWarnings(escalc(m, ai = d$events1, n1i = d$total1, ci = d$events2,
                                       n2i = d$total2, add = add, to = to, drop00 = drop00))
        add_case(name, m, d, res, list(add = add, to = to, drop00 = drop00))
      }
    }
  }
  for (m in c("RR", "OR")) {
    res <- suppressWarnings(escalc(m, ai = d$events1, n1i = d$total1, ci = d$events2,
                                   n2i = d$total2, drop00 = FALSE))
    add_case(name, m, d, res, list(add = 0.5, to = "only0", drop00 = FALSE))
  }
}

mol <- dat.molloy2014
for (m in c("COR", "ZCOR")) {
  add_case("molloy2014", m, list(r = mol$ri, n = mol$ni), escalc(m, ri = ri, ni = ni, data = mol))
}

write_json(list(meta = list(metafor_version = as.character(packageVersion("metafor")),
                            script = "tests/reference/effects.R"), cases = cases),
           file.path(outdir, "effects.json"), digits = NA, auto_unbox = TRUE, na = "null")
cat("wrote", length(cases), "cases\n")
