// Coefficient tables of the project's own methods, as data (checked by tests/solve-tableaus.test.ts: row
// sums equal c, the order conditions of each method and of its embedded estimate). The steppers copy these
// numbers into local constants once, at module load; nothing here is used inside a step.

/** An explicit Runge–Kutta pair with dense output: a (lower-triangular rows), c, b, the error weights e = b - b̂, and dense-output weights d. */
export interface ExplicitRkTableau {
  /** Nodes c_i (c_1 = 0). */
  readonly c: readonly number[];
  /** a[i][j] for j < i (row i has i entries). */
  readonly a: readonly (readonly number[])[];
  /** Weights of the propagated (order 5) solution; the FSAL stage is the last row of a. */
  readonly b: readonly number[];
  /** e_i = b_i - b̂_i over the stages incl. the FSAL stage (Hairer's E1..E7 in dopri5.f). */
  readonly e: readonly number[];
  /** Coefficients of the continuous extension's highest term (Hairer's D1..D7, CONTD5). */
  readonly d: readonly number[];
}

/**
 * Dormand & Prince (1980) 5(4), FSAL: 7 stages, the 7th evaluated at the new point (Hairer, Nørsett & Wanner,
 * Solving ODEs I, Table II.5.2, and dopri5.f). Row 7 of a equals b.
 */
export const DOPRI5_TABLEAU: ExplicitRkTableau = {
  c: [0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1],
  a: [
    [],
    [0.2],
    [3 / 40, 9 / 40],
    [44 / 45, -56 / 15, 32 / 9],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
    [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
  ],
  b: [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0],
  e: [71 / 57600, 0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40],
  d: [-12715105075 / 11282082432, 0, 87487479700 / 32700410799, -10690763975 / 1880347072, 701980252875 / 199316789632, -1453857185 / 822651844, 69997945 / 29380423],
};

/** A Rosenbrock method in the W-transformed form of Hairer's RODAS (see rodas.ts for the stage equations). */
export interface RosenbrockTableau {
  readonly stages: number;
  /** The diagonal γ of the method. */
  readonly gamma: number;
  /** Stage-argument coefficients a[i][j], j < i, of the first `explicitArgumentRows` rows; later stage arguments are the previous one plus the previous k. */
  readonly a: readonly (readonly number[])[];
  /** Coupling coefficients C[i][j], j < i (row i has i entries). */
  readonly C: readonly (readonly number[])[];
  /** Nodes c_i (time of stage i's argument). */
  readonly c: readonly number[];
  /** df/dt coefficients d_i (= γ_i, the row sums of Γ). */
  readonly d: readonly number[];
  /** Dense output: K_r = Σ_j h[r][j] k_j, r = 1..3. */
  readonly h: readonly (readonly number[])[];
}

/**
 * Rodas5P (Steinebach, BIT 63, 2023), as in DifferentialEquations.jl's Rodas5PTableau: 8 stages, stiffly
 * accurate (y1 = the 8th stage argument + k_8), embedded order 4 (the error estimate is k_8).
 */
export const RODAS5P_TABLEAU: RosenbrockTableau = {
  stages: 8,
  gamma: 0.21193756319429014,
  a: [
    [],
    [3.0],
    [2.849394379747939, 0.45842242204463923],
    [-6.954028509809101, 2.489845061869568, -10.358996098473584],
    [2.8029986275628964, 0.5072464736228206, -0.3988312541770524, -0.04721187230404641],
    [-7.502846399306121, 2.561846144803919, -11.627539656261098, -0.18268767659942256, 0.030198172008377946],
  ],
  C: [
    [],
    [-14.155112264123755],
    [-17.97296035885952, -2.859693295451294],
    [147.12150275711716, -1.41221402718213, 71.68940251302358],
    [165.43517024871676, -0.4592823456491126, 42.90938336958603, -5.961986721573306],
    [24.854864614690072, -3.0009227002832186, 47.4931110020768, 5.5814197821558125, -0.6610691825249471],
    [30.91273214028599, -3.1208243349937974, 77.79954646070892, 34.28646028294783, -19.097331116725623, -28.087943162872662],
    [37.80277123390563, -3.2571969029072276, 112.26918849496327, 66.9347231244047, -40.06618937091002, -54.66780262877968, -9.48861652309627],
  ],
  c: [0, 0.6358126895828704, 0.4095798393397535, 0.9769306725060716, 0.4288403609558664, 1, 1, 1],
  d: [0.21193756319429014, -0.42387512638858027, -0.3384627126235924, 1.8046452872882734, 2.325825639765069, 0, 0, 0],
  h: [
    [25.948786856663858, -2.5579724845846235, 10.433815404888879, -2.3679251022685204, 0.524948541321073, 1.1241088310450404, 0.4272876194431874, -0.17202221070155493],
    [-9.91568850695171, -0.9689944594115154, 3.0438037242978453, -24.495224566215796, 20.176138334709044, 15.98066361424651, -6.789040303419874, -6.710236069923372],
    [11.419903575922262, 2.8879645146136994, 72.92137995996029, 80.12511834622643, -52.072871366152654, -59.78993625266729, -0.15582684282751913, 4.883087185713722],
  ],
};
