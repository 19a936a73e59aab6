import * as tf from '@tensorflow/tfjs-core';
import { GradientsUnavailableError } from './errors.js';

/**
 * tfjs-core ships gradient definitions in a side-effect module that its Node
 * build does not load, so `tf.grads` fails for most ops unless someone
 * imports `@tensorflow/tfjs-core/dist/register_all_gradients.js`. That file
 * is an ES module whose own relative imports have no extension, which Node's
 * ESM loader refuses. A small resolve hook retries those specifiers (only
 * from inside tfjs-core/dist) with `.js` and `/index.js` appended. The ESM
 * copy of tfjs-core it loads keeps its registries and engine on globalThis,
 * so the gradients land in the same engine the rest of the program uses.
 */
const RESOLVE_HOOK = `
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    const parent = context.parentURL ?? '';
    const relative = specifier.startsWith('./') || specifier.startsWith('../');
    if (!relative || !parent.includes('/tfjs-core/dist/')) throw error;
    for (const suffix of ['.js', '/index.js']) {
      try {
        return await next(specifier + suffix, context);
      } catch {
        // try the next suffix
      }
    }
    throw error;
  }
}
`;

let pending: Promise<void> | undefined;

/** True once the gradient of a common kernel (MatMul's BatchMatMul) is registered. */
export function gradientsRegistered(): boolean {
  return tf.getGradient('BatchMatMul') !== undefined && tf.getGradient('Erf') !== undefined;
}

const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;

// Hidden from bundlers: only ever resolved at run time, in Node.
const dynamicImport = (specifier: string): Promise<unknown> => import(/* @vite-ignore */ specifier);

async function load(): Promise<void> {
  if (gradientsRegistered()) return;
  if (isNode) {
    const nodeModule = (await dynamicImport('node:module')) as typeof import('node:module');
    if (typeof nodeModule.register !== 'function') {
      throw new GradientsUnavailableError(
        `this Node (${process.versions.node}) has no module.register()`,
        'use Node 20.6 or newer',
      );
    }
    nodeModule.register(`data:text/javascript,${encodeURIComponent(RESOLVE_HOOK)}`);
  }
  try {
    // A literal specifier, so bundlers can resolve it for the browser (where no hook is needed).
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

/**
 * Registers tfjs-core's gradient definitions so that `tf.grads`,
 * `tf.variableGrads` and training work. Idempotent and safe to call
 * concurrently; takes about half a second the first time.
 */
export function registerGradients(): Promise<void> {
  if (!pending) {
    pending = load().catch((e: unknown) => {
      pending = undefined;
      throw e;
    });
  }
  return pending;
}
