/* The C Dormand–Prince yardstick of `npm run bench` (W2 and the W3 population): a plain C DOPRI5 with the
 * same tableau, error norm, PI step-size control (beta 0.04), Hairer's initial step and CONTD5 dense output
 * as src/solve/dopri5.ts, on a hand-written C right-hand side of the W2 checkpoint model, at the workload
 * tolerances (rtol = atol = 1e-6), integrated piecewise between the 21-day doses. W3 runs the subjects of
 * bench/reference/w3_etas.json on `--threads` POSIX threads (default: the online cores), as immunopd's
 * population runs on its worker pool. Prints one JSON document like the other peers; bench/run.ts computes
 * the errors against bench/reference.
 *
 * Build (bench/run.ts does this): cc -O2 -o bench/peers/build/dopri5_bench bench/peers/dopri5_bench.c -lm -lpthread
 * Run: bench/peers/build/dopri5_bench [--repeats 5] [--w3-subjects 10000] [--w3-repeats 1] [--etas bench/reference/w3_etas.json] [--threads N]
 * W3's time is the median wall time over --w3-repeats runs of the whole population (threads started and
 * joined inside each run).
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define N 6
#define DAYS 366
typedef struct { double c, mu2, p1, g1, s1, r2, b, a, g2, p2, g3, mu3, s2, kex, gx, krev, dX, CL, V1, Q, V2, EC50; } Params;
static const Params P0 = {0.02, 0.03, 0.1245, 2e7, 0, 0.18, 1e-9, 1, 1e5, 5, 1e3, 10, 0, 0.05, 1e5, 0.1, 0.02, 0.22, 3.48, 0.795, 4.06, 0.5};

static void rhs(const Params *p, const double *y, double *d, long *nf) {
  double E = y[0], X = y[1], T = y[2], IL = y[3], Ac = y[4], Ap = y[5];
  double occ = (Ac / p->V1) / (Ac / p->V1 + p->EC50);
  double exh = p->kex * E * T / (p->gx + T) * (1 - occ);
  double rev = p->krev * occ * X;
  d[0] = p->c * T - p->mu2 * E + p->p1 * E * IL / (p->g1 + IL) + p->s1 - exh + rev;
  d[1] = exh - rev - p->dX * X;
  d[2] = p->r2 * T * (1 - p->b * T) - p->a * E * T / (p->g2 + T);
  d[3] = p->p2 * E * T / (p->g3 + T) - p->mu3 * IL + p->s2;
  d[4] = -(p->CL / p->V1) * Ac - (p->Q / p->V1) * Ac + (p->Q / p->V2) * Ap;
  d[5] = (p->Q / p->V1) * Ac - (p->Q / p->V2) * Ap;
  (*nf)++;
}

/* The model is autonomous between doses, so the nodes c_i are not needed. */
static const double A21 = 0.2, A31 = 3.0 / 40, A32 = 9.0 / 40, A41 = 44.0 / 45, A42 = -56.0 / 15, A43 = 32.0 / 9;
static const double A51 = 19372.0 / 6561, A52 = -25360.0 / 2187, A53 = 64448.0 / 6561, A54 = -212.0 / 729;
static const double A61 = 9017.0 / 3168, A62 = -355.0 / 33, A63 = 46732.0 / 5247, A64 = 49.0 / 176, A65 = -5103.0 / 18656;
static const double A71 = 35.0 / 384, A73 = 500.0 / 1113, A74 = 125.0 / 192, A75 = -2187.0 / 6784, A76 = 11.0 / 84;
static const double E1 = 71.0 / 57600, E3 = -71.0 / 16695, E4 = 71.0 / 1920, E5 = -17253.0 / 339200, E6 = 22.0 / 525, E7 = -1.0 / 40;
static const double D1 = -12715105075.0 / 11282082432, D3 = 87487479700.0 / 32700410799, D4 = -10690763975.0 / 1880347072;
static const double D5 = 701980252875.0 / 199316789632, D6 = -1453857185.0 / 822651844, D7 = 69997945.0 / 29380423;
static const double RTOL = 1e-6, ATOL = 1e-6;

