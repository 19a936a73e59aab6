import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { BackendUnavailableError, ConfigError, setupBackend } from '../src/index.js';

describe('setupBackend', () => {
  it('sets up cpu and wasm by name', async () => {
    expect((await setupBackend('cpu')).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect((await setupBackend('wasm')).name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('auto falls back past unavailable backends and says why', async () => {
    const skipped: string[] = [];
    const result = await setupBackend('auto', { onSkip: (name) => skipped.push(name) });
    // No tfjs-node and no browser here: tensorflow, webgpu and webgl are skipped, wasm is picked.
    expect(result.name).toBe('wasm');
    expect(skipped).toEqual(['tensorflow', 'webgpu', 'webgl']);
    expect(result.skipped.find((s) => s.name === 'webgpu')!.reason).toMatch(/navigator\.gpu/);
  });

  it('an explicit backend that is missing fails with how to get it', async () => {
    await expect(setupBackend('tensorflow')).rejects.toThrow(BackendUnavailableError);
    await expect(setupBackend('tensorflow')).rejects.toThrow(/install @tensorflow\/tfjs-node/);
    await expect(setupBackend('webgl')).rejects.toThrow(/not a browser/);
  });

  it('rejects unknown names', async () => {
    await expect(setupBackend('cuda' as never)).rejects.toThrow(ConfigError);
  });
});
