/* SUNDIALS CVODE peer of `npm run bench`: W1-W4 of bench/workloads.ts with CVODE BDF,
 * the dense direct linear solver with CVODE's difference-quotient Jacobian, hand-written C right-hand sides,
 * the workload tolerances. W2/W3 are integrated piecewise (CVodeReInit at every dose with the jumped state;
 * CVodeSetStopTime so no step crosses a dose). Output times are filled by CVODE's interpolation (CV_NORMAL).
 * Prints one JSON document on stdout; bench/run.ts computes the errors against the JSON files in bench/reference.
 * RHS evaluations: counted calls of the RHS (difference-quotient Jacobian columns included).
 *
 * Build (bench/run.ts does this; SUNDIALS 6.x from Debian's libsundials-dev):
 *   cc -O2 -o bench/peers/build/cvode_bench bench/peers/cvode_bench.c \
 *      -lsundials_cvode -lsundials_nvecserial -lsundials_sunmatrixdense -lsundials_sunlinsoldense -lm
 * Run: bench/peers/build/cvode_bench [--repeats 5] [--w3-subjects 10000] [--etas bench/reference/w3_etas.json]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>
#include <cvode/cvode.h>
#include <nvector/nvector_serial.h>
#include <sunmatrix/sunmatrix_dense.h>
#include <sunlinsol/sunlinsol_dense.h>
#include <sundials/sundials_config.h>

static long nrhs = 0;
static SUNContext ctx;

typedef struct {
  double c, mu2, p1, g1, s1, r2, b, a, g2, p2, g3, mu3, s2;
  double kex, gx, krev, dX, CL, V1, Q, V2, EC50;
} Params;

static const Params P0 = {0.02, 0.03, 0.1245, 2e7, 0, 0.18, 1e-9, 1, 1e5, 5, 1e3, 10, 0,
                          0.05, 1e5, 0.1, 0.02, 0.22, 3.48, 0.795, 4.06, 0.5};

static int kp_rhs(realtype t, N_Vector yv, N_Vector dv, void *ud) {
  const Params *p = (const Params *)ud;
  const double *y = N_VGetArrayPointer(yv);
  double *d = N_VGetArrayPointer(dv);
  double E = y[0], T = y[1], IL = y[2];
  nrhs++;
  d[0] = p->c * T - p->mu2 * E + p->p1 * E * IL / (p->g1 + IL) + p->s1;
  d[1] = p->r2 * T * (1 - p->b * T) - p->a * E * T / (p->g2 + T);
  d[2] = p->p2 * E * T / (p->g3 + T) - p->mu3 * IL + p->s2;
  return 0;
}

static int w2_rhs(realtype t, N_Vector yv, N_Vector dv, void *ud) {
  const Params *p = (const Params *)ud;
  const double *y = N_VGetArrayPointer(yv);
  double *d = N_VGetArrayPointer(dv);
  double E = y[0], X = y[1], T = y[2], IL = y[3], Ac = y[4], Ap = y[5];
  nrhs++;
  double occ = (Ac / p->V1) / (Ac / p->V1 + p->EC50);
  double exh = p->kex * E * T / (p->gx + T) * (1 - occ);
  double rev = p->krev * occ * X;
  d[0] = p->c * T - p->mu2 * E + p->p1 * E * IL / (p->g1 + IL) + p->s1 - exh + rev;
  d[1] = exh - rev - p->dX * X;
  d[2] = p->r2 * T * (1 - p->b * T) - p->a * E * T / (p->g2 + T);
  d[3] = p->p2 * E * T / (p->g3 + T) - p->mu3 * IL + p->s2;
  d[4] = -(p->CL / p->V1) * Ac - (p->Q / p->V1) * Ac + (p->Q / p->V2) * Ap;
  d[5] = (p->Q / p->V1) * Ac - (p->Q / p->V2) * Ap;
  return 0;
}

static int rober_rhs(realtype t, N_Vector yv, N_Vector dv, void *ud) {
  const double *y = N_VGetArrayPointer(yv);
  double *d = N_VGetArrayPointer(dv);
  nrhs++;
  d[0] = -0.04 * y[0] + 1e4 * y[1] * y[2];
  d[1] = 0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] * y[1];
  d[2] = 3e7 * y[1] * y[1];
  return 0;
}

static int vdp_rhs(realtype t, N_Vector yv, N_Vector dv, void *ud) {
  const double *y = N_VGetArrayPointer(yv);
  double *d = N_VGetArrayPointer(dv);
  nrhs++;
  d[0] = y[1];
  d[1] = 1000.0 * (1 - y[0] * y[0]) * y[1] - y[0];
  return 0;
}

typedef struct {
  void *mem;
  N_Vector y;
  SUNMatrix A;
  SUNLinearSolver LS;
  int n;
} Solver;

static void solver_new(Solver *s, CVRhsFn f, int n, double t0, const double *y0, double rtol, double atol, void *ud) {
  s->n = n;
  s->y = N_VNew_Serial(n, ctx);
  memcpy(N_VGetArrayPointer(s->y), y0, n * sizeof(double));
  s->mem = CVodeCreate(CV_BDF, ctx);
  CVodeInit(s->mem, f, t0, s->y);
  CVodeSStolerances(s->mem, rtol, atol);
  s->A = SUNDenseMatrix(n, n, ctx);
  s->LS = SUNLinSol_Dense(s->y, s->A, ctx);
  CVodeSetLinearSolver(s->mem, s->LS, s->A);
  CVodeSetUserData(s->mem, ud);
  CVodeSetMaxNumSteps(s->mem, 100000);
  CVodeSetErrFile(s->mem, NULL); /* failures are reported in the JSON */
}