/* One smooth segment [ta, tb] from y (updated to y(tb)); rows at integer days ta < d <= tb into out. */
static int segment(const Params *p, double ta, double tb, double *y, double *out, long *nf) {
  double k1[N], k2[N], k3[N], k4[N], k5[N], k6[N], k7[N], s[N], yn[N], r[5][N];
  rhs(p, y, k1, nf);
  /* Hairer's initial step (order 5). */
  double d0 = 0, d1 = 0, d2 = 0;
  for (int i = 0; i < N; i++) { double sk = ATOL + RTOL * fabs(y[i]); d0 += (y[i] / sk) * (y[i] / sk); d1 += (k1[i] / sk) * (k1[i] / sk); }
  d0 = sqrt(d0 / N); d1 = sqrt(d1 / N);
  double h0 = (d0 < 1e-5 || d1 < 1e-5) ? 1e-6 : 0.01 * d0 / d1;
  if (h0 > tb - ta) h0 = tb - ta;
  for (int i = 0; i < N; i++) s[i] = y[i] + h0 * k1[i];
  rhs(p, s, k2, nf);
  for (int i = 0; i < N; i++) { double sk = ATOL + RTOL * fabs(y[i]); d2 += ((k2[i] - k1[i]) / sk) * ((k2[i] - k1[i]) / sk); }
  d2 = sqrt(d2 / N) / h0;
  double dm = d1 > d2 ? d1 : d2;
  double h1 = dm <= 1e-15 ? fmax(1e-6, h0 * 1e-3) : pow(0.01 / dm, 0.2);
  double h = fmin(fmin(100 * h0, h1), tb - ta);
  double t = ta, facold = 1e-4;
  int rejected = 0, next = (int)floor(ta) + 1;
  while (t < tb) {
    int last = 0;
    if (t + 1.01 * h >= tb) { h = tb - t; last = 1; }
    if (h < 1e-14 * fabs(t)) return -1;
    for (int i = 0; i < N; i++) s[i] = y[i] + h * A21 * k1[i];
    rhs(p, s, k2, nf);
    for (int i = 0; i < N; i++) s[i] = y[i] + h * (A31 * k1[i] + A32 * k2[i]);
    rhs(p, s, k3, nf);
    for (int i = 0; i < N; i++) s[i] = y[i] + h * (A41 * k1[i] + A42 * k2[i] + A43 * k3[i]);
    rhs(p, s, k4, nf);
    for (int i = 0; i < N; i++) s[i] = y[i] + h * (A51 * k1[i] + A52 * k2[i] + A53 * k3[i] + A54 * k4[i]);
    rhs(p, s, k5, nf);
    for (int i = 0; i < N; i++) s[i] = y[i] + h * (A61 * k1[i] + A62 * k2[i] + A63 * k3[i] + A64 * k4[i] + A65 * k5[i]);
    double tn = last ? tb : t + h;
    rhs(p, s, k6, nf);
    for (int i = 0; i < N; i++) yn[i] = y[i] + h * (A71 * k1[i] + A73 * k3[i] + A74 * k4[i] + A75 * k5[i] + A76 * k6[i]);
    rhs(p, yn, k7, nf);
    double e = 0;
    for (int i = 0; i < N; i++) {
      double sk = ATOL + RTOL * fmax(fabs(y[i]), fabs(yn[i]));
      double d = h * (E1 * k1[i] + E3 * k3[i] + E4 * k4[i] + E5 * k5[i] + E6 * k6[i] + E7 * k7[i]) / sk;
      e += d * d;
    }
    double err = sqrt(e / N);
    if (!isfinite(err)) { h *= 0.1; rejected = 1; continue; }
    double fac11 = pow(err, 0.2 - 0.04 * 0.75);
    if (err <= 1) {
      double fac = fac11 / pow(facold, 0.04);
      fac = fmax(0.1, fmin(5.0, fac / 0.9));
      double hnew = h / fac;
      facold = fmax(err, 1e-4);
      /* Dense output (CONTD5) only when an output day falls in the step. */
      if (next <= tn && next <= (int)tb) {
        for (int i = 0; i < N; i++) {
          double yd = yn[i] - y[i], bspl = h * k1[i] - yd;
          r[0][i] = y[i]; r[1][i] = yd; r[2][i] = bspl; r[3][i] = yd - h * k7[i] - bspl;
          r[4][i] = h * (D1 * k1[i] + D3 * k3[i] + D4 * k4[i] + D5 * k5[i] + D6 * k6[i] + D7 * k7[i]);
        }
        for (; next <= tn && next <= (int)tb; next++) {
          if (next == tn) { memcpy(out + next * N, yn, sizeof yn); continue; }
          double th = (next - t) / h, th1 = 1 - th;
          for (int i = 0; i < N; i++) out[next * N + i] = r[0][i] + th * (r[1][i] + th1 * (r[2][i] + th * (r[3][i] + th1 * r[4][i])));
        }
      }
      if (rejected) hnew = fmin(hnew, h);
      rejected = 0;
      t = tn;
      memcpy(y, yn, sizeof yn);
      memcpy(k1, k7, sizeof k7);
      h = hnew;
    } else {
      h = h / fmin(5.0, fac11 / 0.9);
      rejected = 1;
    }
  }
  return 0;
}

/* W2: daily rows 0..365, 200 mg into Ac at days 0, 21, ..., 357 (rows at dose days are post-dose). */
static int solve_w2(const Params *p, double *out, long *nf) {
  double y[N] = {1, 0, 1e5, 1, 0, 0};
  for (int seg = 0; seg < 18; seg++) {
    double ta = 21.0 * seg, tb = seg < 17 ? 21.0 * (seg + 1) : 365.0;
    y[4] += 200.0;
    memcpy(out + (int)ta * N, y, sizeof y);
    if (segment(p, ta, tb, y, out, nf) < 0) return -1;
  }
  return 0;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }

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

