import { Unzlib } from 'fflate';

/**
 * Bounded zlib inflate, the same in Node and browsers (fflate, pure JS and
 * synchronous). Input is pushed in small pieces so that no single step can
 * expand by more than about 1032 x PIECE bytes (deflate's maximum ratio)
 * before the running count is checked: memory stays near `limit` whatever
 * the stream claims.
 */
const PIECE = 4096;

export type InflateOutcome = { kind: 'ok'; size: number } | { kind: 'over'; size: number } | { kind: 'error'; size: number; message: string };

class Over extends Error {}

/**
 * Counts the bytes a zlib stream (given as consecutive pieces, e.g. PNG IDAT
 * chunks) inflates to, without keeping them, and stops as soon as the count
 * passes `limit`: 'over'. A damaged stream answers 'error'.
 */
export function zlibSizeWithin(pieces: readonly Uint8Array[], limit: number): InflateOutcome {
  let size = 0;
  const inflater = new Unzlib((chunk) => {
    size += chunk.length;
    if (size > limit) throw new Over();
  });
  try {
    for (const piece of pieces) {
      for (let at = 0; at < piece.length; at += PIECE) inflater.push(piece.subarray(at, Math.min(piece.length, at + PIECE)), false);
    }
    inflater.push(new Uint8Array(0), true);
    return { kind: 'ok', size };
  } catch (e) {
    if (e instanceof Over) return { kind: 'over', size };
    return { kind: 'error', size, message: e instanceof Error ? e.message : String(e) };
  }
}
