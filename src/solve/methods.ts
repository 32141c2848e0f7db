// The project's own step-by-step methods, by name; the orchestrator (solve_ivp.ts) imports exactly this.
import type { StepperFactory } from './types.ts';
import { Dopri5 } from './dopri5.ts';

const dopri5: StepperFactory = (f, t0, y0, tBound, opts) => new Dopri5(f, t0, y0, tBound, opts);

// rodas and auto land in the next commits; until then auto runs DOPRI5 alone and rodas is unavailable.
const rodas: StepperFactory = () => {
  throw new Error('rodas: not available yet');
};

export const stepperFactories: Record<'dopri5' | 'rodas' | 'auto', StepperFactory> = { dopri5, rodas, auto: dopri5 };
