// User-supplied names as keys: the names that would collide with a built-in member of every JavaScript
// object (`__proto__`, `constructor`, `toString`, ...) and `prototype` are refused wherever a user names
// something (parameters, states, presets, subjects, series, ...), and every lookup of a user-supplied key
// is an own-property lookup (`ownValue`, `Object.hasOwn`, Map). Lowest layer: imports zod only.
import { z } from 'zod';
import { InputError } from './errors.ts';

/**
 * Refused as names: every member of Object.prototype (`__proto__`, `constructor`, `hasOwnProperty`,
 * `isPrototypeOf`, `propertyIsEnumerable`, `toLocaleString`, `toString`, `valueOf`, `__defineGetter__`,
 * `__defineSetter__`, `__lookupGetter__`, `__lookupSetter__`) and `prototype` (a member of every function).
 * With `obj[name]` any of them would find something the user never wrote; `__proto__` is also dropped
 * silently by JSON-to-object copies (zod records), so it could never be looked up at all.
 */
export const RESERVED_KEYS: ReadonlySet<string> = new Set([
  ...Object.getOwnPropertyNames(Object.prototype),
  'prototype',
]);

export const reservedKeyMessage = (name: string) =>
  `'${name}' is a reserved name (it is a built-in property of JavaScript objects): choose another name`;

export function isReservedKey(name: string): boolean {
  return RESERVED_KEYS.has(name);
}

/** `obj[key]` only when `key` is the object's own property (never an inherited member). */
export function ownValue<T>(obj: Readonly<Record<string, T>> | undefined | null, key: string): T | undefined {
  return obj != null && Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** A user-chosen name (a record key or a name given as a value): any string but a reserved one. */
export const userKey = z
  .string()
  .refine((s) => !RESERVED_KEYS.has(s), { error: (iss) => reservedKeyMessage(String(iss.input)) });

/** A record whose keys the user chooses: reserved names are refused with their path. */
export function userRecord<V extends z.ZodType>(value: V) {
  return z.record(userKey, value);
}

/**
 * Every reserved key anywhere in a parsed JSON value, with its path (iterative: a deep value cannot
 * overflow the stack). This is what sees `__proto__`, which JSON.parse keeps as an own key but zod
 * records drop before their key schema runs. At most `max` issues.
 */
export function findReservedKeys(value: unknown, max = 20): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const stack: [unknown, (string | number)[]][] = [[value, []]];
  while (stack.length && out.length < max) {
    const [v, path] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--)
        if (v[i] !== null && typeof v[i] === 'object') stack.push([v[i], [...path, i]]);
      continue;
    }
    for (const k of Object.keys(v)) {
      if (RESERVED_KEYS.has(k)) {
        out.push({ path: [...path, k], message: reservedKeyMessage(k) });
        if (out.length >= max) break;
        continue;
      }
      const c = (v as Record<string, unknown>)[k];
      if (c !== null && typeof c === 'object') stack.push([c, [...path, k]]);
    }
  }
  return out;
}

/**
 * Throw an InputError naming every reserved key in a request (as parsed from JSON) before it reaches a
 * zod schema: the library's entry points call it, so the CLI and the API refuse `__proto__` alike.
 */
export function assertNoReservedKeys(input: unknown): void {
  const found = findReservedKeys(input);
  if (found.length) throw new InputError(found);
}
