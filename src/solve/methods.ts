// The project's own step-by-step methods, by name; the orchestrator (solve_ivp.ts) imports exactly this.
import type { StepperFactory } from './types.ts';
import { Dopri5 } from './dopri5.ts';
import { Rodas } from './rodas.ts';
import { AutoStepper } from './auto.ts';

const dopri5: StepperFactory = (f, t0, y0, tBound, opts) => new Dopri5(f, t0, y0, tBound, opts);

const rodas: StepperFactory = (f, t0, y0, tBound, opts) => new Rodas(f, t0, y0, tBound, opts);

// Starts with DOPRI5, switches to Rodas5P on stiffness and back; exposes `method`, `switches` and `h`.
const auto: StepperFactory = (f, t0, y0, tBound, opts) => new AutoStepper(f, t0, y0, tBound, opts);

export const stepperFactories: Record<'dopri5' | 'rodas' | 'auto', StepperFactory> = { dopri5, rodas, auto };
