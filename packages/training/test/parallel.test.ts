import * as tf from '@tensorflow/tfjs-core';
import { resolveConfig, Rng } from '@vitkit/core';
import { VisionTransformer } from '@vitkit/vit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  combineShardGradients,
  computeShard,
  GradientWorkerPool,
  lossAndGradients,
  modelWeights,
  shardSizes,
  Trainer,
  TrainingConfigError,
  WorkerError,
  type ImageDataset,
  type ShardRequest,
  type ShardResult,
  type ShardWorkers,
  type TrainerOptions,
} from '../src/index.js';
import { shardBatchOf } from '../src/parallel/shard.js';
import { maxAbsDiff, maxArrayDiff, smallSubsetSplits } from './helpers.js';

let data: ImageDataset;
beforeAll(async () => {
  ({ train: data } = await smallSubsetSplits(192, 10));
});

const CONFIG = resolveConfig({ imageSize: 28, patchSize: 7, inChannels: 1, embedDim: 16, depth: 2, numHeads: 2, mlpDim: 32, numClasses: 10 });
const tinyModel = (seed = 1): VisionTransformer => new VisionTransformer(CONFIG, { seed });

/** Shard workers that compute on a second replica in this thread: the Trainer's side of data parallelism, without threads. */
class InProcessWorkers implements ShardWorkers {
  readonly replicas: VisionTransformer[];
  requests = 0;
  constructor(readonly count: number) {
    this.replicas = Array.from({ length: count }, (_, i) => tinyModel(100 + i));
  }
  compute(worker: number, request: ShardRequest): Promise<ShardResult> {
    this.requests += 1;
    return Promise.resolve(computeShard(this.replicas[worker]!, request));
  }
  dispose(): void {
    for (const r of this.replicas) r.dispose();
  }
}

const OPTIONS: TrainerOptions = { batchSize: 32, epochs: 1, lr: 3e-3, warmup: 2, labelSmoothing: 0.1, clipGrad: 1, seed: 3 };

function maxWeightDiff(a: VisionTransformer, b: VisionTransformer): number {
  const wa = modelWeights(a);
  const wb = modelWeights(b);
  return Math.max(...Object.entries(wa).map(([name, v]) => maxArrayDiff(v, wb[name]!)));
}

describe('shardSizes', () => {
  it('cuts n into near-equal contiguous parts, larger ones first', () => {
    expect(shardSizes(128, 2)).toEqual([64, 64]);
    expect(shardSizes(10, 3)).toEqual([4, 3, 3]);
    expect(shardSizes(5, 5)).toEqual([1, 1, 1, 1, 1]);
  });
});

describe('combineShardGradients', () => {
  it('weighted shard gradients equal the gradient of the whole batch (to 1e-5)', () => {
    const model = tinyModel();
    const x = tf.randomNormal([12, 28, 28, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
    const y = tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1], 'int32');
    const whole = lossAndGradients(model, [{ x, targets: y }], { labelSmoothing: 0.1 });
    // Shards of 7 and 5 images: unequal, so the weights matter.
    const [xa, xb] = tf.split(x, [7, 5], 0) as tf.Tensor4D[];
    const [ya, yb] = tf.split(y, [7, 5], 0) as tf.Tensor1D[];
    const replica = tinyModel(9);
    const before = tf.memory().numTensors;
    const own = lossAndGradients(model, [{ x: xa!, targets: ya! }], { labelSmoothing: 0.1 });
    const other = computeShard(replica, { params: modelWeights(model), batches: [shardBatchOf({ x: xb!, targets: yb! })], labelSmoothing: 0.1, seed: 0 });
    const combined = combineShardGradients(model, own.grads, [other], [7 / 12, 5 / 12]);
    expect(Math.abs((7 / 12) * own.loss + (5 / 12) * other.loss - whole.loss)).toBeLessThan(1e-5);
    expect(Object.keys(combined).sort()).toEqual(Object.keys(whole.grads).sort());
    for (const [name, g] of Object.entries(whole.grads)) {
      expect(maxAbsDiff(g, combined[name]!), name).toBeLessThan(1e-5);
    }
    tf.dispose(Object.values(combined));
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, y, xa!, xb!, ya!, yb!, ...Object.values(whole.grads)]);
    model.dispose();
    replica.dispose();
  });
});

