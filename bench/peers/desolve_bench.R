#!/usr/bin/env Rscript
# R deSolve peer of `npm run bench`: W1-W4 of bench/workloads.ts with deSolve::lsoda,
# right-hand sides written as R functions ("lsoda") and, when R CMD SHLIB works, as hand-written C through
# deSolve's compiled-code interface ("lsoda (compiled C RHS)", desolve_models.c); finite-difference
# Jacobians (lsoda's default), the workload tolerances. W2 is integrated piecewise (lsoda restarted at every dose with the jumped state).
# Prints one JSON document on stdout; bench/run.ts computes the errors against bench/reference/*.json.
# RHS evaluations: counted calls of the R function (Jacobian columns included).
#
#   Rscript bench/peers/desolve_bench.R [--repeats 3] [--w3-subjects 50] [--workloads w1,w2,w3,w4]
suppressPackageStartupMessages(library(deSolve))

args <- commandArgs(trailingOnly = TRUE)
opt <- list(repeats = 3L, w3subjects = 50L, workloads = "w1,w2,w3,w4")
i <- 1
while (i <= length(args)) {
  if (args[i] == "--repeats") opt$repeats <- as.integer(args[i + 1])
  if (args[i] == "--w3-subjects") opt$w3subjects <- as.integer(args[i + 1])
  if (args[i] == "--workloads") opt$workloads <- args[i + 1]
  i <- i + 2
}
wl <- strsplit(tolower(opt$workloads), ",")[[1]]
script_dir <- local({
  a <- commandArgs(trailingOnly = FALSE)
  f <- sub("^--file=", "", a[grep("^--file=", a)])
  if (length(f)) dirname(normalizePath(f)) else "bench/peers"
})
ref_dir <- file.path(dirname(script_dir), "reference")

# Compiled right-hand sides: copy desolve_models.c to build/ and R CMD SHLIB it there (no files in peers/).
compiled <- local({
  build <- file.path(script_dir, "build")
  dir.create(build, showWarnings = FALSE)
  src <- file.path(build, "desolve_models.c")
  so <- file.path(build, paste0("desolve_models", .Platform$dynlib.ext))
  file.copy(file.path(script_dir, "desolve_models.c"), src, overwrite = TRUE)
  ok <- file.exists(so) && file.mtime(so) >= file.mtime(file.path(script_dir, "desolve_models.c"))
  if (!ok) {
    r <- suppressWarnings(system2(file.path(R.home("bin"), "R"), c("CMD", "SHLIB", "-o", shQuote(so), shQuote(src)),
                                  stdout = FALSE, stderr = FALSE))
    ok <- r == 0 && file.exists(so)
  }
  if (ok) { dyn.load(so); TRUE } else FALSE
})
ccount <- function() .C("get_count", n = integer(1))$n
creset <- function() invisible(.C("reset_count"))

counter <- new.env()
counter$n <- 0

KP <- c(c = 0.02, mu2 = 0.03, p1 = 0.1245, g1 = 2e7, s1 = 0, r2 = 0.18, b = 1e-9, a = 1, g2 = 1e5,
        p2 = 5, g3 = 1e3, mu3 = 10, s2 = 0)
W2P <- c(KP, kex = 0.05, gx = 1e5, krev = 0.1, dX = 0.02, CL = 0.22, V1 = 3.48, Q = 0.795, V2 = 4.06, EC50 = 0.5)

kp_rhs <- function(t, y, p) {
  counter$n <- counter$n + 1
  with(as.list(p), {
    E <- y[1]; T <- y[2]; IL <- y[3]
    list(c(c * T - mu2 * E + p1 * E * IL / (g1 + IL) + s1,
           r2 * T * (1 - b * T) - a * E * T / (g2 + T),
           p2 * E * T / (g3 + T) - mu3 * IL + s2))
  })
}

w2_rhs <- function(t, y, p) {
  counter$n <- counter$n + 1
  with(as.list(p), {
    E <- y[1]; X <- y[2]; T <- y[3]; IL <- y[4]; Ac <- y[5]; Ap <- y[6]
    occ <- (Ac / V1) / (Ac / V1 + EC50)
    exh <- kex * E * T / (gx + T) * (1 - occ)
    rev <- krev * occ * X
    list(c(c * T - mu2 * E + p1 * E * IL / (g1 + IL) + s1 - exh + rev,
           exh - rev - dX * X,
           r2 * T * (1 - b * T) - a * E * T / (g2 + T),
           p2 * E * T / (g3 + T) - mu3 * IL + s2,
           -(CL / V1) * Ac - (Q / V1) * Ac + (Q / V2) * Ap,
           (Q / V1) * Ac - (Q / V2) * Ap))
  })
}

