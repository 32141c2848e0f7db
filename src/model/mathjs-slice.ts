// The slice of mathjs the expression language uses (parse, derivative, simplify), created from those
// functions' dependencies only. The build (scripts/build.mjs) bundles this one module with esbuild so that
// the CLI and the workers load a single file instead of mathjs's ~1,000 modules (~0.6 s of start-up).
import { create, parseDependencies, derivativeDependencies, simplifyDependencies } from 'mathjs';

export const math = create({ parseDependencies, derivativeDependencies, simplifyDependencies }, { number: 'number' });
