# Reference for the population fit (src/analysis/nlme) on a third data set that ships with R: Loblolly
# (Kung 1986; heights in ft of 14 loblolly pine seed sources at 6 ages in years), the asymptotic
# regression model of Pinheiro & Bates (2000, section 8.2.1, fm1Lob: SSasymp, random = Asym ~ 1) written
# with a log-scale asymptote and rate so that the random effect on the asymptote is log-normal, as in
# immunopd's population model, and the (negative) height at age 0, R0, on the linear scale:
#   height = exp(lAsym) + (R0 - exp(lAsym)) * exp(-exp(lrc) * age),  random = lAsym ~ 1,
# additive error, method ML; and lme4's nlmer (Laplace) on the same model. Writes loblolly.json.
#   cd tests/reference/nlme && Rscript loblolly.R
suppressPackageStartupMessages(library(nlme))
d <- as.data.frame(Loblolly)
d$Seed <- as.character(d$Seed)
start <- c(lAsym = log(95), R0 = -8, lrc = -3.2)
fm <- nlme(height ~ exp(lAsym) + (R0 - exp(lAsym)) * exp(-exp(lrc) * age), data = d,
  fixed = lAsym + R0 + lrc ~ 1, random = lAsym ~ 1, groups = ~Seed, start = start, method = "ML")
vc <- pdMatrix(fm$modelStruct$reStruct[[1]]) * fm$sigma^2
nlmeOut <- list(fixed = as.list(fixef(fm)), se = as.list(sqrt(diag(vcov(fm)))), omega = vc[1, 1], sigma = fm$sigma,
  logLik = as.numeric(logLik(fm)), ranef = setNames(as.list(ranef(fm)[, 1]), rownames(ranef(fm))))
asymp <- deriv(~ exp(lAsym) + (R0 - exp(lAsym)) * exp(-exp(lrc) * age), c("lAsym", "R0", "lrc"),
  function(age, lAsym, R0, lrc) {})
suppressPackageStartupMessages(library(lme4))
nm <- suppressWarnings(nlmer(height ~ asymp(age, lAsym, R0, lrc) ~ 0 + lAsym + R0 + lrc + (0 + lAsym | Seed), d, start = start))
vcNm <- as.data.frame(VarCorr(nm))
# nlmer's SEs (from RX, conditional on the variance components) are not used by the tests.
nlmerOut <- list(fixed = as.list(fixef(nm)), se = as.list(suppressWarnings(sqrt(diag(as.matrix(vcov(nm)))))),
  omega = vcNm$vcov[!is.na(vcNm$var1) & vcNm$var1 == "lAsym"], sigma = sigma(nm), logLik = as.numeric(logLik(nm)),
  lme4 = as.character(packageVersion("lme4")))
seeds <- lapply(split(d, d$Seed), function(s) list(id = s$Seed[1], age = s$age, height = s$height))
out <- list(
  source = "R datasets::Loblolly; nlme::nlme(height ~ exp(lAsym) + (R0 - exp(lAsym)) * exp(-exp(lrc) * age), random = lAsym ~ 1, method = 'ML')",
  R = R.version.string, nlmeVersion = as.character(packageVersion("nlme")),
  seeds = unname(seeds), nlme = nlmeOut, nlmer = nlmerOut
)
writeLines(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "loblolly.json")
