# Reference for the population fit (src/analysis/nlme): R's nlme on the Theoph data set that ships with R
# (Boeckmann, Sheiner & Beal 1994; 12 subjects x 11 concentrations after an oral dose in mg/kg), with
# the one-compartment first-order absorption model SSfol (lKe, lKa, lCl = log ke, ka, Cl), all three
# fixed effects, random effects on lKa and lCl (pdDiag) and on all three, additive error, method ML
# (Pinheiro & Bates 2000, section 8.2; fm2Theo.nlme). Writes theoph.json: the data, the estimates, their
# standard errors (nlme's approximate covariance of the fixed effects), the variance components, logLik
# and the median time of a fit; and lme4's nlmer (Laplace) on the diagonal model.
#   Rscript tests/reference/nlme/theoph.R
suppressPackageStartupMessages(library(nlme))
data(Theoph)
d <- as.data.frame(Theoph)
d$Subject <- as.character(d$Subject)
fitOne <- function(random) nlme(conc ~ SSfol(Dose, Time, lKe, lKa, lCl), data = Theoph,
  fixed = lKe + lKa + lCl ~ 1, random = random, start = c(lKe = -2.5, lKa = 0.5, lCl = -3), method = "ML")
summ <- function(fm) {
  fe <- fixef(fm)
  se <- sqrt(diag(vcov(fm)))
  vc <- pdMatrix(fm$modelStruct$reStruct[[1]]) * fm$sigma^2
  list(fixed = as.list(fe), se = as.list(se), omega = vc, omegaNames = colnames(vc), sigma = fm$sigma,
       logLik = as.numeric(logLik(fm)), df = attr(logLik(fm), "df"), AIC = AIC(fm), BIC = BIC(fm),
       ranef = lapply(split(ranef(fm), seq_len(nrow(ranef(fm)))), as.list), ranefIds = rownames(ranef(fm)))
}
fmDiag <- fitOne(pdDiag(lKa + lCl ~ 1))
fmFull <- tryCatch(fitOne(pdDiag(lKe + lKa + lCl ~ 1)), error = function(e) NULL)
fmBlock <- fitOne(pdSymm(lKa + lCl ~ 1))
times <- sapply(1:7, function(i) system.time(fitOne(pdDiag(lKa + lCl ~ 1)))[["elapsed"]])
# lme4::nlmer: the Laplace approximation (nAGQ = 1) of the same model with independent random lKa and lCl;
# its SEs come from RX (lme4 falls back to it when the finite-difference Hessian is not positive definite).
suppressPackageStartupMessages(library(lme4))
nm <- suppressWarnings(nlmer(conc ~ SSfol(Dose, Time, lKe, lKa, lCl) ~ 0 + lKe + lKa + lCl + (0 + lKa | Subject) + (0 + lCl | Subject),
  Theoph, start = c(lKe = -2.5, lKa = 0.5, lCl = -3)))
vcNm <- as.data.frame(VarCorr(nm))
nlmerOut <- list(fixed = as.list(fixef(nm)), se = as.list(suppressWarnings(sqrt(diag(as.matrix(vcov(nm)))))),
  omega = list(lKa = vcNm$vcov[vcNm$var1 == "lKa" & !is.na(vcNm$var1)], lCl = vcNm$vcov[vcNm$var1 == "lCl" & !is.na(vcNm$var1)]),
  sigma = sigma(nm), logLik = as.numeric(logLik(nm)), lme4 = as.character(packageVersion("lme4")))
subjects <- lapply(split(d, d$Subject), function(s) list(id = s$Subject[1], dose = s$Dose[1], wt = s$Wt[1], time = s$Time, conc = s$conc))
out <- list(
  source = "R datasets::Theoph; nlme::nlme(conc ~ SSfol(Dose, Time, lKe, lKa, lCl), method = 'ML')",
  R = R.version.string, nlme = as.character(packageVersion("nlme")),
  subjects = unname(subjects),
  diag2 = summ(fmDiag), nlmer = nlmerOut, diag3 = if (is.null(fmFull)) NULL else summ(fmFull), block2 = summ(fmBlock),
  medianSeconds = median(times)
)
writeLines(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "theoph.json")
