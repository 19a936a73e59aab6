import wabtInit from 'wabt';

/** WebAssembly text (SIMD and threads, for shared memory imports, enabled) to validated module bytes. */
export async function compileWat(name, text) {
  const wabt = await wabtInit();
  const features = { simd: true, threads: true };
  const module = wabt.parseWat(name, text, features);
  try {
    module.validate(features);
    return module.toBinary({}).buffer;
  } finally {
    module.destroy();
  }
}

/**
 * The module texts a .wat builds: itself, and for a file marked
 * `;; variants: shared`, a second one whose imported memory is shared (as the
 * threaded tfjs-backend-wasm's is; an imported memory must match exactly).
 * Returns [suffix, text] pairs: '' and, when marked, '_shared'.
 */
export function watVariants(text) {
  if (!/^;; variants: shared$/m.test(text)) return [['', text]];
  // A shared memory must state its maximum: 65536 pages (4 GiB), tfjs's.
  const shared = text.replace('(memory 1))', '(memory 1 65536 shared))');
  if (shared === text) throw new Error('a `variants: shared` module must import (memory 1)');
  return [['', text], ['_shared', shared]];
}