static void solver_free(Solver *s) {
  CVodeFree(&s->mem);
  SUNLinSolFree(s->LS);
  SUNMatDestroy(s->A);
  N_VDestroy(s->y);
}

/* Plain solve with outputs at times[0..m-1]; out is row-major [k*n + i]. Returns 0 on success. */
static int solve_plain(CVRhsFn f, int n, const double *y0, const double *times, int m, double rtol, double atol,
                       void *ud, double *out) {
  Solver s;
  solver_new(&s, f, n, times[0], y0, rtol, atol, ud);
  memcpy(out, y0, n * sizeof(double));
  int rc = 0;
  for (int k = 1; k < m; k++) {
    realtype t;
    int flag = CVode(s.mem, times[k], s.y, &t, CV_NORMAL);
    if (flag < 0) { rc = flag; break; }
    memcpy(out + k * n, N_VGetArrayPointer(s.y), n * sizeof(double));
  }
  solver_free(&s);
  return rc;
}

/* W2: daily 0..365, 200 mg into Ac at 0, 21, ..., 357; restart at each dose; rows at dose days post-dose. */
static int solve_w2(const Params *p, double *out) {
  const int n = 6;
  double y0[6] = {1, 0, 1e5, 1, 0, 0};
  Solver s;
  solver_new(&s, w2_rhs, n, 0.0, y0, 1e-6, 1e-6, (void *)p);
  double *y = N_VGetArrayPointer(s.y);
  int rc = 0;
  for (int seg = 0; seg < 18 && rc == 0; seg++) {
    double ta = 21.0 * seg, tb = seg < 17 ? 21.0 * (seg + 1) : 365.0;
    y[4] += 200.0;
    CVodeReInit(s.mem, ta, s.y);
    CVodeSetStopTime(s.mem, tb);
    memcpy(out + (int)ta * n, y, n * sizeof(double));
    for (int d = (int)ta + 1; d <= (int)tb; d++) {
      realtype t;
      int flag = CVode(s.mem, (double)d, s.y, &t, CV_NORMAL);
      if (flag < 0) { rc = flag; break; }
      if (d < (int)tb || seg == 17) memcpy(out + d * n, y, n * sizeof(double));
    }
  }
  solver_free(&s);
  return rc;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int m) {
  qsort(v, m, sizeof(double), cmp);
  return m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
}

static int first_result = 1;
static void begin_result(void) {
  printf(first_result ? "\n" : ",\n");
  first_result = 0;
}

static void print_states(const char **names, int n, const double *out, const int *rows, int m) {
  printf("{");
  for (int i = 0; i < n; i++) {
    printf("%s\"%s\":[", i ? "," : "", names[i]);
    for (int k = 0; k < m; k++) printf("%s%.17g", k ? "," : "", out[rows[k] * n + i]);
    printf("]");
  }
  printf("}");
}

