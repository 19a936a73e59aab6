import { describe, expect, it } from 'vitest';
import { WASM_FILES, assetUrl } from '../src/backends/wasm/threads.js';

describe('wasm asset URLs for browsers', () => {
  it('takes a file URL over the base folder, and joins the base with or without a trailing slash', () => {
    const base = 'https://cdn.example/npm/@tensorflow/tfjs-backend-wasm@4.22.0/wasm-out';
    expect(assetUrl({ base }, WASM_FILES.glue)).toBe(`${base}/tfjs-backend-wasm-threaded-simd.js`);
    expect(assetUrl({ base: `${base}/` }, WASM_FILES.threadedSimd)).toBe(`${base}/tfjs-backend-wasm-threaded-simd.wasm`);
    expect(assetUrl({ base, files: { [WASM_FILES.worker]: 'https://app.example/assets/w-123.js' } }, WASM_FILES.worker)).toBe(
      'https://app.example/assets/w-123.js',
    );
  });

  it('says nothing for a file it was not told about', () => {
    expect(assetUrl(undefined, WASM_FILES.glue)).toBeUndefined();
    expect(assetUrl({ files: { [WASM_FILES.simd]: 'https://app.example/simd.wasm' } }, WASM_FILES.glue)).toBeUndefined();
  });
});
