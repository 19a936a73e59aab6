/**
 * Makes the wasm backend's threads work in a minified bundle.
 *
 * tfjs-backend-wasm starts its pthread workers from a Blob holding
 * `"var WasmBackendModuleThreadedSimd = " + factory.toString()`. Once a
 * bundler has minified the emscripten glue, that function's text refers to
 * renamed variables of its enclosing module, so every pthread worker dies
 * with "ReferenceError: e is not defined" and the backend never starts.
 * Giving the factory a toString() that returns the original glue (wrapped to
 * evaluate to the factory) restores what the unbundled package does.
 */
export function keepThreadedFactorySource(glueModule: unknown, glueSource: string): void {
  const factory = (glueModule as { default?: unknown }).default ?? glueModule;
  if (typeof factory !== 'function') return;
  const standalone = `(function () {\n${glueSource}\nreturn WasmBackendModuleThreadedSimd;\n})()`;
  Object.defineProperty(factory, 'toString', { value: () => standalone, configurable: true });
}
