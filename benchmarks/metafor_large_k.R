# Times one metafor call on a large data set: rma(), regtest() or leave1out().
#
# Usage: Rscript benchmarks/metafor_large_k.R INPUT.csv CALL OUTPUT.json
# INPUT has columns yi, vi; CALL is rma, regtest or leave1out. rma(method =
# "REML") with metafor's default control is fitted first (timed only when CALL
# is rma); the time of CALL is proc.time()'s elapsed seconds around it alone.
# OUTPUT is {"call", "k", "seconds", "error"}: seconds null and error the
# message where the fit or the call stops (e.g. "cannot allocate vector of
# size 74.5 Gb" at k = 100,000, where rma() builds k x k matrices).
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
data <- read.csv(args[1])
call <- args[2]
k <- nrow(data)

quoted <- function(text) {
  paste0("\"", gsub("[\r\n]+", " ", gsub("\"", "\\\\\"", gsub("\\\\", "\\\\\\\\", text))), "\"")
}
result <- tryCatch({
  start <- proc.time()[["elapsed"]]
  fit <- rma(data$yi, data$vi, method = "REML")
  if (call == "rma") {
    list(seconds = proc.time()[["elapsed"]] - start, error = NULL)
  } else {
    start <- proc.time()[["elapsed"]]
    if (call == "regtest") regtest(fit) else if (call == "leave1out") leave1out(fit) else
      stop("unknown call ", call)
    list(seconds = proc.time()[["elapsed"]] - start, error = NULL)
  }
}, error = function(e) list(seconds = NULL, error = conditionMessage(e)))

writeLines(sprintf("{\"call\": %s, \"k\": %d, \"seconds\": %s, \"error\": %s}", quoted(call), k,
                   if (is.null(result$seconds)) "null" else sprintf("%.3f", result$seconds),
                   if (is.null(result$error)) "null" else quoted(result$error)),
           args[3])