describe('Trainer with shard workers', () => {
  it('takes the same steps as one thread: losses and weights agree to 1e-5', async () => {
    const single = tinyModel();
    const parallel = tinyModel();
    const workers = new InProcessWorkers(2);
    const a = new Trainer(single, data, OPTIONS);
    const b = new Trainer(parallel, data, { ...OPTIONS, workers });
    for (let i = 0; i < 4; i++) {
      const ra = a.trainStep();
      const rb = await b.trainStepAsync();
      expect(Math.abs(ra.loss - rb.loss)).toBeLessThan(1e-5);
      expect(Math.abs(ra.gradNorm - rb.gradNorm)).toBeLessThan(1e-4);
    }
    expect(workers.requests).toBe(8);
    expect(maxWeightDiff(single, parallel)).toBeLessThan(1e-5);
    a.dispose();
    b.dispose();
    single.dispose();
    parallel.dispose();
    workers.dispose();
  });

  it('keeps the tensor count flat over parallel steps', async () => {
    const model = tinyModel();
    const workers = new InProcessWorkers(1);
    const trainer = new Trainer(model, data, { ...OPTIONS, workers });
    await trainer.trainStepAsync();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await trainer.trainStepAsync();
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
    model.dispose();
    workers.dispose();
  });

  it('rejects more threads than images per batch', () => {
    const model = tinyModel();
    const workers = new InProcessWorkers(0);
    Object.defineProperty(workers, 'count', { value: 4 });
    expect(() => new Trainer(model, data, { ...OPTIONS, batchSize: 4, workers })).toThrow(TrainingConfigError);
    model.dispose();
  });

  it('passes a worker failure on, with nothing leaked', async () => {
    const model = tinyModel();
    const failing: ShardWorkers = { count: 1, compute: () => Promise.reject(new WorkerError('gradient worker 1 exited (code 1)')) };
    const trainer = new Trainer(model, data, { ...OPTIONS, workers: failing });
    const before = tf.memory().numTensors;
    await expect(trainer.trainStepAsync()).rejects.toThrow(/gradient worker 1 exited/);
    expect(tf.memory().numTensors).toBe(before);
    expect(trainer.step).toBe(0);
    trainer.dispose();
    model.dispose();
  });
});

describe('GradientWorkerPool (worker threads)', () => {
  let pool: GradientWorkerPool;
  beforeAll(async () => {
    pool = await GradientWorkerPool.start({ count: 2, config: CONFIG, backend: 'wasm' });
  });
  afterAll(async () => {
    await pool?.close();
  });

  it('computes a shard in a thread as this thread does (to 1e-5)', async () => {
    const model = tinyModel(4);
    const x = tf.randomNormal([6, 28, 28, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
    const targets = tf.tensor1d([1, 3, 5, 7, 9, 0], 'int32');
    const request = (): ShardRequest => ({ params: modelWeights(model), batches: [shardBatchOf({ x, targets })], labelSmoothing: 0.1, seed: new Rng(1).seed() });
    const replica = tinyModel(5);
    const here = computeShard(replica, request());
    replica.dispose();
    const [there0, there1] = await Promise.all([pool.compute(0, request()), pool.compute(1, request())]);
    for (const there of [there0!, there1!]) {
      expect(Math.abs(there.loss - here.loss)).toBeLessThan(1e-5);
      expect(Object.keys(there.grads).sort()).toEqual(Object.keys(here.grads).sort());
      for (const [name, g] of Object.entries(here.grads)) {
        expect(maxArrayDiff(g, there.grads[name]!), name).toBeLessThan(1e-5);
      }
    }
    tf.dispose([x, targets]);
    model.dispose();
  });

  it('reports a bad request as a WorkerError and keeps working', async () => {
    const model = tinyModel(4);
    const good = modelWeights(model);
    const bad = modelWeights(model);
    delete bad['cls_token'];
    const zeros = tf.zeros([2, 28, 28, 1]) as tf.Tensor4D;
    const labels = tf.tensor1d([0, 1], 'int32');
    const batch = shardBatchOf({ x: zeros, targets: labels });
    tf.dispose([zeros, labels]);
    await expect(pool.compute(0, { params: bad, batches: [{ ...batch, x: batch.x.slice(), targets: batch.targets.slice() }], labelSmoothing: 0, seed: 1 })).rejects.toThrow(WorkerError);
    const ok = await pool.compute(0, { params: good, batches: [batch], labelSmoothing: 0, seed: 1 });
    expect(Number.isFinite(ok.loss)).toBe(true);
    // The arrays of a sent request are moved to the worker; sending them again fails cleanly instead of hanging.
    await expect(pool.compute(0, { params: good, batches: [batch], labelSmoothing: 0, seed: 1 })).rejects.toThrow(WorkerError);
    await expect(pool.compute(5, { params: {}, batches: [], labelSmoothing: 0, seed: 1 })).rejects.toThrow(/no gradient worker 6/);
    model.dispose();
  });

  it('rejects calls after close', async () => {
    const own = await GradientWorkerPool.start({ count: 1, config: CONFIG, backend: 'wasm' });
    await own.close();
    await expect(own.compute(0, { params: {}, batches: [], labelSmoothing: 0, seed: 1 })).rejects.toThrow(/closed/);
  });
});
