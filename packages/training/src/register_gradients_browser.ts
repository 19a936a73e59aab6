import { importGradientDefinitions, once } from './gradient_definitions.js';

/**
 * Registers tfjs-core's gradient definitions so that `tf.grads`,
 * `tf.variableGrads` and training work. The browser build: the bundler
 * resolves the definitions' module, so no loader hook is needed. Idempotent
 * and safe to call concurrently.
 */
export const registerGradients: () => Promise<void> = once(importGradientDefinitions);