static void print_array(const double *v, int m) {
  printf("[");
  for (int k = 0; k < m; k++) printf("%s%.17g", k ? "," : "", v[k]);
  printf("]");
}

typedef int (*SolveFn)(void *ctxp, double *out);

static void bench(const char *workload, const char *cas, SolveFn fn, void *ctxp, const char **names, int n,
                  const double *times, int m, int repeats) {
  double *out = malloc(sizeof(double) * n * m);
  double *ms = malloc(sizeof(double) * repeats);
  double *ms_sorted = malloc(sizeof(double) * repeats);
  int rc = fn(ctxp, out); /* warm-up */
  long nf = 0;
  for (int r = 0; r < repeats && rc >= 0; r++) {
    nrhs = 0;
    double t0 = now_ms();
    rc = fn(ctxp, out);
    ms[r] = now_ms() - t0;
    nf = nrhs;
  }
  begin_result();
  if (rc < 0) {
    printf("{\"workload\":\"%s\",\"case\":\"%s\",\"method\":\"CVODE BDF\",\"failed\":\"CVode flag %d\"}", workload, cas, rc);
  } else {
    memcpy(ms_sorted, ms, sizeof(double) * repeats);
    printf("{\"workload\":\"%s\",\"case\":\"%s\",\"method\":\"CVODE BDF\",\"medianMs\":%.6g,\"ms\":", workload, cas,
           median(ms_sorted, repeats));
    print_array(ms, repeats);
    printf(",\"repeats\":%d,\"rhsEvaluations\":%ld,\"times\":", repeats, nf);
    print_array(times, m);
    printf(",\"states\":");
    int *rows = malloc(sizeof(int) * m);
    for (int k = 0; k < m; k++) rows[k] = k;
    print_states(names, n, out, rows, m);
    free(rows);
    printf("}");
  }
  fprintf(stderr, "cvode %s: %.3f ms, %ld f\n", cas, rc < 0 ? -1.0 : median(ms_sorted, repeats), nf);
  free(out);
  free(ms);
  free(ms_sorted);
}

typedef struct { const double *times; int m; double tend; } PlainCtx;

static int run_w1(void *c, double *out) {
  PlainCtx *pc = c;
  double y0[3] = {1, 1e5, 1};
  return solve_plain(kp_rhs, 3, y0, pc->times, pc->m, 1e-6, 1e-6, (void *)&P0, out);
}
static int run_w2(void *c, double *out) { return solve_w2(&P0, out); }
static int run_rober(void *c, double *out) {
  PlainCtx *pc = c;
  double y0[3] = {1, 0, 0};
  return solve_plain(rober_rhs, 3, y0, pc->times, pc->m, 1e-6, 1e-10, NULL, out);
}
static int run_vdp(void *c, double *out) {
  PlainCtx *pc = c;
  double y0[2] = {2, 0};
  return solve_plain(vdp_rhs, 2, y0, pc->times, pc->m, 1e-6, 1e-6, NULL, out);
}

/* Read the "etas" array of w3_etas.json: every number after the "etas" key, n rows of 4. */
static double *read_etas(const char *path, int want) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc(len + 1);
  if (fread(buf, 1, len, f) != (size_t)len) { fclose(f); free(buf); return NULL; }
  buf[len] = 0;
  fclose(f);
  char *s = strstr(buf, "\"etas\"");
  if (!s) { free(buf); return NULL; }
  s += 6;
  double *etas = malloc(sizeof(double) * 4 * want);
  int k = 0;
  while (*s && k < 4 * want) {
    if (strchr("-0123456789", *s)) etas[k++] = strtod(s, &s);
    else s++;
  }
  free(buf);
  if (k < 4 * want) { free(etas); return NULL; }
  return etas;
}

