// Entry point of a gradient worker thread (started by GradientWorkerPool):
// sets up its own tfjs backend and a replica of the model, then answers
// shard requests with the shard's loss and gradients.
import { parentPort, workerData } from 'node:worker_threads';
import { setupBackend, type BackendName, type ViTConfig } from '@vitkit/core';
import { VisionTransformer } from '@vitkit/vit';
import { registerGradients } from '../register_gradients.js';
import { computeShard, type ShardRequest } from './shard.js';

export interface GradientWorkerData {
  backend: BackendName;
  threads: number;
  config: ViTConfig;
}

export type WorkerMessage = { type: 'ready' } | { type: 'result'; loss: number; grads: Record<string, Float32Array> } | { type: 'error'; message: string };

const port = parentPort!;
const data = workerData as GradientWorkerData;
const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e));

try {
  await setupBackend(data.backend, { wasmThreads: data.threads });
  await registerGradients();
  const model = new VisionTransformer(data.config, { seed: 0 });
  port.on('message', (request: ShardRequest) => {
    let reply: WorkerMessage;
    try {
      const r = computeShard(model, request);
      reply = { type: 'result', loss: r.loss, grads: r.grads };
    } catch (e) {
      port.postMessage({ type: 'error', message: describe(e) } satisfies WorkerMessage);
      return;
    }
    port.postMessage(reply, Object.values(reply.grads).map((g) => g.buffer as ArrayBuffer));
  });
  port.on('messageerror', (e) => port.postMessage({ type: 'error', message: `could not read the request: ${e.message}` } satisfies WorkerMessage));
  port.postMessage({ type: 'ready' } satisfies WorkerMessage);
} catch (e) {
  port.postMessage({ type: 'error', message: `could not start: ${describe(e)}` } satisfies WorkerMessage);
}
