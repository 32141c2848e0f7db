# Reference for the population fit (src/analysis/nlme) on a second data set that ships with R: Orange
# (Draper & Smith 1998; 5 orange trees, trunk circumference in mm at 7 ages in days), the logistic growth
# model of Pinheiro & Bates (2000, section 8.2.1) written with log-scale parameters so that the random
# effect on the asymptote is log-normal, as in immunopd's population model:
#   circumference = exp(lAsym) / (1 + exp(-(age - exp(lxmid)) / exp(lscal))),  random = lAsym ~ 1,
# additive error, method ML. Also lme4's nlmer (the Laplace approximation, i.e. the approximation FOCE-I
# makes) on the same model. Writes orange.json: the data, the estimates, their standard errors, the
# variance components and logLik.
#   cd tests/reference/nlme && Rscript orange.R
suppressPackageStartupMessages(library(nlme))
d <- as.data.frame(Orange)
d$Tree <- as.character(d$Tree)
start <- c(lAsym = log(190), lxmid = log(700), lscal = log(350))
fm <- nlme(circumference ~ exp(lAsym) / (1 + exp(-(age - exp(lxmid)) / exp(lscal))), data = d,
  fixed = lAsym + lxmid + lscal ~ 1, random = lAsym ~ 1, groups = ~Tree, start = start, method = "ML")
vc <- pdMatrix(fm$modelStruct$reStruct[[1]]) * fm$sigma^2
nlmeOut <- list(fixed = as.list(fixef(fm)), se = as.list(sqrt(diag(vcov(fm)))), omega = vc[1, 1], sigma = fm$sigma,
  logLik = as.numeric(logLik(fm)), ranef = setNames(as.list(ranef(fm)[, 1]), rownames(ranef(fm))))
# nlmer needs the model function with its gradient attribute.
logis <- deriv(~ exp(lAsym) / (1 + exp(-(age - exp(lxmid)) / exp(lscal))), c("lAsym", "lxmid", "lscal"),
  function(age, lAsym, lxmid, lscal) {})
suppressPackageStartupMessages(library(lme4))
nm <- suppressWarnings(nlmer(circumference ~ logis(age, lAsym, lxmid, lscal) ~ 0 + lAsym + lxmid + lscal + (0 + lAsym | Tree),
  d, start = start))
vcNm <- as.data.frame(VarCorr(nm))
nlmerOut <- list(fixed = as.list(fixef(nm)), se = as.list(suppressWarnings(sqrt(diag(as.matrix(vcov(nm)))))),
  omega = vcNm$vcov[!is.na(vcNm$var1) & vcNm$var1 == "lAsym"], sigma = sigma(nm), logLik = as.numeric(logLik(nm)),
  lme4 = as.character(packageVersion("lme4")))
trees <- lapply(split(d, d$Tree), function(s) list(id = s$Tree[1], age = s$age, circumference = s$circumference))
out <- list(
  source = "R datasets::Orange; nlme::nlme(circumference ~ exp(lAsym)/(1+exp(-(age-exp(lxmid))/exp(lscal))), random = lAsym ~ 1, method = 'ML')",
  R = R.version.string, nlmeVersion = as.character(packageVersion("nlme")),
  trees = unname(trees), nlme = nlmeOut, nlmer = nlmerOut
)
writeLines(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "orange.json")