rober_rhs <- function(t, y, p) {
  counter$n <- counter$n + 1
  list(c(-0.04 * y[1] + 1e4 * y[2] * y[3], 0.04 * y[1] - 1e4 * y[2] * y[3] - 3e7 * y[2]^2, 3e7 * y[2]^2))
}

vdp_rhs <- function(t, y, p) {
  counter$n <- counter$n + 1
  list(c(y[2], 1000 * (1 - y[1]^2) * y[2] - y[1]))
}

DAYS <- 0:365
DOSES <- 21 * (0:17)

solve_plain <- function(f, y0, times, p, rtol, atol, cfunc = NULL, cinit = NULL) {
  out <- if (is.null(cfunc)) lsoda(y0, times, f, p, rtol = rtol, atol = atol, maxsteps = 1e5)
         else lsoda(y0, times, func = cfunc, parms = if (is.null(p)) NULL else unname(p), dllname = "desolve_models",
                    initfunc = cinit, rtol = rtol, atol = atol, maxsteps = 1e5)
  if (attr(out, "istate")[1] < 0) stop(paste("lsoda istate", attr(out, "istate")[1]))
  t(out[, -1, drop = FALSE])
}

# Piecewise: restart at every dose time; rows at a dose day are post-dose.
solve_w2 <- function(p, compiled = FALSE) {
  y <- c(1, 0, 1e5, 1, 0, 0)
  out <- matrix(0, 6, length(DAYS))
  bounds <- sort(unique(c(DOSES[DOSES <= 365], 0, 365)))
  for (k in seq_along(bounds)) {
    ta <- bounds[k]
    if (ta %in% DOSES) y[5] <- y[5] + 200
    if (k == length(bounds)) { out[, ta + 1] <- y; break }
    tb <- bounds[k + 1]
    te <- c(DAYS[DAYS >= ta & DAYS < tb], tb)
    s <- if (!compiled) lsoda(y, te, w2_rhs, p, rtol = 1e-6, atol = 1e-6, maxsteps = 1e5)
         else lsoda(y, te, func = "derivs_w2", parms = unname(p), dllname = "desolve_models", initfunc = "initw2",
                    rtol = 1e-6, atol = 1e-6, maxsteps = 1e5)
    if (attr(s, "istate")[1] < 0) stop(paste("lsoda istate", attr(s, "istate")[1]))
    m <- nrow(s)
    out[, te[-length(te)] + 1] <- t(s[-m, -1, drop = FALSE])
    y <- as.numeric(s[m, -1])
  }
  out
}

timed <- function(fn, repeats, compiled = FALSE) {
  fn()
  ms <- numeric(repeats)
  res <- NULL
  nf <- 0
  for (r in seq_len(repeats)) {
    counter$n <- 0
    if (compiled) creset()
    s0 <- Sys.time()
    res <- fn()
    ms[r] <- as.numeric(difftime(Sys.time(), s0, units = "secs")) * 1000
    nf <- if (compiled) ccount() else counter$n
  }
  list(res = res, ms = ms, nfev = nf)
}

num <- function(x) paste0("[", paste(sprintf("%.17g", x), collapse = ","), "]")
str_json <- function(s) paste0('"', gsub('"', "'", s), '"')
states_json <- function(Y, names) paste0("{", paste0(sprintf('"%s":', names), apply(Y, 1, num), collapse = ","), "}")

results <- character(0)
CM <- "lsoda (compiled C RHS)"
add <- function(workload, case, method, fn, names, times, compiled = FALSE) {
  r <- tryCatch(timed(fn, opt$repeats, compiled), error = function(e) e)
  if (inherits(r, "error")) {
    results <<- c(results, sprintf('{"workload":"%s","case":"%s","method":"%s","failed":%s}', workload, case, method, str_json(conditionMessage(r))))
    return(invisible())
  }
  results <<- c(results, sprintf('{"workload":"%s","case":"%s","method":"%s","medianMs":%.6g,"ms":%s,"repeats":%d,"rhsEvaluations":%d,"times":%s,"states":%s}',
    workload, case, method, median(r$ms), num(r$ms), opt$repeats, r$nfev, num(times), states_json(r$res, names)))
  message(sprintf("deSolve %s %s: %.2f ms, %d f", case, method, median(r$ms), r$nfev))
}

