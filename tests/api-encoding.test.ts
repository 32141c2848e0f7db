// POST /api/simulate answers with bytes the pool thread made (src/jobs/run-task.ts encodeBody): gzip when the
// client accepts it, as they are otherwise. The bytes must mean exactly what the library's result means
// (every number round-trips), whatever the encoding, with the right headers (length, encoding, type, Vary).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { request } from 'node:http';
import { gunzipSync, brotliDecompressSync } from 'node:zlib';
import { startServer, type RunningServer } from '../server/app.ts';
import { simulate } from '../src/simulate.ts';
import { encodeBody, GZIP_THRESHOLD_BYTES } from '../src/jobs/run-task.ts';

let srv: RunningServer;

beforeAll(async () => {
  srv = await startServer(0, '127.0.0.1', { workers: 1 });
});
afterAll(async () => {
  await srv?.close();
});

const TYPICAL = {
  model: 'immunotherapy',
  therapies: ['pembrolizumab-200mg-q3w'],
  times: { start: 0, end: 180, step: 1 },
};

/** A raw POST (no client-side decoding): status, headers and the body's bytes as sent. */
function rawPost(
  path: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; bytes: Buffer }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      `${srv.url}${path}`,
      {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, bytes: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** The result with the solve's wall time (the only field that differs between two solves) zeroed. */
const withoutMs = (r: { solver: { ms: number } }) => ({ ...r, solver: { ...r.solver, ms: 0 } });

describe('simulate bodies encoded on the pool thread', () => {
  it('gzip when accepted: Content-Encoding and Content-Length of the compressed bytes, the same result as the library', async () => {
    const r = await rawPost('/api/simulate', TYPICAL, { 'Accept-Encoding': 'gzip, deflate, br' });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(Number(r.headers['content-length'])).toBe(r.bytes.length);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(String(r.headers.vary)).toMatch(/Accept-Encoding/i);
    const text = gunzipSync(r.bytes).toString('utf8');
    expect(r.bytes.length).toBeLessThan(text.length / 2);
    expect(withoutMs(JSON.parse(text))).toEqual(withoutMs(JSON.parse(JSON.stringify(simulate(TYPICAL)))));
  });

  it('identity when gzip is refused or not asked for: the same bytes as JSON.stringify of the library result (ms aside)', async () => {
    const lib = withoutMs(JSON.parse(JSON.stringify(simulate(TYPICAL))));
    for (const ae of ['identity', 'gzip;q=0, identity', undefined]) {
      const r = await rawPost('/api/simulate', TYPICAL, ae === undefined ? {} : { 'Accept-Encoding': ae });
      expect(r.status).toBe(200);
      expect(r.headers['content-encoding'], String(ae)).toBeUndefined();
      expect(Number(r.headers['content-length'])).toBe(r.bytes.length);
      const parsed = JSON.parse(r.bytes.toString('utf8'));
      expect(withoutMs(parsed)).toEqual(lib);
      // Same text once the one varying number is set equal: every other number is written identically.
      expect(r.bytes.toString('utf8').replace(/"ms":[^,}]+/, '"ms":0')).toBe(
        JSON.stringify(simulate(TYPICAL)).replace(/"ms":[^,}]+/, '"ms":0'),
      );
    }
  });

  it('brotli only: the middleware compresses on the main thread, as before', async () => {
    const r = await rawPost('/api/simulate', TYPICAL, { 'Accept-Encoding': 'br' });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBe('br');
    expect(JSON.parse(brotliDecompressSync(r.bytes).toString('utf8')).times).toHaveLength(181);
  });

  it('CSV, gzip-compressed on the thread', async () => {
    const r = await rawPost('/api/simulate?format=csv', TYPICAL, { 'Accept-Encoding': 'gzip' });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(r.headers['content-type']).toBe('text/csv; charset=utf-8');
    const lines = gunzipSync(r.bytes).toString('utf8').trimEnd().split('\n');
    expect(lines[0].startsWith('time,T1,')).toBe(true);
    expect(lines).toHaveLength(182);
  });

  it('errors are still JSON errors (not encoded by the thread)', async () => {
    const r = await rawPost(
      '/api/simulate',
      { ...TYPICAL, times: { start: 0, end: -1 } },
      { 'Accept-Encoding': 'gzip' },
    );
    expect(r.status).toBe(400);
    expect(JSON.parse(r.bytes.toString('utf8')).error.issues.length).toBeGreaterThan(0);
  });
});

describe('encodeBody', () => {
  it('gives bytes that own their whole buffer (transferable), gzip only above the threshold', () => {
    const small = encodeBody('{"a":1}', 'gzip');
    expect(small.encoding).toBe('identity');
    expect(Buffer.from(small.bytes).toString()).toBe('{"a":1}');
    const text = JSON.stringify({ y: Array.from({ length: 5000 }, (_, i) => Math.sin(i) * 1e6), name: 'tümor' });
    expect(text.length).toBeGreaterThan(GZIP_THRESHOLD_BYTES);
    for (const enc of ['gzip', 'identity'] as const) {
      const b = encodeBody(text, enc);
      expect(b.encoding).toBe(enc);
      expect(b.bytes.byteOffset).toBe(0);
      expect(b.bytes.byteLength).toBe(b.bytes.buffer.byteLength);
      expect((enc === 'gzip' ? gunzipSync(b.bytes) : Buffer.from(b.bytes)).toString('utf8')).toBe(text);
    }
  });
});
