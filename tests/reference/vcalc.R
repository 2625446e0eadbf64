# Reference sampling covariance matrices from metafor's vcalc(), on the data sets of its help
# page (dat.assink2016, dat.ishak2007, dat.kalaian1996, dat.berkey1998, dat.knapp2017), and
# escalc's large-sample SMD variances (the diagonal of the shared-control covariance).
#
# Usage: Rscript tests/reference/vcalc.R OUTDIR
suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
outdir <- if (length(args) >= 1) args[1] else "tests/reference/fixtures"

cases <- list()
add_case <- function(name, data, V, call, rho = NULL, phi = NULL) {
  keep <- intersect(names(data), c("vi", "cluster", "obs", "type", "time1", "time2", "grp1",
                                   "grp2", "w1", "w2", "subgroup"))
  columns <- lapply(data[keep], function(x) if (is.numeric(x)) as.numeric(x) else as.character(x))
  cases[[length(cases) + 1]] <<- list(name = name, call = call, data = columns, rho = rho,
                                      phi = phi, V = unname(V))
}
matrix_rho <- function(R) list(levels = rownames(R), matrix = unname(R))

# assink2016: effect sizes within studies correlated 0.6
a <- dat.assink2016
d <- data.frame(vi = a$vi, cluster = a$study, obs = a$esid, type = a$deltype)
add_case("assink_obs", d[c("vi", "cluster", "obs")],
         vcalc(vi, cluster = cluster, obs = obs, data = d, rho = 0.6),
         "vcalc(vi, cluster=study, obs=esid, rho=0.6)", rho = 0.6)
# 0.7 within the same type of delinquent behaviour, 0.5 between types
add_case("assink_type_obs", d,
         vcalc(vi, cluster = cluster, type = type, obs = obs, data = d, rho = c(0.7, 0.5)),
         "vcalc(vi, cluster=study, type=deltype, obs=esid, rho=c(0.7, 0.5))",
         rho = list(obs = 0.7, type = 0.5))
# a type x type matrix of correlations (values chosen to exercise the matrix form)
Rt <- matrix(c(1, 0.3, 0.5, 0.3, 1, 0.4, 0.5, 0.4, 1), 3, 3,
             dimnames = list(c("covert", "general", "overt"), c("covert", "general", "overt")))
add_case("assink_type_matrix", d,
         vcalc(vi, cluster = cluster, type = type, obs = obs, data = d, rho = list(0.6, Rt)),
         "vcalc(vi, cluster=study, type=deltype, obs=esid, rho=list(0.6, R))",
         rho = list(obs = 0.6, type = matrix_rho(Rt)))
# subgroups: rows of different delinquency types are independent
ds <- data.frame(vi = a$vi, cluster = a$study, obs = a$esid, subgroup = a$deltype)
add_case("assink_obs_subgroup", ds,
         vcalc(vi, cluster = cluster, obs = obs, subgroup = subgroup, data = ds, rho = 0.6),
         "vcalc(vi, cluster=study, obs=esid, subgroup=deltype, rho=0.6)", rho = 0.6)

# ishak2007: AR(1) over measurement occasions, phi = 0.97
ish <- reshape(dat.ishak2007, direction = "long", idvar = "study", v.names = c("yi", "vi"),
               varying = list(c(2, 4, 6, 8), c(3, 5, 7, 9)))
ish <- ish[order(ish$study, ish$time), ]
ish <- ish[!is.na(ish$yi), ]
di <- data.frame(vi = ish$vi, cluster = ish$study, time1 = ish$time)
add_case("ishak_time", di, vcalc(vi, cluster = cluster, time1 = time1, phi = 0.97, data = di),
         "vcalc(vi, cluster=study, time1=time, phi=0.97)", phi = 0.97)