if ("w1" %in% wl) {
  times <- 0:1000
  add("W1", "kp98", "lsoda", function() solve_plain(kp_rhs, c(1, 1e5, 1), times, KP, 1e-6, 1e-6), c("E", "T", "IL"), times)
  if (compiled) add("W1", "kp98", CM, function() solve_plain(NULL, c(1, 1e5, 1), times, KP, 1e-6, 1e-6, "derivs_kp", "initkp"),
                    c("E", "T", "IL"), times, TRUE)
}
if ("w2" %in% wl) {
  add("W2", "checkpoint", "lsoda", function() solve_w2(W2P), c("E", "X", "T", "IL", "Ac", "Ap"), DAYS)
  if (compiled) add("W2", "checkpoint", CM, function() solve_w2(W2P, TRUE), c("E", "X", "T", "IL", "Ac", "Ap"), DAYS, TRUE)
}
if ("w3" %in% wl) {
  txt <- paste(readLines(file.path(ref_dir, "w3_etas.json"), warn = FALSE), collapse = "")
  et <- sub('.*"etas": *\\[', "", txt)
  et <- sub("\\]\\s*\\]\\s*\\}\\s*$", "", et)
  vals <- as.numeric(strsplit(gsub("[][[:space:]]", "", et), ",")[[1]])
  etas <- matrix(vals, ncol = 4, byrow = TRUE)
  nm <- c("c", "kex", "EC50", "r2")  # order of "names" in w3_etas.json
  tref <- c(seq(0, 364, 28), 365)
  for (mode in if (compiled) c(FALSE, TRUE) else FALSE) {
    n <- if (mode) opt$w3subjects * 10 else opt$w3subjects
    kept <- character(0)
    counter$n <- 0
    if (mode) creset()
    s0 <- Sys.time()
    failed <- NULL
    for (i in seq_len(n)) {
      p <- W2P
      p[nm] <- W2P[nm] * exp(etas[i, ])
      Y <- tryCatch(solve_w2(p, mode), error = function(e) { failed <<- conditionMessage(e); NULL })
      if (is.null(Y)) break
      if (i <= 100) kept <- c(kept, states_json(Y[, tref + 1, drop = FALSE], c("E", "X", "T", "IL", "Ac", "Ap")))
    }
    ms <- as.numeric(difftime(Sys.time(), s0, units = "secs")) * 1000
    nf <- if (mode) ccount() else counter$n
    results <- c(results, sprintf('{"workload":"W3","case":"population","method":"%s","subjects":%d,"medianMs":%.6g,"ms":[%.6g],"repeats":1,"rhsEvaluations":%d,"times":%s,"subjectStates":[%s]%s}',
      if (mode) CM else "lsoda", n, ms, ms, nf, num(tref), paste(kept, collapse = ","), if (is.null(failed)) "" else paste0(',"failed":', str_json(failed))))
    message(sprintf("deSolve W3 %s: %.0f ms for %d subjects", if (mode) CM else "lsoda", ms, n))
  }
}
if ("w4" %in% wl) {
  for (cs in list(list(1e5, "robertson_1e5"), list(4e10, "robertson_4e10"))) {
    tend <- cs[[1]]
    k <- 0:39
    times <- c(0, (0.4 * 10^k)[0.4 * 10^k < tend], tend)
    add("W4", cs[[2]], "lsoda", function() solve_plain(rober_rhs, c(1, 0, 0), times, NULL, 1e-6, 1e-10), c("y1", "y2", "y3"), times)
    if (compiled) add("W4", cs[[2]], CM, function() solve_plain(NULL, c(1, 0, 0), times, NULL, 1e-6, 1e-10, "derivs_rober", NULL),
                      c("y1", "y2", "y3"), times, TRUE)
  }
  times <- seq(0, 3000, 500)
  add("W4", "vanderpol", "lsoda", function() solve_plain(vdp_rhs, c(2, 0), times, NULL, 1e-6, 1e-6), c("y1", "y2"), times)
  if (compiled) add("W4", "vanderpol", CM, function() solve_plain(NULL, c(2, 0), times, NULL, 1e-6, 1e-6, "derivs_vdp", NULL),
                    c("y1", "y2"), times, TRUE)
}

cat(sprintf('{"tool":"deSolve","version":"deSolve %s (%s)","rhs":"R functions","jacobian":"finite differences","results":[%s]}\n',
  as.character(packageVersion("deSolve")), R.version.string, paste(results, collapse = ",")))
