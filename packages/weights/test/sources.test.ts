import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '@vitkit/core';
import {
  CheckpointKeysError,
  FetchError,
  loadCheckpoint,
  OfflineError,
  parseHubRef,
  readCheckpoint,
  serializeSafetensors,
  WeightsFormatError,
  type Progress,
  type RawTensors,
} from '../src/index.js';
import { bytesOf, differences, fixtureBytes, MICRO_HEADS, referenceTimm, serve, tempDir, type TestServer } from './helpers.js';

const reference = referenceTimm();
const hfBytes = fixtureBytes('vit-micro/hf.safetensors');
const hfConfig = fixtureBytes('vit-micro/hf-config.json');
const timmBytes = fixtureBytes('vit-micro/timm.safetensors');

/** Two shards of the timm reference and their index. */
function shardFiles(): Map<string, Uint8Array> {
  const names = [...reference.keys()];
  const half = Math.ceil(names.length / 2);
  const shards = [names.slice(0, half), names.slice(half)];
  const files = new Map<string, Uint8Array>();
  const weightMap: Record<string, string> = {};
  shards.forEach((keys, i) => {
    const file = `model-0000${i + 1}-of-00002.safetensors`;
    files.set(file, serializeSafetensors(new Map(keys.map((k) => [k, reference.get(k)!]))));
    for (const k of keys) weightMap[k] = file;
  });
  files.set('model.safetensors.index.json', new TextEncoder().encode(JSON.stringify({ metadata: { total_size: 96936 }, weight_map: weightMap })));
  return files;
}

function stateToRaw(state: Map<string, tf.Tensor>): RawTensors {
  return new Map([...state].map(([k, t]) => [k, { shape: [...t.shape], data: t.dataSync() as Float32Array }]));
}

let server: TestServer;
const savedEnv = { ...process.env };

beforeAll(async () => {
  await setupBackend('cpu');
  const files = new Map<string, Uint8Array>([
    ['/files/timm.safetensors', timmBytes],
    ['/org/micro/resolve/main/model.safetensors', hfBytes],
    ['/org/micro/resolve/main/config.json', hfConfig],
    ['/org/micro/resolve/v1/model.safetensors', hfBytes],
    ['/org/micro/resolve/v1/config.json', hfConfig],
    ['/org/micro/resolve/main/weights/jax.npz', fixtureBytes('vit-micro/jax.npz')],
  ]);
  for (const [name, bytes] of shardFiles()) files.set(`/org/sharded/resolve/main/${name}`, bytes);
  server = await serve(files);
});

afterAll(async () => {
  await server.close();
});

