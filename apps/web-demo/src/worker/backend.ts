import { setupBackend, type BackendLoader, type BackendName } from '@vitkit/core';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { BackendInfo, BackendPick } from './protocol.js';
import { keepThreadedFactorySource } from './wasm_threads.js';

/** Absolute URL of a bundled asset (emscripten resolves relative ones against the wrong base). */
const absolute = (url: string): string => new URL(url, self.location.href).href;

/**
 * Static import() calls, so that Vite bundles each backend as its own chunk
 * and the page downloads only the one it uses.
 */
const LOADERS: Partial<Record<BackendName, BackendLoader>> = {
  webgpu: () => import('@tensorflow/tfjs-backend-webgpu'),
  webgl: () => import('@tensorflow/tfjs-backend-webgl'),
  wasm: async () => {
    const [wasm, glue, glueSource] = await Promise.all([
      import('@tensorflow/tfjs-backend-wasm'),
      import('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js'),
      import('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js?raw'),
    ]);
    keepThreadedFactorySource(glue, glueSource.default);
    // Threads: tfjs uses half of navigator.hardwareConcurrency (at most 8), so a 2-core machine gets 1.
    // The .wasm binaries are emitted into the build by Vite (the ?url imports above).
    wasm.setWasmPaths({
      'tfjs-backend-wasm.wasm': absolute(wasmPlainUrl),
      'tfjs-backend-wasm-simd.wasm': absolute(wasmSimdUrl),
      'tfjs-backend-wasm-threaded-simd.wasm': absolute(wasmThreadedUrl),
    });
  },
  cpu: () => import('@tensorflow/tfjs-backend-cpu'),
};

/** Sets up the chosen tfjs backend in this worker and says what it got. */
export async function initBackend(pick: BackendPick): Promise<BackendInfo> {
  const setup = await setupBackend(pick, { loaders: LOADERS });
  const info: BackendInfo = {
    name: setup.name,
    // `tensorflow` (tfjs-node) never exists in a browser; listing it would only be noise.
    skipped: setup.skipped.filter((s) => s.name !== 'tensorflow'),
  };
  if (setup.name === 'wasm') info.detail = await wasmDetail();
  return info;
}

async function wasmDetail(): Promise<string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const tf = await import('@tensorflow/tfjs-core');
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  const threads = wasm.getThreadsCount();
  return `${threads} thread${threads === 1 ? '' : 's'}${simd ? ', SIMD' : ''}${self.crossOriginIsolated ? '' : ' (page is not cross-origin isolated)'}`;
}
