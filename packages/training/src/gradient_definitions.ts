import * as tf from '@tensorflow/tfjs-core';
import { GradientsUnavailableError } from './errors.js';

/** True once the gradient of a common kernel (MatMul's BatchMatMul) is registered. */
export function gradientsRegistered(): boolean {
  return tf.getGradient('BatchMatMul') !== undefined && tf.getGradient('Erf') !== undefined;
}

/**
 * Imports tfjs-core's gradient definitions (a side-effect module that
 * tfjs-core's entry points do not load) and checks that they registered.
 * The specifier is a literal so that bundlers (Vite, webpack, esbuild) find
 * the module and put it in a chunk of its own; in Node the caller installs a
 * resolve hook first (see register_gradients.ts).
 */
export async function importGradientDefinitions(): Promise<void> {
  if (gradientsRegistered()) return;
  try {
    await import('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  } catch (e) {
    throw new GradientsUnavailableError(
      `could not load tfjs gradient definitions: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`,
      'make sure @tensorflow/tfjs-core 4.x is installed next to @vitkit/training',
      { cause: e },
    );
  }
  if (!gradientsRegistered()) {
    throw new GradientsUnavailableError(
      'tfjs gradient definitions loaded but did not register',
      'check that only one major version of @tensorflow/tfjs-core is installed',
    );
  }
}

/** Runs `load` once; concurrent and later calls share its promise, and a failure lets the next call try again. */
export function once(load: () => Promise<void>): () => Promise<void> {
  let pending: Promise<void> | undefined;
  return () => {
    pending ??= load().catch((e: unknown) => {
      pending = undefined;
      throw e;
    });
    return pending;
  };
}
