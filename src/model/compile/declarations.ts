// Compile stage 1: the model file's declarations. Checks sizes, names (well-formed, not reserved, unique
// across kinds) and cross-references, then builds the symbol table the later stages resolve names with.
import { ModelSpec, MODEL_LIMITS, NAME_RE, MAX_NAME_LENGTH } from '../schema.ts';
import { roleIssues } from '../roles.ts';
import { unitSyntaxIssues } from '../units.ts';
import { RESERVED_NAMES } from '../expression.ts';
import { InputError, fromZodIssues, type Issue } from '../../errors.ts';
import { findReservedKeys, isReservedKey, reservedKeyMessage } from '../../keys.ts';

/** Every declared name and where it lives: states in y, parameters then covariates in p, assignments as locals. */
export interface SymbolTable {
  stateNames: string[];
  paramNames: string[];
  assignNames: string[];
  outputNames: string[];
  covariateNames: string[];
  stateIndex: Map<string, number>;
  paramIndex: Map<string, number>;
  assignIndex: Map<string, number>;
  /** Covariates are read like parameters: their values follow the parameters in p. */
  covariateIndex: Map<string, number>;
  /** Parameters and covariates: index into p. */
  pIndex: Map<string, number>;
}

/** The raw input through the schema; `__proto__` never reaches the schema's key checks (records drop it), so it is looked for first. */
export function parseSpec(input: unknown): ModelSpec {
  const reserved = findReservedKeys(input);
  if (reserved.length) throw new InputError(reserved);
  const parsed = ModelSpec.safeParse(input);
  if (!parsed.success) throw new InputError(fromZodIssues(parsed.error.issues));
  return parsed.data;
}

/** Check the declarations (throws InputError with every problem found) and build the symbol table. */
export function declareSymbols(spec: ModelSpec): SymbolTable {
  const stateNames = Object.keys(spec.states);
  const paramNames = Object.keys(spec.parameters);
  const assignNames = Object.keys(spec.assignments);
  const outputNames = Object.keys(spec.outputs);
  const covariateNames = Object.keys(spec.covariates);
  checkSizes(stateNames, paramNames, assignNames, outputNames);
  const issues = [
    ...nameIssues([
      ['states', stateNames],
      ['parameters', paramNames],
      ['assignments', assignNames],
      ['outputs', outputNames],
      ['covariates', covariateNames],
    ]),
    ...crossReferenceIssues(spec, stateNames),
    ...roleIssues(spec),
    // Every declared unit must parse; the dimensional check runs once the expressions compile.
    ...unitSyntaxIssues(spec),
  ];
  if (issues.length) throw new InputError(issues);

  const stateIndex = new Map(stateNames.map((n, i) => [n, i]));
  const paramIndex = new Map(paramNames.map((n, i) => [n, i]));
  const assignIndex = new Map(assignNames.map((n, i) => [n, i]));
  const covariateIndex = new Map(covariateNames.map((n, j) => [n, paramNames.length + j]));
  const pIndex = new Map([...paramIndex, ...covariateIndex]);
  return {
    stateNames,
    paramNames,
    assignNames,
    outputNames,
    covariateNames,
    stateIndex,
    paramIndex,
    assignIndex,
    covariateIndex,
    pIndex,
  };
}

function checkSizes(stateNames: string[], paramNames: string[], assignNames: string[], outputNames: string[]): void {
  const issues: Issue[] = [];
  const sizeChecks: [string, number, number][] = [
    ['parameters', paramNames.length, MODEL_LIMITS.parameters],
    ['states', stateNames.length, MODEL_LIMITS.states],
    ['assignments', assignNames.length, MODEL_LIMITS.assignments],
    ['outputs', outputNames.length, MODEL_LIMITS.outputs],
  ];
  for (const [field, count, max] of sizeChecks) {
    if (count > max) issues.push({ path: [field], message: `too many entries (${count}; at most ${max})` });
  }
  if (stateNames.length === 0) issues.push({ path: ['states'], message: 'a model needs at least one state' });
  if (issues.length) throw new InputError(issues);
}

/** Names: well-formed, not reserved, unique across kinds (the first declaration wins). */
function nameIssues(groups: [string, string[]][]): Issue[] {
  const issues: Issue[] = [];
  const kindOf = new Map<string, string>();
  for (const [field, names] of groups) {
    for (const name of names) {
      if (!NAME_RE.test(name) || name.length > MAX_NAME_LENGTH) {
        issues.push({
          path: [field, name],
          message: `'${name}' is not a valid name (letters, digits, _; not starting with a digit; at most ${MAX_NAME_LENGTH})`,
        });
      } else if (isReservedKey(name)) {
        issues.push({ path: [field, name], message: reservedKeyMessage(name) });
      } else if (RESERVED_NAMES.has(name)) {
        issues.push({ path: [field, name], message: `'${name}' is reserved by the expression language` });
      } else if (kindOf.has(name)) {
        issues.push({
          path: [field, name],
          message: `duplicate name '${name}' (already declared in ${kindOf.get(name)})`,
        });
      } else kindOf.set(name, field);
    }
  }
  return issues;
}

/** ODEs and dose modifiers name declared states; parameter bounds and scales are consistent. */
function crossReferenceIssues(spec: ModelSpec, stateNames: string[]): Issue[] {
  const issues: Issue[] = [];
  for (const s of stateNames)
    if (!Object.hasOwn(spec.odes, s)) issues.push({ path: ['odes'], message: `state '${s}' has no ODE` });
  for (const s of Object.keys(spec.odes)) {
    if (!Object.hasOwn(spec.states, s)) issues.push({ path: ['odes', s], message: `ODE for unknown state '${s}'` });
  }
  for (const s of Object.keys(spec.dosing)) {
    if (!Object.hasOwn(spec.states, s))
      issues.push({
        path: ['dosing', s],
        message: `dose modifiers for unknown state '${s}' (states: ${stateNames.join(', ')})`,
      });
  }
  for (const [name, p] of Object.entries(spec.parameters)) {
    if (p.min !== undefined && p.max !== undefined && p.min > p.max)
      issues.push({ path: ['parameters', name, 'min'], message: 'min is greater than max' });
    if (p.scale === 'log' && p.value <= 0)
      issues.push({ path: ['parameters', name, 'scale'], message: 'log scale needs a positive value' });
  }
  return issues;
}
