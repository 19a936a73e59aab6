import { constants, gunzipSync } from 'node:zlib';
import { DataError } from '../errors.js';

/** The most a gzipped dataset file may inflate to unless told otherwise (2 GiB). */
export const DEFAULT_MAX_GUNZIP_BYTES = 2 ** 31;

/** True when bytes start with the gzip magic 1f 8b. */
function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export interface GunzipOptions {
  /** Refuse data that inflates to more than this many bytes (default DEFAULT_MAX_GUNZIP_BYTES). */
  maxBytes?: number;
  /**
   * Given the first bytes of the inflated data (up to 4 KiB), the exact size
   * the whole must have, when the format's header says so: inflating stops
   * one byte past it.
   */
  expectedSize?: (head: Uint8Array) => number | undefined;
}

/**
 * The first few KiB of a gzip stream, inflated from a prefix of the
 * compressed bytes (a sync flush accepts the cut). Never more than ~1 MiB
 * of work, whatever the stream holds.
 */
export function gunzipHead(bytes: Uint8Array): Uint8Array {
  try {
    const out = gunzipSync(bytes.subarray(0, 1024), { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: 2 ** 21 });
    return new Uint8Array(out.buffer, out.byteOffset, Math.min(out.byteLength, 4096));
  } catch {
    return new Uint8Array(0);
  }
}

/**
 * Gunzips gzip data and passes anything else through. Inflation is bounded:
 * by the size the data's own header promises (expectedSize) and by maxBytes,
 * so a small file cannot expand to gigabytes.
 */
export function maybeGunzip(bytes: Uint8Array, what: string, options: GunzipOptions = {}): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_GUNZIP_BYTES;
  const expected = options.expectedSize?.(gunzipHead(bytes));
  if (expected !== undefined && expected > maxBytes) {
    throw new DataError(
      `${what} declares ${expected} bytes of data, more than the limit of ${maxBytes}`,
      'raise the limit (maxBytes) if you trust the file, or check that it is the file you meant',
    );
  }
  const cap = Math.max(1, Math.min(maxBytes, expected ?? maxBytes));
  try {
    return new Uint8Array(gunzipSync(bytes, { maxOutputLength: cap }));
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      const bound = expected !== undefined && expected <= maxBytes ? `the ${cap} bytes its header needs` : `the limit of ${cap} bytes`;
      throw new DataError(`${what} inflates to more than ${bound} (a decompression bomb?)`, 'delete the file and download it again, or raise maxBytes if you trust it', { cause: e });
    }
    throw new DataError(`${what} is not valid gzip data: ${e instanceof Error ? e.message : String(e)}`, 'the download may be incomplete: delete the file and try again', { cause: e });
  }
}
