#!/usr/bin/env Rscript
# Independent least-squares fits of tests/reference/fit/cases.json with R: deSolve::ode (lsoda, rtol 1e-12)
# for the logistic tumour-growth-inhibition model written by hand, bolus doses as deSolve events into Cd,
# minpack.lm::nls.lm (Levenberg-Marquardt, MINPACK lmder with finite-difference Jacobian) on log parameters,
# ftol = ptol = 1e-15. Covariance s^2 (J^T J)^-1, s^2 = SSR/(n - p), J the Jacobian nls.lm returns at the
# optimum; natural-scale standard errors by the delta method. Only the least-squares cases (additive with
# sigma profiled out, log-transformed residuals); the maximum-likelihood case is SciPy's.
#
#   Rscript tests/reference/fit/nlslm_fit.R [cases.json] [out.json|""] [repeats]
suppressPackageStartupMessages({ library(deSolve); library(minpack.lm); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
here <- "tests/reference/fit"
cases_file <- if (length(args) >= 1) args[1] else file.path(here, "cases.json")
out_file <- if (length(args) >= 2) args[2] else ""
repeats <- if (length(args) >= 3) as.integer(args[3]) else 1L
cases <- fromJSON(cases_file, simplifyVector = FALSE)$cases

rhs <- function(t, y, p) {
  V <- y[1]; C <- y[2]
  list(c(p[["r"]] * V * (1 - V / p[["K"]]) - p[["kKill"]] * C * V, -p[["kel"]] * C))
}

fit_case <- function(case) {
  fixed <- list(r = 0.1, K = 1e9, V0 = 1e6, kKill = 0, kel = 0.1)
  for (k in names(case$parameters)) fixed[[k]] <- case$parameters[[k]]
  names_est <- setdiff(names(case$estimate), c("sigma", "sigmaProp"))
  rows <- case$data
  t <- sapply(rows, function(r) r$time)
  y <- sapply(rows, function(r) r$value)
  obs <- sapply(rows, function(r) r$observable)
  subj <- sapply(rows, function(r) if (is.null(r$subject)) "default" else r$subject)
  logt <- identical(case$error$transform, "log")
  solves <- 0
  predict <- function(theta) {
    p <- fixed
    for (j in seq_along(names_est)) p[[names_est[j]]] <- exp(theta[j])
    pred <- numeric(length(y))
    for (s in unique(subj)) {
      solves <<- solves + 1
      idx <- which(subj == s)
      times <- sort(unique(c(0, t[idx])))
      ds <- if (!is.null(case$subjects[[s]]$doses)) case$subjects[[s]]$doses else case$doses
      ev <- NULL
      for (d in ds) {
        cnt <- if (is.null(d$count)) 1 else d$count
        every <- if (is.null(d$every)) 0 else d$every
        st <- if (is.null(d$start)) 0 else d$start
        tt <- st + (0:(cnt - 1)) * every
        ev <- rbind(ev, data.frame(var = "C", time = tt, value = d$amount, method = "add"))
      }
      y0 <- c(V = as.numeric(p$V0), C = 0)
      if (!is.null(ev)) ev <- ev[ev$time <= max(times), ]
      out <- ode(y0, times, rhs, p, method = "lsoda", rtol = 1e-12, atol = 1e-12,
                 events = if (!is.null(ev) && nrow(ev) > 0) list(data = ev) else NULL)
      V <- out[match(t[idx], out[, "time"]), "V"]
      pred[idx] <- ifelse(obs[idx] == "tumorVolume_mm3", V * 1e-6, V)
    }
    pred
  }
  yt <- if (logt) log(y) else y
  resid <- function(theta) { f <- predict(theta); (if (logt) log(f) else f) - yt }
  x0 <- log(sapply(names_est, function(k) case$estimate[[k]]$initial))
  t0 <- proc.time()[["elapsed"]]
  fit <- nls.lm(par = x0, fn = resid, control = nls.lm.control(ftol = 1e-15, ptol = 1e-15, maxiter = 500))
  ms <- (proc.time()[["elapsed"]] - t0) * 1000
  n_solves <- solves
  x <- fit$par
  r <- resid(x)
  J <- fit$hessian  # JtJ at the optimum
  ssr <- sum(r^2)
  s2 <- ssr / (length(r) - length(x))
  cov <- s2 * solve(J)
  se_log <- sqrt(diag(cov))
  est <- list()
  for (j in seq_along(names_est)) est[[names_est[j]]] <- list(value = exp(x[[j]]), se = exp(x[[j]]) * se_log[[j]])
  list(estimates = est, ssr = ssr, sigmaResidual = sqrt(s2), odeSolves = n_solves, niter = fit$niter, ms = ms,
       info = fit$info, message = fit$message)
}

res <- list(tool = "R minpack.lm + deSolve", version = R.version.string,
            minpack.lm = as.character(packageVersion("minpack.lm")), deSolve = as.character(packageVersion("deSolve")), cases = list())
for (name in names(cases)) {
  case <- cases[[name]]
  if (!identical(case$error$model, "additive")) next
  runs <- lapply(seq_len(max(1L, repeats)), function(i) fit_case(case))
  r <- runs[[1]]
  all_ms <- sapply(runs, function(q) q$ms)
  r$ms <- median(all_ms)
  r$msAll <- all_ms
  res$cases[[name]] <- r
}
txt <- toJSON(res, auto_unbox = TRUE, digits = NA, pretty = TRUE)
if (nzchar(out_file)) writeLines(txt, out_file)
cat(txt, "\n")
