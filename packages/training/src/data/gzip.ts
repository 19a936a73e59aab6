import { gunzipSync } from 'node:zlib';
import { DataError } from '../errors.js';

/** True when bytes start with the gzip magic 1f 8b. */
function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Gunzips gzip data and passes anything else through. */
export function maybeGunzip(bytes: Uint8Array, what: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return new Uint8Array(gunzipSync(bytes));
  } catch (e) {
    throw new DataError(`${what} is not valid gzip data: ${e instanceof Error ? e.message : String(e)}`, 'the download may be incomplete: delete the file and try again', { cause: e });
  }
}
