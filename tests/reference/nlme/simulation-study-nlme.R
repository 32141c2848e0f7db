# The replicates of the FOCE-I simulation study (simulation-study.ts: 500 replicates of 60 subjects x 6
# samples, IV bolus 100 mg, CL 5, V 50, omega2 0.09 / 0.04 log-normal, 10 % proportional error) fitted by
# an independent tool: R's nlme (ML, Lindstrom-Bates) with the closed-form one-compartment model, random
# log CL and log V (pdDiag), proportional error as varPower(form = ~ fitted(.), fixed = 1) (the variance
# at the individual prediction, as FOCE-I's interaction). Bias of nlme's estimates on the same data
# separates what the data and ML estimation give from what FOCE-I adds. Writes simulation-study-nlme.json.
#   node src/cli/run-ts.mjs tests/reference/nlme/simulation-study.ts --export-csv /tmp/study-data.csv
#   cd tests/reference/nlme && Rscript simulation-study-nlme.R /tmp/study-data.csv
suppressPackageStartupMessages(library(nlme))
args <- commandArgs(TRUE)
all <- read.csv(args[1])
R <- max(all$rep)
res <- t(sapply(1:R, function(r) {
  d <- groupedData(conc ~ time | id, data = all[all$rep == r, ])
  fm <- tryCatch(nlme(conc ~ 100 / exp(lV) * exp(-exp(lCL) / exp(lV) * time), data = d, fixed = lCL + lV ~ 1,
    random = pdDiag(lCL + lV ~ 1), start = c(lCL = log(5), lV = log(50)),
    weights = varPower(form = ~ fitted(.), fixed = 1), method = "ML"), error = function(e) NULL)
  if (is.null(fm)) return(rep(NA, 5))
  vc <- diag(pdMatrix(fm$modelStruct$reStruct[[1]])) * fm$sigma^2
  c(exp(fixef(fm)), vc, fm$sigma)
}))
names <- c("CL", "V", "omega_CL", "omega_V", "sigmaProp")
colnames(res) <- names
truth <- c(CL = 5, V = 50, omega_CL = 0.09, omega_V = 0.04, sigmaProp = 0.1)
ok <- complete.cases(res)
summary <- lapply(setNames(names, names), function(n) {
  v <- res[ok, n]
  list(truth = truth[[n]], mean = mean(v), biasPercent = 100 * (mean(v) - truth[[n]]) / truth[[n]],
       mcSePercent = 100 * sd(v) / sqrt(length(v)) / truth[[n]])
})
out <- list(source = "R nlme::nlme, ML, varPower(form = ~fitted(.), fixed = 1), on simulation-study.ts --export-csv",
  R = R.version.string, nlme = as.character(packageVersion("nlme")), replicates = R, failed = sum(!ok), summary = summary)
writeLines(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "simulation-study-nlme.json")
