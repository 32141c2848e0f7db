# R nlme on the population-fit worked example (docs/examples/pop-trial.csv): closed-form one-compartment
# oral model, random ka, CL, V (diagonal), CL = exp(lCL) (WT/70)^beta, proportional error (varPower of the
# fitted values, power fixed at 1), ML. Prints the estimates as JSON (pop-trial-nlme.json).
#   Rscript tests/reference/nlme/pop_trial.R > tests/reference/nlme/pop-trial-nlme.json
suppressMessages(library(nlme))
args <- commandArgs(trailingOnly = FALSE)
here <- dirname(normalizePath(sub("^--file=", "", args[grep("^--file=", args)])))
d <- read.csv(file.path(here, "..", "..", "..", "docs", "examples", "pop-trial.csv"), na.strings = ".")
obs <- d[d$EVID == 0, c("ID", "TIME", "DV", "WT")]
obs$lwt <- log(obs$WT / 70)
f <- function(lka, lcl, lv, beta, lwt, t) {
  ka <- exp(lka); cl <- exp(lcl + beta * lwt); v <- exp(lv); k <- cl / v
  100 * ka / (v * (ka - k)) * (exp(-k * t) - exp(-ka * t))
}
g <- groupedData(DV ~ TIME | ID, data = obs)
m <- nlme(DV ~ f(lka, lcl, lv, beta, lwt, TIME), data = g,
  fixed = lka + lcl + lv + beta ~ 1, random = pdDiag(lka + lcl + lv ~ 1),
  start = c(lka = log(1.5), lcl = log(3), lv = log(40), beta = 0.5),
  weights = varPower(form = ~ fitted(.), fixed = 1), method = "ML",
  control = nlmeControl(msMaxIter = 500, maxIter = 500, pnlsMaxIter = 50, tolerance = 1e-8))
fe <- fixef(m)
vc <- as.numeric(VarCorr(m)[1:3, "Variance"])
se <- sqrt(diag(vcov(m)))
cat(sprintf('{"method": "nlme ML (Lindstrom-Bates), varPower(fitted, 1)", "ka": %.8g, "CL": %.8g, "V": %.8g, "beta": %.8g, "omega_ka": %.8g, "omega_CL": %.8g, "omega_V": %.8g, "sigmaProp": %.8g, "se": {"lka": %.6g, "lcl": %.6g, "lv": %.6g, "beta": %.6g}, "minus2LogLik": %.8g}\n',
  exp(fe["lka"]), exp(fe["lcl"]), exp(fe["lv"]), fe["beta"], vc[1], vc[2], vc[3], m$sigma, se["lka"], se["lcl"], se["lv"], se["beta"], -2 * as.numeric(logLik(m))))