afterEach(() => {
  for (const k of ['VITKIT_HF_ENDPOINT', 'VITKIT_OFFLINE', 'VITKIT_CACHE', 'HF_TOKEN']) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

describe('http(s) URLs', () => {
  it('downloads with progress events and loads the tensors', async () => {
    const events: Progress[] = [];
    const loaded = await loadCheckpoint(`${server.url}/files/timm.safetensors`, { numHeads: MICRO_HEADS, cache: false, onProgress: (p) => events.push(p) });
    expect(differences(stateToRaw(loaded.state), reference)).toEqual([]);
    expect(events.length).toBeGreaterThan(3);
    expect(events.some((e) => e.loaded > 0 && e.loaded < timmBytes.length)).toBe(true);
    expect(events.every((e) => e.file === 'timm.safetensors' && e.total === timmBytes.length)).toBe(true);
    expect(events.at(-1)!.loaded).toBe(timmBytes.length);
    for (let i = 1; i < events.length; i++) expect(events[i]!.loaded).toBeGreaterThanOrEqual(events[i - 1]!.loaded);
    tf.dispose([...loaded.state.values()]);
  });

  it('a missing URL is a FetchError with the status', async () => {
    const e = await readCheckpoint(`${server.url}/files/nope.safetensors`, { cache: false }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(FetchError);
    expect((e as FetchError).status).toBe(404);
    expect((e as FetchError).message).toMatch(/nope\.safetensors.*404/);
  });

  it('an unreachable host is a FetchError, not a raw TypeError', async () => {
    await expect(readCheckpoint('http://127.0.0.1:9/x.safetensors', { cache: false })).rejects.toThrow(FetchError);
  });
});

describe('hf:// references', () => {
  it('parses org/repo, revision and file', () => {
    expect(parseHubRef('hf://org/micro')).toEqual({ repo: 'org/micro', revision: 'main', file: undefined });
    expect(parseHubRef('hf://org/micro@refs%2Fpr%2F1/a/b.npz')).toEqual({ repo: 'org/micro', revision: 'refs/pr/1', file: 'a/b.npz' });
    expect(() => parseHubRef('hf://org')).toThrow(/not a valid Hub reference/);
    expect(() => parseHubRef('hf://org/repo/../x')).toThrow(/not a valid Hub reference/);
  });

  it('resolves to <endpoint>/<org>/<repo>/resolve/<rev>/<file>, reads config.json, and caches', async () => {
    const cache = tempDir();
    const start = server.requests.length;
    const first = await loadCheckpoint('hf://org/micro', { endpoint: server.url, cache });
    expect(server.requests.slice(start)).toEqual(['/org/micro/resolve/main/config.json', '/org/micro/resolve/main/model.safetensors']);
    // numHeads and labels come from config.json: none were passed.
    expect(first.config.numHeads).toBe(MICRO_HEADS);
    expect(first.config.labels?.[9]).toBe('class_9');
    expect(first.convention).toBe('hf');
    expect(differences(stateToRaw(first.state), reference)).toEqual([]);
    expect(existsSync(join(cache, 'hf/org/micro/main/model.safetensors'))).toBe(true);

    const before = server.requests.length;
    const second = await loadCheckpoint('hf://org/micro', { endpoint: server.url, cache });
    expect(server.requests.length).toBe(before); // served from the cache: no request
    expect(differences(stateToRaw(second.state), reference)).toEqual([]);
    tf.dispose([...first.state.values(), ...second.state.values()]);
  });

  it('takes the endpoint and cache from VITKIT_HF_ENDPOINT / VITKIT_CACHE, and a revision', async () => {
    process.env.VITKIT_HF_ENDPOINT = server.url;
    process.env.VITKIT_CACHE = tempDir();
    const start = server.requests.length;
    const read = await readCheckpoint('hf://org/micro@v1');
    expect(server.requests.slice(start)).toEqual(['/org/micro/resolve/v1/config.json', '/org/micro/resolve/v1/model.safetensors']);
    expect(existsSync(join(process.env.VITKIT_CACHE, 'hf/org/micro/v1/model.safetensors'))).toBe(true);
    expect(read.tensors.size).toBe(40); // hf keeps query, key and value apart
  });

  it('loads a named file in a repo (an npz)', async () => {
    const loaded = await loadCheckpoint('hf://org/micro/weights/jax.npz', { endpoint: server.url, cache: false });
    expect(loaded.convention).toBe('jax');
    expect(differences(stateToRaw(loaded.state), reference)).toEqual([]);
    tf.dispose([...loaded.state.values()]);
  });

  it('offline mode fails naming the file missing from the cache', async () => {
    const cache = tempDir();
    await readCheckpoint('hf://org/micro', { endpoint: server.url, cache });
    rmSync(join(cache, 'hf/org/micro/main/model.safetensors'));
    const start = server.requests.length;
    const e = await readCheckpoint('hf://org/micro', { endpoint: server.url, cache, offline: true }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OfflineError);
    expect((e as OfflineError).file).toBe('model.safetensors');
    expect((e as OfflineError).message).toMatch(/offline mode: model\.safetensors is not in the cache/);
    expect(server.requests.length).toBe(start);
    // VITKIT_OFFLINE=1 does the same, and a fully cached repo still loads offline.
    process.env.VITKIT_OFFLINE = '1';
    await expect(readCheckpoint('hf://org/never', { endpoint: server.url, cache })).rejects.toThrow(/offline mode: config\.json is not in the cache/);
    await readCheckpoint('hf://org/micro', { endpoint: server.url, cache: tempDir(), offline: false });
    expect(server.requests.length).toBeGreaterThan(start);
  });

  it('a repo without weights is a clear error', async () => {
    await expect(readCheckpoint('hf://org/empty', { endpoint: server.url, cache: false })).rejects.toThrow(/model\.safetensors or model\.safetensors\.index\.json in hf:\/\/org\/empty@main not found/);
  });
});

describe('sharded checkpoints', () => {
  it('loads a 2-shard index from a directory, identical to the single file', async () => {
    const dir = tempDir();
    for (const [name, bytes] of shardFiles()) writeFileSync(join(dir, name), bytes);
    const read = await readCheckpoint(dir);
    expect(read.files.map((f) => f.split('/').pop())).toEqual(['model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
    expect(differences(read.tensors, reference)).toEqual([]);
  });

  it('loads a sharded hf:// repo (falls back to the index when model.safetensors is 404)', async () => {
    const start = server.requests.length;
    const loaded = await loadCheckpoint('hf://org/sharded', { endpoint: server.url, cache: false, numHeads: MICRO_HEADS });
    expect(server.requests.slice(start)).toEqual([
      '/org/sharded/resolve/main/config.json',
      '/org/sharded/resolve/main/model.safetensors',
      '/org/sharded/resolve/main/model.safetensors.index.json',
      '/org/sharded/resolve/main/model-00001-of-00002.safetensors',
      '/org/sharded/resolve/main/model-00002-of-00002.safetensors',
    ]);
    expect(differences(stateToRaw(loaded.state), reference)).toEqual([]);
    tf.dispose([...loaded.state.values()]);
  });

  it('an index that disagrees with its shards lists the differences', async () => {
    const dir = tempDir();
    const files = shardFiles();
    const index = JSON.parse(new TextDecoder().decode(files.get('model.safetensors.index.json'))) as { weight_map: Record<string, string> };
    index.weight_map['extra.weight'] = 'model-00001-of-00002.safetensors';
    delete index.weight_map['norm.bias'];
    files.set('model.safetensors.index.json', new TextEncoder().encode(JSON.stringify(index)));
    for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
    const e = await readCheckpoint(dir).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(CheckpointKeysError);
    expect((e as CheckpointKeysError).missing).toEqual(['extra.weight (in model-00001-of-00002.safetensors)']);
    expect((e as CheckpointKeysError).unexpected).toEqual(['norm.bias (in model-00002-of-00002.safetensors)']);
    const traversal = JSON.stringify({ weight_map: { a: '../../etc/passwd' } });
    writeFileSync(join(dir, 'model.safetensors.index.json'), traversal);
    await expect(readCheckpoint(dir)).rejects.toThrow(/invalid shard/);
  });
});

describe('other sources and dtypes', () => {
  it('F16 and BF16 files load close to the float32 reference', async () => {
    const dir = tempDir();
    for (const [dtype, tol] of [
      ['F16', 1e-3],
      ['BF16', 1e-2],
    ] as const) {
      const path = join(dir, `${dtype}.safetensors`);
      writeFileSync(path, serializeSafetensors(reference, { dtype }));
      const loaded = await loadCheckpoint(path, { numHeads: MICRO_HEADS });
      for (const [k, t] of loaded.state) {
        expect(t.dtype).toBe('float32');
        const got = t.dataSync();
        const want = reference.get(k)!.data;
        // Relative tolerance, with a 1e-7 floor for values in float16's subnormal range.
        let bad = 0;
        for (let i = 0; i < want.length; i++) if (Math.abs(got[i]! - want[i]!) > tol * Math.abs(want[i]!) + 1e-7) bad++;
        expect(bad, `${dtype} ${k}`).toBe(0);
      }
      tf.dispose([...loaded.state.values()]);
    }
  });

  it('reads Blob, ArrayBuffer and Uint8Array sources, telling npz from safetensors by magic', async () => {
    const blob = new Blob([timmBytes as Uint8Array<ArrayBuffer>]);
    const fromBlob = await readCheckpoint(blob);
    expect(differences(fromBlob.tensors, reference)).toEqual([]);
    const jax = fixtureBytes('vit-micro/jax.npz');
    const fromBuffer = await readCheckpoint(jax.buffer.slice(jax.byteOffset, jax.byteOffset + jax.byteLength) as ArrayBuffer);
    expect(fromBuffer.format).toBe('npz');
    expect(bytesOf(fromBuffer.tensors.get('cls')!.data).equals(bytesOf(reference.get('cls_token')!.data))).toBe(true);
    expect((await readCheckpoint(timmBytes)).format).toBe('safetensors');
  });

  it('uses a config.json beside a weights file', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'm'));
    writeFileSync(join(dir, 'm/model.safetensors'), hfBytes);
    writeFileSync(join(dir, 'm/config.json'), hfConfig);
    const loaded = await loadCheckpoint(join(dir, 'm/model.safetensors'));
    expect(loaded.config.numHeads).toBe(MICRO_HEADS);
    expect(loaded.config.labels).toHaveLength(10);
    tf.dispose([...loaded.state.values()]);
  });
});

describe('bounded, verified downloads', () => {
  let bad: TestServer;
  const moving = new Map<string, Uint8Array>();
  const etags = new Map<string, string>();
  let stalls = 0;

  beforeAll(async () => {
    moving.set('/org/moving/resolve/main/model.safetensors', timmBytes);
    moving.set('/org/broken/resolve/main/model.safetensors', timmBytes.slice(0, 4000));
    moving.set('/org/badsha/resolve/main/model.safetensors', timmBytes);
    etags.set('/org/moving/resolve/main/model.safetensors', 'a'.repeat(64));
    bad = await serve(moving, {
      headers: (path) => {
        if (path.startsWith('/org/badsha/')) return { 'x-linked-etag': `"${'0'.repeat(64)}"`, 'x-repo-commit': '1'.repeat(40) };
        const etag = etags.get(path);
        return etag ? { 'x-linked-etag': `"${etag}"`, 'x-repo-commit': etag.slice(0, 40) } : undefined;
      },
      custom: (path, res) => {
        if (path === '/stall.safetensors') {
          stalls++;
          res.writeHead(200, { 'content-length': String(timmBytes.length) });
          res.write(timmBytes.subarray(0, 100)); // ... and nothing more
          return true;
        }
        if (path === '/chunked.safetensors') {
          res.writeHead(200, { 'content-type': 'application/octet-stream' }); // no length: chunked
          res.end(new Uint8Array(2 * 2 ** 20));
          return true;
        }
        if (path === '/huge.safetensors') {
          res.writeHead(200, { 'content-length': String(2 ** 40) });
          res.write(new Uint8Array(10));
          return true;
        }
        if (path === '/bomb.safetensors') {
          const body = gzipSync(new Uint8Array(64 * 2 ** 20));
          res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': String(body.length) });
          res.end(body);
          return true;
        }
        return false;
      },
    });
  });
  afterAll(async () => {
    await bad.close();
  });

  it('a server that stops sending is given up on after the idle timeout, not waited on for minutes', async () => {
    const start = performance.now();
    const e = await readCheckpoint(`${bad.url}/stall.safetensors`, { cache: false, idleTimeoutMs: 300 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(FetchError);
    expect((e as FetchError).message).toMatch(/stall\.safetensors stalled: no data for 0\.3 s/);
    expect(performance.now() - start).toBeLessThan(3000);
    expect(stalls).toBe(1);
  }, 10_000);

  it('a body without a declared size is capped by maxBytes; a declared size above it is refused before reading', async () => {
    const chunked = await readCheckpoint(`${bad.url}/chunked.safetensors`, { cache: false, maxBytes: 2 ** 20 }).catch((x: unknown) => x);
    expect(chunked).toBeInstanceOf(FetchError);
    expect((chunked as FetchError).message).toMatch(/sent more than the download limit of 1048576 bytes/);
    const huge = await readCheckpoint(`${bad.url}/huge.safetensors`, { cache: false }).catch((x: unknown) => x);
    expect(huge).toBeInstanceOf(FetchError);
    expect((huge as FetchError).message).toMatch(/is 1099511627776 bytes, more than the download limit of 4294967296/);
  }, 10_000);

  it('a gzip-encoded body is counted as it is decoded: a 64 MiB bomb stops at maxBytes', async () => {
    const e = await readCheckpoint(`${bad.url}/bomb.safetensors`, { cache: false, maxBytes: 2 ** 20 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(FetchError);
    expect((e as FetchError).message).toMatch(/more than the download limit of 1048576 bytes once decompressed/);
  }, 10_000);

  it('a file that does not parse never enters the cache; a sha256 that does not match is refused', async () => {
    const cache = tempDir();
    await expect(readCheckpoint('hf://org/broken', { endpoint: bad.url, cache })).rejects.toThrow(WeightsFormatError);
    expect(existsSync(join(cache, 'hf/org/broken/main/model.safetensors'))).toBe(false);
    const e = await readCheckpoint('hf://org/badsha', { endpoint: bad.url, cache }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(FetchError);
    expect((e as FetchError).message).toMatch(/is corrupt: sha256 [0-9a-f]{12}\.\.\. differs/);
    expect(existsSync(join(cache, 'hf/org/badsha/main/model.safetensors'))).toBe(false);
  });

  it('a corrupt cached file is evicted and downloaded again', async () => {
    const cache = tempDir();
    await readCheckpoint('hf://org/micro', { endpoint: server.url, cache });
    const cached = join(cache, 'hf/org/micro/main/model.safetensors');
    writeFileSync(cached, readFileSync(cached).subarray(0, 5000));
    const before = server.requests.length;
    const read = await readCheckpoint('hf://org/micro', { endpoint: server.url, cache });
    expect(server.requests.slice(before)).toEqual(['/org/micro/resolve/main/model.safetensors']);
    expect(read.tensors.size).toBe(40);
    expect(readFileSync(cached).length).toBe(hfBytes.length);
  });

  it('hf://org/repo at a branch revalidates against the Hub: a moved branch is fetched again, an unchanged one is not', async () => {
    const cache = tempDir();
    const path = '/org/moving/resolve/main/model.safetensors';
    etags.set(path, createHash('sha256').update(timmBytes).digest('hex'));
    const first = await readCheckpoint('hf://org/moving', { endpoint: bad.url, cache });
    expect(differences(first.tensors, reference)).toEqual([]);
    let gets = bad.requests.length;
    await readCheckpoint('hf://org/moving', { endpoint: bad.url, cache });
    expect(bad.requests.length).toBe(gets); // unchanged: HEAD only
    expect(bad.heads).toContain(path);

    // The branch moves to a checkpoint with one tensor changed.
    const changed = new Map(reference);
    changed.set('cls_token', { shape: reference.get('cls_token')!.shape, data: new Float32Array(reference.get('cls_token')!.data.length).fill(0.5) });
    const next = serializeSafetensors(changed);
    moving.set(path, next);
    etags.set(path, createHash('sha256').update(next).digest('hex'));
    gets = bad.requests.length;
    const second = await readCheckpoint('hf://org/moving', { endpoint: bad.url, cache });
    expect(bad.requests.slice(gets)).toEqual([path]); // config.json's 404 is remembered, and the Hub confirms it
    expect(second.tensors.get('cls_token')!.data[0]).toBe(0.5);

    // Offline, or with the Hub unreachable, the cache is served (with a note when the Hub could not be asked).
    const offline = await readCheckpoint('hf://org/moving', { endpoint: bad.url, cache, offline: true });
    expect(offline.tensors.get('cls_token')!.data[0]).toBe(0.5);
    const notes: string[] = [];
    const unreachable = await readCheckpoint('hf://org/moving', { endpoint: 'http://127.0.0.1:9', cache, onNote: (n) => notes.push(n) });
    expect(unreachable.tensors.get('cls_token')!.data[0]).toBe(0.5);
    expect(notes.some((n) => /could not ask .* whether model\.safetensors changed; using the cached copy/.test(n))).toBe(true);
  });
});

