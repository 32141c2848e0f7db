// `immunopd serve [--port N] [--host H]`: the HTTP API and web client. Port: --port, else PORT, else 3000;
// host: --host, else HOST, else 127.0.0.1 (use 0.0.0.0 to serve other machines). It lives beside the server
// (server/cli.ts registers it with the CLI) so that src/ never imports the layer above it.
import { parse, UsageError, type CliIo } from '../src/cli/main.ts';

export async function serveCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parse(
    args,
    { port: { type: 'string' }, host: { type: 'string' } },
    { min: 0, max: 0, usage: 'immunopd serve [--port N] [--host H]' },
  );
  const raw = (values.port as string | undefined) ?? process.env.PORT ?? '3000';
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) throw new UsageError(`--port must be an integer in 0..65535 (got '${raw}')`);
  const host = (values.host as string | undefined) ?? process.env.HOST ?? '127.0.0.1';
  // Loaded on demand: the other commands do not pay for express and the routes.
  const { main } = await import('./main.ts');
  const s = await main(port, host);
  io.out(`immunopd: serving the API and web client at ${s.url}/ (Ctrl-C stops)\n`);
  // Keep running: the CLI returns when the server closes.
  await new Promise<void>((resolve) => s.server.once('close', () => resolve()));
  return 0;
}
