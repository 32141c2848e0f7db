/* Hand-written right-hand sides for deSolve's compiled-code interface (lsoda(..., dllname=, func=,
 * initfunc=)), used by desolve_bench.R for its "lsoda (compiled C RHS)" rows. Built by that script with
 * R CMD SHLIB into bench/peers/build/. Calls are counted (get_count / reset_count via .C). */
#include <R.h>

static double kp[13];
static double w2[22];
static int count = 0;

void reset_count(void) { count = 0; }
void get_count(int *n) { *n = count; }

void initkp(void (*odeparms)(int *, double *)) { int N = 13; odeparms(&N, kp); }
void initw2(void (*odeparms)(int *, double *)) { int N = 22; odeparms(&N, w2); }

/* parameter order: c mu2 p1 g1 s1 r2 b a g2 p2 g3 mu3 s2 [kex gx krev dX CL V1 Q V2 EC50] */
void derivs_kp(int *neq, double *t, double *y, double *yd, double *yout, int *ip) {
  const double *p = kp;
  double E = y[0], T = y[1], IL = y[2];
  count++;
  yd[0] = p[0] * T - p[1] * E + p[2] * E * IL / (p[3] + IL) + p[4];
  yd[1] = p[5] * T * (1 - p[6] * T) - p[7] * E * T / (p[8] + T);
  yd[2] = p[9] * E * T / (p[10] + T) - p[11] * IL + p[12];
}

void derivs_w2(int *neq, double *t, double *y, double *yd, double *yout, int *ip) {
  const double *p = w2;
  double E = y[0], X = y[1], T = y[2], IL = y[3], Ac = y[4], Ap = y[5];
  double kex = p[13], gx = p[14], krev = p[15], dX = p[16], CL = p[17], V1 = p[18], Q = p[19], V2 = p[20], EC50 = p[21];
  count++;
  double occ = (Ac / V1) / (Ac / V1 + EC50);
  double exh = kex * E * T / (gx + T) * (1 - occ);
  double rev = krev * occ * X;
  yd[0] = p[0] * T - p[1] * E + p[2] * E * IL / (p[3] + IL) + p[4] - exh + rev;
  yd[1] = exh - rev - dX * X;
  yd[2] = p[5] * T * (1 - p[6] * T) - p[7] * E * T / (p[8] + T);
  yd[3] = p[9] * E * T / (p[10] + T) - p[11] * IL + p[12];
  yd[4] = -(CL / V1) * Ac - (Q / V1) * Ac + (Q / V2) * Ap;
  yd[5] = (Q / V1) * Ac - (Q / V2) * Ap;
}

void derivs_rober(int *neq, double *t, double *y, double *yd, double *yout, int *ip) {
  count++;
  yd[0] = -0.04 * y[0] + 1e4 * y[1] * y[2];
  yd[1] = 0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] * y[1];
  yd[2] = 3e7 * y[1] * y[1];
}

void derivs_vdp(int *neq, double *t, double *y, double *yd, double *yout, int *ip) {
  count++;
  yd[0] = y[1];
  yd[1] = 1000.0 * (1 - y[0] * y[0]) * y[1] - y[0];
}
