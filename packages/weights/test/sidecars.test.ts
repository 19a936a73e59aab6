// Sidecar JSON files (preprocessor_config.json, config.json) read from where the weights are.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../src/index.js';
import { fixtureBytes, serve, tempDir, type TestServer } from './helpers.js';

const weights = fixtureBytes('vit-micro/hf.safetensors');
const config = fixtureBytes('vit-micro/hf-config.json');
const pre = new TextEncoder().encode(JSON.stringify({ do_resize: true, size: { height: 32, width: 32 } }));
let server: TestServer;

beforeAll(async () => {
  server = await serve(
    new Map([
      ['/org/m/resolve/main/model.safetensors', weights],
      ['/org/m/resolve/main/config.json', config],
      ['/org/m/resolve/main/preprocessor_config.json', pre],
      ['/files/model.safetensors', weights],
      ['/files/config.json', config],
      ['/files/preprocessor_config.json', pre],
    ]),
  );
});
afterAll(async () => {
  await server.close();
});

describe('sidecars', () => {
  it('hf://: asked-for files come parsed with config.json; nothing more is requested unless asked', async () => {
    const plain = await readCheckpoint('hf://org/m', { endpoint: server.url, cache: false });
    expect(Object.keys(plain.sidecars ?? {})).toEqual(['config.json']);
    expect(server.requests.some((p) => p.endsWith('preprocessor_config.json'))).toBe(false);
    const withPre = await readCheckpoint('hf://org/m', { endpoint: server.url, cache: false, sidecars: ['preprocessor_config.json', 'missing.json'] });
    expect(withPre.sidecars?.['preprocessor_config.json']).toMatchObject({ size: { height: 32 } });
    expect(withPre.sidecars?.['config.json']).toMatchObject({ model_type: 'vit' });
    expect('missing.json' in (withPre.sidecars ?? {})).toBe(false);
  });

  it('a URL: config.json and the rest beside it only when asked; the config then describes the weights', async () => {
    const before = server.requests.length;
    const plain = await readCheckpoint(`${server.url}/files/model.safetensors`, { cache: false });
    expect(plain.fileConfig).toBeUndefined();
    expect(server.requests.length - before).toBe(1);
    const asked = await readCheckpoint(`${server.url}/files/model.safetensors`, { cache: false, sidecars: ['config.json', 'preprocessor_config.json'] });
    expect(asked.fileConfig?.numHeads).toBe(4);
    expect(Object.keys(asked.sidecars ?? {}).sort()).toEqual(['config.json', 'preprocessor_config.json']);
  });

  it('a local directory and a file with the JSON files beside it', async () => {
    const dir = join(tempDir(), 'model');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'model.safetensors'), weights);
    writeFileSync(join(dir, 'config.json'), config);
    writeFileSync(join(dir, 'preprocessor_config.json'), pre);
    for (const source of [dir, join(dir, 'model.safetensors')]) {
      const read = await readCheckpoint(source, { sidecars: ['preprocessor_config.json'] });
      expect(Object.keys(read.sidecars ?? {}).sort(), source).toEqual(['config.json', 'preprocessor_config.json']);
    }
  });
});
