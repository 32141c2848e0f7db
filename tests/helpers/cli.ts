// The CLI in-process for tests: `runCli(args)` runs `immunopd args` through main() and collects its output;
// `writeIn(dir, name, content)` writes a request or data file (JSON unless a string) and returns its path.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { main } from '../../src/cli/main.ts';

export async function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

export function writeIn(dir: string, name: string, content: unknown): string {
  const f = path.join(dir, name);
  writeFileSync(f, typeof content === 'string' ? content : JSON.stringify(content));
  return f;
}
