import { GradientsUnavailableError } from './errors.js';
import { gradientsRegistered, importGradientDefinitions, once } from './gradient_definitions.js';

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

export { gradientsRegistered };

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
  await importGradientDefinitions();
}

/**
 * Registers tfjs-core's gradient definitions so that `tf.grads`,
 * `tf.variableGrads` and training work. Idempotent and safe to call
 * concurrently; takes about half a second the first time.
 */
export const registerGradients: () => Promise<void> = once(load);