int main(int argc, char **argv) {
  int repeats = 5, w3n = 10000;
  const char *etas_path = "bench/reference/w3_etas.json";
  const char *which = "w1,w2,w3,w4";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--repeats")) repeats = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--w3-subjects")) w3n = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--etas")) etas_path = argv[i + 1];
    else if (!strcmp(argv[i], "--workloads")) which = argv[i + 1];
  }
  if (repeats < 1) repeats = 1;
  SUNContext_Create(NULL, &ctx);
  printf("{\"tool\":\"cvode\",\"version\":\"SUNDIALS CVODE %s\",\"rhs\":\"C functions\",\"jacobian\":\"difference quotients (dense)\",\"results\":[",
         SUNDIALS_VERSION);

  static const char *kpn[] = {"E", "T", "IL"};
  static const char *w2n[] = {"E", "X", "T", "IL", "Ac", "Ap"};
  static const char *rn[] = {"y1", "y2", "y3"};
  static const char *vn[] = {"y1", "y2"};
  double days1000[1001], days365[366];
  for (int k = 0; k <= 1000; k++) days1000[k] = k;
  for (int k = 0; k <= 365; k++) days365[k] = k;

  if (strstr(which, "w1")) {
    PlainCtx pc = {days1000, 1001, 1000};
    bench("W1", "kp98", run_w1, &pc, kpn, 3, days1000, 1001, repeats);
  }
  if (strstr(which, "w2")) bench("W2", "checkpoint", run_w2, NULL, w2n, 6, days365, 366, repeats);
  if (strstr(which, "w3")) {
    double *etas = read_etas(etas_path, w3n);
    begin_result();
    if (!etas) {
      printf("{\"workload\":\"W3\",\"case\":\"population\",\"method\":\"CVODE BDF\",\"failed\":\"cannot read %d subjects from %s\"}", w3n, etas_path);
    } else {
      double *out = malloc(sizeof(double) * 6 * 366);
      int rows[15], nr = 0;
      double tref[15];
      for (int d = 0; d <= 364; d += 28) { rows[nr] = d; tref[nr++] = d; }
      rows[nr] = 365; tref[nr++] = 365;
      nrhs = 0;
      int fail = 0;
      double t0 = now_ms();
      double *keep = malloc(sizeof(double) * 100 * 6 * 366);
      for (int i = 0; i < w3n; i++) {
        Params p = P0;
        p.c = P0.c * exp(etas[4 * i + 0]);
        p.kex = P0.kex * exp(etas[4 * i + 1]);
        p.EC50 = P0.EC50 * exp(etas[4 * i + 2]);
        p.r2 = P0.r2 * exp(etas[4 * i + 3]);
        if (solve_w2(&p, out) < 0) fail++;
        if (i < 100) memcpy(keep + i * 6 * 366, out, sizeof(double) * 6 * 366);
      }
      double ms = now_ms() - t0;
      printf("{\"workload\":\"W3\",\"case\":\"population\",\"method\":\"CVODE BDF\",\"subjects\":%d,\"medianMs\":%.6g,\"ms\":[%.6g],\"repeats\":1,\"rhsEvaluations\":%ld,\"failedSubjects\":%d,\"times\":",
             w3n, ms, ms, nrhs, fail);
      print_array(tref, nr);
      printf(",\"subjectStates\":[");
      for (int i = 0; i < w3n && i < 100; i++) {
        if (i) printf(",");
        print_states(w2n, 6, keep + i * 6 * 366, rows, nr);
      }
      printf("]}");
      fprintf(stderr, "cvode W3: %.0f ms for %d subjects\n", ms, w3n);
      free(out);
      free(keep);
      free(etas);
    }
  }
  if (strstr(which, "w4")) {
    double t1[16], t2[16];
    int m1 = 0, m2 = 0;
    t1[m1++] = 0; t2[m2++] = 0;
    for (int k = 0; k < 40; k++) {
      double t = 0.4 * pow(10, k);
      if (t < 1e5) t1[m1++] = t;
      if (t < 4e10) t2[m2++] = t;
    }
    t1[m1++] = 1e5;
    t2[m2++] = 4e10;
    PlainCtx a = {t1, m1, 1e5}, b = {t2, m2, 4e10};
    bench("W4", "robertson_1e5", run_rober, &a, rn, 3, t1, m1, repeats);
    bench("W4", "robertson_4e10", run_rober, &b, rn, 3, t2, m2, repeats);
    double tv[7];
    for (int k = 0; k < 7; k++) tv[k] = 500.0 * k;
    PlainCtx v = {tv, 7, 3000};
    bench("W4", "vanderpol", run_vdp, &v, vn, 2, tv, 7, repeats);
  }
  printf("\n]}\n");
  SUNContext_Free(&ctx);
  return 0;
}
