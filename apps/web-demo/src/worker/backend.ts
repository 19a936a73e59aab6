import { setupBackend, type BackendLoader, type BackendName, type WasmAssets } from '@vitkit/core';
import glueUrl from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js?url';
import workerUrl from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js?url';
import threadedWasmUrl from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.wasm?url';
import simdWasmUrl from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-simd.wasm?url';
import plainWasmUrl from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm.wasm?url';
import type { BackendInfo, BackendPick } from './protocol.js';

/**
 * Static import() calls, so that Vite bundles each backend as its own chunk
 * and the page downloads only the one it uses.
 */
const LOADERS: Partial<Record<BackendName, BackendLoader>> = {
  webgpu: () => import('@tensorflow/tfjs-backend-webgpu'),
  webgl: () => import('@tensorflow/tfjs-backend-webgl'),
  wasm: () => import('@tensorflow/tfjs-backend-wasm'),
  cpu: () => import('@tensorflow/tfjs-backend-cpu'),
};

/**
 * tfjs-backend-wasm's files, emitted into the build by Vite (the ?url
 * imports above). vitkit's setupBackend loads the threaded build from them
 * with every core (tfjs alone takes half) and keeps the pthread workers
 * working in this minified bundle.
 */
const WASM_ASSETS: WasmAssets = {
  files: {
    'tfjs-backend-wasm-threaded-simd.js': glueUrl,
    'tfjs-backend-wasm-threaded-simd.worker.js': workerUrl,
    'tfjs-backend-wasm-threaded-simd.wasm': threadedWasmUrl,
    'tfjs-backend-wasm-simd.wasm': simdWasmUrl,
    'tfjs-backend-wasm.wasm': plainWasmUrl,
  },
};

/** Sets up the chosen tfjs backend in this worker and says what it got. */
export async function initBackend(pick: BackendPick): Promise<BackendInfo> {
  const setup = await setupBackend(pick, { loaders: LOADERS, wasmAssets: WASM_ASSETS });
  const info: BackendInfo = {
    name: setup.name,
    // `tensorflow` (tfjs-node) never exists in a browser; listing it would only be noise.
    skipped: setup.skipped.filter((s) => s.name !== 'tensorflow'),
  };
  if (setup.name === 'wasm') {
    const threads = `${setup.threads} thread${setup.threads === 1 ? '' : 's'}${setup.simd ? ', SIMD' : ''}`;
    info.detail = setup.notes.length ? `${threads}; ${setup.notes.join('; ')}` : threads;
  }
  return info;
}