typedef struct { const double *etas; int from, to, fail; long nf; double *keep; } Work;
static void *w3_thread(void *arg) {
  Work *w = arg;
  double out[N * DAYS];
  for (int i = w->from; i < w->to; i++) {
    Params p = P0;
    p.c = P0.c * exp(w->etas[4 * i + 0]);
    p.kex = P0.kex * exp(w->etas[4 * i + 1]);
    p.EC50 = P0.EC50 * exp(w->etas[4 * i + 2]);
    p.r2 = P0.r2 * exp(w->etas[4 * i + 3]);
    if (solve_w2(&p, out, &w->nf) < 0) w->fail++;
    if (i < 100) memcpy(w->keep + i * N * DAYS, out, sizeof out);
  }
  return NULL;
}

static void print_states(const double *out, const int *rows, int m) {
  static const char *names[] = {"E", "X", "T", "IL", "Ac", "Ap"};
  printf("{");
  for (int i = 0; i < N; i++) {
    printf("%s\"%s\":[", i ? "," : "", names[i]);
    for (int k = 0; k < m; k++) printf("%s%.17g", k ? "," : "", out[rows[k] * N + i]);
    printf("]");
  }
  printf("}");
}

int main(int argc, char **argv) {
  int repeats = 5, w3n = 10000, w3repeats = 1, threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
  const char *etas_path = "bench/reference/w3_etas.json";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--repeats")) repeats = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--w3-subjects")) w3n = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--etas")) etas_path = argv[i + 1];
    else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--w3-repeats")) w3repeats = atoi(argv[i + 1]);
  }
  if (repeats < 1) repeats = 1;
  if (w3repeats < 1) w3repeats = 1;
  if (w3repeats > 64) w3repeats = 64;
  if (threads < 1) threads = 1;
  printf("{\"tool\":\"c-dopri5\",\"version\":\"plain C DOPRI5 (cc -O2), %d threads for W3\",\"results\":[\n", threads);
  /* W2 */
  double out[N * DAYS], ms[64];
  long nf = 0;
  int rc = 0;
  if (repeats > 64) repeats = 64;
  for (int r = 0; r < repeats; r++) { nf = 0; double t0 = now_ms(); rc = solve_w2(&P0, out, &nf); ms[r] = now_ms() - t0; }
  qsort(ms, repeats, sizeof(double), cmp);
  int all[DAYS];
  for (int d = 0; d < DAYS; d++) all[d] = d;
  printf("{\"workload\":\"W2\",\"case\":\"checkpoint\",\"method\":\"DOPRI5 (C yardstick)\",\"medianMs\":%.6g,\"rhsEvaluations\":%ld,\"times\":[", ms[repeats / 2], nf);
  for (int d = 0; d < DAYS; d++) printf("%s%d", d ? "," : "", d);
  printf("],\"states\":");
  print_states(out, all, DAYS);
  printf("%s}", rc < 0 ? ",\"failed\":\"step size underflow\"" : "");
  /* W3 */
  double *etas = read_etas(etas_path, w3n);
  if (!etas) {
    printf(",\n{\"workload\":\"W3\",\"case\":\"population\",\"method\":\"DOPRI5 (C yardstick)\",\"failed\":\"cannot read %d subjects from %s\"}", w3n, etas_path);
  } else {
    double *keep = malloc(sizeof(double) * 100 * N * DAYS);
    Work *w = calloc(threads, sizeof(Work));
    pthread_t *th = calloc(threads, sizeof(pthread_t));
    double w3ms[64];
    long nft = 0;
    int fail = 0;
    for (int r = 0; r < w3repeats; r++) {
      double t0 = now_ms();
      for (int k = 0; k < threads; k++) {
        w[k] = (Work){etas, (int)((long)w3n * k / threads), (int)((long)w3n * (k + 1) / threads), 0, 0, keep};
        pthread_create(&th[k], NULL, w3_thread, &w[k]);
      }
      nft = 0;
      fail = 0;
      for (int k = 0; k < threads; k++) { pthread_join(th[k], NULL); nft += w[k].nf; fail += w[k].fail; }
      w3ms[r] = now_ms() - t0;
    }
    qsort(w3ms, w3repeats, sizeof(double), cmp);
    double t = w3ms[w3repeats / 2];
    int rows[15], nr = 0;
    for (int d = 0; d <= 364; d += 28) rows[nr++] = d;
    rows[nr++] = 365;
    printf(",\n{\"workload\":\"W3\",\"case\":\"population\",\"method\":\"DOPRI5 (C yardstick), %d threads\",\"subjects\":%d,\"medianMs\":%.6g,\"rhsEvaluations\":%ld,\"failedSubjects\":%d,\"times\":[", threads, w3n, t, nft, fail);
    for (int k = 0; k < nr; k++) printf("%s%d", k ? "," : "", rows[k]);
    printf("],\"subjectStates\":[");
    for (int i = 0; i < w3n && i < 100; i++) { if (i) printf(","); print_states(keep + i * N * DAYS, rows, nr); }
    printf("]}");
    fprintf(stderr, "c-dopri5 W3: %.0f ms for %d subjects on %d threads\n", t, w3n, threads);
  }
  printf("\n]}\n");
  return 0;
}
