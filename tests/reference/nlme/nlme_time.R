# Times nlme's fit of Theoph (the closed-form SSfol model, ML, pdDiag(lKa + lCl)) for bench/nlme.ts:
# prints {"ms": median wall time of one fit, "repeats": n, "fixed": ..., "logLik": ...} as JSON.
#   Rscript tests/reference/nlme/nlme_time.R [repeats]
suppressPackageStartupMessages(library(nlme))
args <- commandArgs(trailingOnly = TRUE)
n <- if (length(args)) as.integer(args[1]) else 5
fitOne <- function() nlme(conc ~ SSfol(Dose, Time, lKe, lKa, lCl), data = Theoph, fixed = lKe + lKa + lCl ~ 1,
  random = pdDiag(lKa + lCl ~ 1), start = c(lKe = -2.5, lKa = 0.5, lCl = -3), method = "ML")
fm <- fitOne()
ms <- sapply(seq_len(n), function(i) 1000 * system.time(fitOne())[["elapsed"]])
cat(jsonlite::toJSON(list(ms = median(ms), repeats = n, fixed = as.list(fixef(fm)), logLik = as.numeric(logLik(fm))), auto_unbox = TRUE, digits = NA))
