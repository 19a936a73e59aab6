import { parentPort, workerData } from 'node:worker_threads';
import { isVitkitError } from '@vitkit/core';
import { hashSeed, mutateBytes, rng } from './mutate.js';
import { SLOT, type WorkerInput, type WorkerMessage } from './protocol.js';
import { TARGETS } from './targets.js';

async function main(input: WorkerInput): Promise<void> {
  const target = TARGETS.find((t) => t.name === input.target);
  if (!target) throw new Error(`no fuzz target "${input.target}"`);
  await target.init?.();
  const seeds = target.seeds();
  const progress = new Int32Array(input.progress);
  const codes: Record<string, number> = {};
  let slowest = { index: -1, ms: 0 };
  const post = (m: WorkerMessage) => parentPort!.postMessage(m);
  for (let i = input.from; i < input.to; i++) {
    const r = rng(hashSeed(input.seed, target.name, i));
    const s = seeds[Math.floor(r() * seeds.length)]!;
    const { bytes, how } = i % 50 === 0 ? { bytes: s, how: 'seed unchanged' } : (target.mutate ?? mutateBytes)(s, r);
    post({ kind: 'case', index: i, how });
    Atomics.store(progress, SLOT.current, i);
    const start = performance.now();
    try {
      await target.run(bytes);
      Atomics.add(progress, SLOT.ok, 1);
    } catch (e) {
      if (isVitkitError(e)) {
        Atomics.add(progress, SLOT.typed, 1);
        const code = (e as { code: string }).code;
        codes[code] = (codes[code] ?? 0) + 1;
      } else {
        const error = e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]} @ ${(e.stack ?? '').split('\n').slice(1, 3).map((l) => l.trim()).join(' < ')}` : String(e);
        post({ kind: 'failure', failure: { index: i, kind: 'untyped', how, error: error.slice(0, 400) } });
      }
    }
    const ms = performance.now() - start;
    if (ms > slowest.ms) slowest = { index: i, ms };
    Atomics.add(progress, SLOT.done, 1);
  }
  post({ kind: 'codes', codes, slowest });
}

await main(workerData as WorkerInput);
