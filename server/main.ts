// Start the API and web client: `node src/cli/run-ts.mjs server/main.ts` (or `npm start`, which goes through
// the CLI's `serve`). PORT (default 3000) and HOST (default 127.0.0.1) from the environment.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { startServer } from './app.ts';

export async function main(port = Number(process.env.PORT ?? 3000), host = process.env.HOST ?? '127.0.0.1') {
  const s = await startServer(port, host, { log: process.env.IMMUNOPD_LOG !== '0', warm: true });
  // SIGTERM/SIGINT: stop accepting, let in-flight requests finish (IMMUNOPD_SHUTDOWN_GRACE_MS, default 10 s), exit.
  const stop = (signal: string) => {
    console.log(`immunopd: ${signal}: not accepting new connections; finishing in-flight requests`);
    void s.shutdown().then((clean) => {
      console.log(`immunopd: stopped${clean ? '' : ' (the grace period ran out: some requests were cut off)'}`);
      process.exit(0);
    });
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  return s;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const s = await main();
  console.log(`immunopd: serving the API and web client at ${s.url}/`);
}
