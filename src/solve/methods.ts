// The project's own step-by-step methods, by name; the orchestrator (solve_ivp.ts) imports exactly this.
import type { StepperFactory } from './types.ts';
import { Dopri5 } from './dopri5.ts';
import { Rodas } from './rodas.ts';

const dopri5: StepperFactory = (f, t0, y0, tBound, opts) => new Dopri5(f, t0, y0, tBound, opts);

const rodas: StepperFactory = (f, t0, y0, tBound, opts) => new Rodas(f, t0, y0, tBound, opts);

// auto lands in the next commit; until then it runs DOPRI5 alone.

export const stepperFactories: Record<'dopri5' | 'rodas' | 'auto', StepperFactory> = { dopri5, rodas, auto: dopri5 };
