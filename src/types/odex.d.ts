// Types for the odex package: its published TypeScript source does not pass this project's strict checks,
// so the compiler is pointed here instead (tsconfig "paths"). Only what src/solve/odex.ts uses.
declare module 'odex' {
  export enum Outcome { Converged = 0, MaxStepsExceeded = 1, EarlyReturn = 2 }
  export type OutputFunction = (nr: number, xold: number, x: number, y: number[], dense?: (c: number, x: number) => number) => boolean | void;
  export class Solver {
    constructor(n: number);
    maxSteps: number;
    initialStepSize: number;
    maxStepSize: number;
    denseOutput: boolean;
    relativeTolerance: number | number[];
    absoluteTolerance: number | number[];
    solve(f: (x: number, y: number[]) => number[], x: number, y0: number[], xEnd: number, solOut?: OutputFunction): {
      y: number[]; outcome: Outcome; nStep: number; xEnd: number; nAccept: number; nReject: number; nEval: number;
    };
  }
  const _default: { Solver: typeof Solver; Outcome: typeof Outcome };
  export default _default;
}
