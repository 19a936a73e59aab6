import { defaultClientConditions, defineConfig } from 'vite';

/**
 * Cross-origin isolation (COOP + COEP) unlocks SharedArrayBuffer, which the
 * wasm backend needs for its threads. Every server that hosts the app must
 * send these two headers; `vite dev` and `vite preview` do so here.
 */
export const CROSS_ORIGIN_ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  // Relative asset paths, so dist/ can be hosted under any path.
  base: './',
  resolve: {
    // Workspace packages resolve to their TypeScript sources: no build of the libraries needed.
    conditions: ['@vitkit/source', ...defaultClientConditions],
  },
  worker: {
    // The inference worker loads backends with dynamic import(), which needs ES module workers.
    format: 'es',
    rolldownOptions: {
      output: {
        // One named chunk per backend: the page downloads only the backend it uses, and the names say which is which.
        codeSplitting: {
          // Only the backend's own modules: shared tfjs-core code must not be pulled into (say) the webgpu chunk.
          includeDependenciesRecursively: false,
          groups: ['webgpu', 'webgl', 'wasm', 'cpu'].map((name) => ({
            name: `tfjs-backend-${name}`,
            // Not the `?url` imports of the wasm files: the worker imports those statically, and
            // grouping them would make it import the backend chunk (a cycle that breaks at run time).
            test: new RegExp(`@tensorflow[\\\\/]tfjs-backend-${name}[\\\\/][^?]*$`),
          })),
        },
      },
    },
  },
  build: {
    target: 'es2022',
    // The tfjs backends are large; they are split into their own chunks and loaded on demand.
    chunkSizeWarningLimit: 2048,
  },
  optimizeDeps: {
    // Found only once the worker runs; listed so that `vite dev` does not reload the page on first use.
    include: [
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-backend-cpu',
      '@tensorflow/tfjs-backend-wasm',
      '@tensorflow/tfjs-backend-webgl',
      '@tensorflow/tfjs-backend-webgpu',
      '@vitkit/preprocessing > fast-png',
      '@vitkit/preprocessing > jpeg-js',
      '@vitkit/preprocessing > omggif',
    ],
  },
  server: { headers: CROSS_ORIGIN_ISOLATION },
  preview: { headers: CROSS_ORIGIN_ISOLATION },
});
