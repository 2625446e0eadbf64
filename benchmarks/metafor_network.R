# rma.mv on the network of benchmarks/bench_network.py: Rscript metafor_network.R ARMS.csv OUT.json
# Arms: study, treatment (integer codes, 0 the reference), events, total.  Contrasts of each
# study's arms against its first arm (log odds ratios, shared-arm covariance, 1/2 added to
# every cell of a study with a zero cell), then rma.mv(yi, V, mods = ~ 0 + X,
# random = ~ comp | study, rho = 1/2), timed with system.time (R's start-up excluded).
suppressPackageStartupMessages({ library(metafor); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
arms <- read.csv(args[1])
arms <- arms[order(arms$study, arms$treatment), ]
zero <- ave(as.numeric(arms$events == 0 | arms$events == arms$total), arms$study, FUN = max)
add <- 0.5 * zero
arms$y <- log((arms$events + add) / (arms$total - arms$events + add))
arms$v <- 1 / (arms$events + add) + 1 / (arms$total - arms$events + add)
first <- !duplicated(arms$study)
base <- arms[first, ][match(arms$study, arms$study[first]), ]
rows <- !first
dat <- data.frame(study = arms$study[rows], t1 = arms$treatment[rows], t2 = base$treatment[rows],
                  yi = arms$y[rows] - base$y[rows])
dat$comp <- paste(dat$t1, dat$t2)
shared <- base$v[rows]
V <- outer(dat$study, dat$study, "==") * matrix(shared, nrow(dat), nrow(dat), byrow = TRUE)
diag(V) <- arms$v[rows] + shared
treatments <- sort(unique(arms$treatment))[-1]
X <- sapply(treatments, function(t) (dat$t1 == t) - (dat$t2 == t))
seconds <- system.time(
  fit <- rma.mv(dat$yi, V, mods = ~ 0 + X, random = ~ comp | study, rho = 1 / 2, data = dat))
writeLines(toJSON(list(seconds = as.numeric(seconds["elapsed"]), tau2 = fit$tau2,
                       beta1 = as.numeric(coef(fit))[1]), digits = NA, auto_unbox = TRUE), args[2])
