// JSON that keeps Float64Arrays exact and compact (base64 of the bytes): partial results travel through
// Redis between `immunopd worker` processes and the server, and must merge to the same bits as in-process.
const TAG = '$f64';

function replacer(this: unknown, _key: string, value: unknown): unknown {
  if (value instanceof Float64Array)
    return { [TAG]: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (
    value &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Object.hasOwn(value, TAG) &&
    Object.keys(value).length === 1
  ) {
    const buf = Buffer.from((value as Record<string, string>)[TAG], 'base64');
    const out = new Float64Array(buf.byteLength / 8);
    new Uint8Array(out.buffer).set(buf);
    return out;
  }
  return value;
}

export const encode = (value: unknown): string => JSON.stringify(value, replacer);
export const decode = (text: string): unknown => JSON.parse(text, reviver);
