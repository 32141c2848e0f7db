// Public API of the schedule optimizer: the request schema (for the HTTP route and OpenAPI) and optimizeSchedule().
export { OptimizeRequest, DrugChoice, Choice, type OptimizeRequestInput } from './schema.ts';
export {
  optimizeSchedule,
  parseOptimizeRequest,
  nelderMead,
  type OptimizeResult,
  type Evaluated,
  type ScheduleEntry,
} from './optimize.ts';
export {
  optimizePopulationSchedule,
  isPopulationOptimizeRequest,
  PopulationOptimizeRequest,
  POPULATION_OPTIMIZE_LIMITS,
  type PopulationCandidate,
} from './population-objective.ts';