# occasions of two outcomes correlated 0.5 (type x time combined, as vcalc combines them)
di2 <- di
di2$type <- ifelse(seq_len(nrow(di)) %% 2 == 0, "a", "b")
add_case("ishak_type_time", di2,
         vcalc(vi, cluster = cluster, type = type, time1 = time1, phi = 0.9, rho = 0.5,
               data = di2),
         "vcalc(vi, cluster=study, type=type, time1=time, phi=0.9, rho=0.5)",
         rho = 0.5, phi = 0.9)

# kalaian1996: verbal and math outcomes correlated 0.66
k <- dat.kalaian1996
dk <- data.frame(vi = k$vi, cluster = k$study, type = k$outcome)
add_case("kalaian_type", dk, vcalc(vi, cluster = cluster, type = type, data = dk, rho = 0.66),
         "vcalc(vi, cluster=study, type=outcome, rho=0.66)", rho = 0.66)

# berkey1998: PD and AL outcomes correlated 0.4
b <- dat.berkey1998
db <- data.frame(vi = b$vi, cluster = b$trial, type = b$outcome)
add_case("berkey_type", db, vcalc(vi, cluster = cluster, type = type, data = db, rho = 0.4),
         "vcalc(vi, cluster=trial, type=outcome, rho=0.4)", rho = 0.4)

# knapp2017: shared groups (grp1, grp2 with sizes w1, w2) and task x difficulty correlations
kn <- dat.knapp2017
kn$task.diff <- unlist(lapply(split(kn, kn$study), function(x) {
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
dn <- data.frame(vi = kn$vi, cluster = kn$study, grp1 = kn$group1, grp2 = kn$group2,
                 w1 = kn$n_sz, w2 = kn$n_hc, obs = kn$task.diff)
add_case("knapp_groups_obs", dn,
         vcalc(vi, cluster = cluster, grp1 = grp1, grp2 = grp2, w1 = w1, w2 = w2, obs = obs,
               rho = R, data = dn),
         "vcalc(vi, cluster=study, grp1=group1, grp2=group2, w1=n_sz, w2=n_hc, obs=task.diff, rho=R)",
         rho = matrix_rho(R))
# shared groups alone: rows that share both groups are then perfectly correlated, so
# several clusters are not positive definite (metafor warns; srma refuses unless told not to)
add_case("knapp_groups", dn[c("vi", "cluster", "grp1", "grp2", "w1", "w2")],
         suppressWarnings(vcalc(vi, cluster = cluster, grp1 = grp1, grp2 = grp2, w1 = w1,
                                w2 = w2, data = dn)),
         "vcalc(vi, cluster=study, grp1=group1, grp2=group2, w1=n_sz, w2=n_hc)")
# shared groups measured at two occasions (time1 of grp1, time2 of grp2), phi = 0.8
dt <- dn[c("vi", "cluster", "grp1", "grp2", "w1", "w2")]
dt$time1 <- as.numeric(ave(seq_len(nrow(dt)), dt$cluster, FUN = seq_along))
dt$time2 <- 1
add_case("knapp_groups_times", dt,
         vcalc(vi, cluster = cluster, grp1 = grp1, grp2 = grp2, w1 = w1, w2 = w2,
               time1 = time1, time2 = time2, phi = 0.8, data = dt),
         "vcalc(vi, cluster=study, grp1, grp2, w1, w2, time1, time2, phi=0.8)", phi = 0.8)

# escalc's large-sample SMD variance 1/n1 + 1/n2 + d²/(2 (n1 + n2))
smd <- escalc("SMD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
              data = dat.normand1999)
smd_variance <- list(yi = as.numeric(smd$yi), vi = as.numeric(smd$vi), n1i = smd$n1i,
                     n2i = smd$n2i)

write_json(list(meta = list(metafor_version = as.character(packageVersion("metafor")),
                            script = "tests/reference/vcalc.R"),
                cases = cases, smd_variance = smd_variance),
           file.path(outdir, "vcalc.json"), digits = NA, auto_unbox = TRUE, na = "null",
           null = "null")
cat("wrote", length(cases), "cases\n")
