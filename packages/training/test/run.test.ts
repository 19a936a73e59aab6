import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { VisionTransformer } from '@vitkit/vit';
import { parseSafetensors, serializeSafetensors } from '@vitkit/weights';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CheckpointError,
  DivergenceError,
  restoreTrainer,
  validateDataset,
  checkpointDirOf,
  cleanStaleStaging,
  makeDirectory,
  OutputError,
  removeRunOutputs,
  runOutputsIn,
  disposeRunCheckpoint,
  MetricsLog,
  readMetrics,
  readRunCheckpoint,
  renderTrainingPlot,
  runTraining,
  saveRunCheckpoint,
  Trainer,
  writeFileAtomic,
  type ImageDataset,
} from '../src/index.js';
import { smallSubsetSplits } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'vitkit-run-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let train: ImageDataset;
let val: ImageDataset;
beforeAll(async () => {
  ({ train: train, test: val } = await smallSubsetSplits(96, 40));
});

const tiny = (): VisionTransformer =>
  new VisionTransformer({ imageSize: 28, patchSize: 7, inChannels: 1, embedDim: 16, depth: 1, numHeads: 2, mlpDim: 32, numClasses: 10, labels: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'] }, { seed: 1 });

describe('writeFileAtomic', () => {
  it('replaces files whole and leaves no temp files behind', () => {
    const p = join(tmp, 'atomic', 'f.txt');
    writeFileAtomic(p, 'one');
    writeFileAtomic(p, new TextEncoder().encode('two'));
    expect(readFileSync(p, 'utf8')).toBe('two');
    expect(readdirSync(join(tmp, 'atomic'))).toEqual(['f.txt']);
  });
});

describe('run directories', () => {
  it('creates output directories once per level: under /proc an OutputError, not an endless loop', () => {
    makeDirectory(join(tmp, 'made', 'a', 'b'));
    expect(existsSync(join(tmp, 'made', 'a', 'b'))).toBe(true);
    makeDirectory(join(tmp, 'made', 'a', 'b'));
    if (existsSync('/proc/self')) expect(() => makeDirectory('/proc/vitkit-out/run')).toThrow(/cannot create directory \/proc\/vitkit-out: ENOENT — choose a directory you can write to/);
    writeFileSync(join(tmp, 'made', 'file'), '');
    expect(() => makeDirectory(join(tmp, 'made', 'file'))).toThrow(OutputError);
    expect(() => writeFileAtomic(join(tmp, 'made', 'file', 'x.txt'), 'x')).toThrow(/cannot create directory .*file: a file of that name exists/);
  });

  it('removes temp files of dead writers and staging directories, and lists and removes an earlier run', () => {
    const dir = join(tmp, 'stale');
    mkdirSync(join(dir, 'checkpoint'), { recursive: true });
    // pid 2^22 + 1 is above Linux's pid_max: no such process.
    const dead = 4194305;
    const stale = [`.metrics.jsonl.${dead}.3.tmp`, `.model.safetensors.${dead}.a1b2c3d4.tmp`];
    for (const f of stale) writeFileSync(join(dir, f), 'partial');
    writeFileSync(join(dir, 'checkpoint', `.optimizer.safetensors.${dead}.7.tmp`), 'partial');
    const live = `.config.json.${process.pid}.9.tmp`;
    writeFileSync(join(dir, live), 'being written');
    mkdirSync(join(dir, `.checkpoint.staging-${dead}-5`));
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    writeFileSync(join(dir, 'metrics.jsonl'), '');
    cleanStaleStaging(dir);
    expect(readdirSync(dir).sort()).toEqual([live, 'checkpoint', 'metrics.jsonl', 'notes.txt']);
    expect(readdirSync(join(dir, 'checkpoint'))).toEqual([]);
    expect(runOutputsIn(dir)).toEqual(['metrics.jsonl', 'checkpoint']);
    removeRunOutputs(dir);
    expect(runOutputsIn(dir)).toEqual([]);
    expect(existsSync(join(dir, 'notes.txt'))).toBe(true);
  });
});

describe('run checkpoints', () => {
  it('commits a complete checkpoint directory and publishes model.safetensors and config.json', () => {
    const model = tiny();
    const trainer = new Trainer(model, train, { batchSize: 16, epochs: 1 });
    trainer.trainStep();
    const dir = join(tmp, 'ckpt');
    saveRunCheckpoint(dir, trainer);
    trainer.trainStep();
    saveRunCheckpoint(dir, trainer);
    expect(readdirSync(dir).sort()).toEqual(['checkpoint', 'config.json', 'model.safetensors']);
    expect(readdirSync(join(dir, 'checkpoint')).sort()).toEqual(['config.json', 'model.safetensors', 'optimizer.safetensors', 'trainer_state.json']);
    const weights = parseSafetensors(readFileSync(join(dir, 'model.safetensors')));
    expect(weights.metadata.step).toBe('2');
    expect([...weights.tensors.keys()].sort()).toEqual([...model.namedParameters().keys()].sort());
    expect(weights.tensors.get('patch_embed.proj.weight')!.shape).toEqual([16, 1, 7, 7]);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ model_type: 'vit', hidden_size: 16, num_channels: 1, image_size: 28, patch_size: 7 });
    expect(config.id2label['9']).toBe('j');
    const opt = parseSafetensors(readFileSync(join(dir, 'checkpoint', 'optimizer.safetensors')));
    expect(opt.tensors.size).toBe(2 * model.namedParameters().size);
    const state = JSON.parse(readFileSync(join(dir, 'checkpoint', 'trainer_state.json'), 'utf8'));
    expect(state.state).toMatchObject({ step: 2, epoch: 0, batchInEpoch: 2 });
    trainer.dispose();
    model.dispose();
  });

  it('falls back to the previous checkpoint when a commit was cut between its renames', () => {
    const model = tiny();
    const trainer = new Trainer(model, train, { batchSize: 16, epochs: 1 });
    trainer.trainStep();
    const dir = join(tmp, 'cut');
    saveRunCheckpoint(dir, trainer);
    // What a crash after "move the old checkpoint aside" and before "move the new one in" leaves:
    renameSync(join(dir, 'checkpoint'), join(dir, '.checkpoint.previous'));
    mkdirSync(join(dir, '.checkpoint.staging-123-2'));
    writeFileSync(join(dir, '.checkpoint.staging-123-2', 'model.safetensors'), 'half');
    expect(checkpointDirOf(dir)).toBe(join(dir, '.checkpoint.previous'));
    const c = readRunCheckpoint(dir);
    expect(c.stateFile.state.step).toBe(1);
    disposeRunCheckpoint(c);
    trainer.dispose();
    model.dispose();
  });

  it('explains missing and damaged checkpoints with CheckpointErrors', () => {
    expect(() => readRunCheckpoint(join(tmp, 'nothing'))).toThrow(CheckpointError);
    const empty = join(tmp, 'empty-run');
    mkdirSync(empty);
    expect(() => readRunCheckpoint(empty)).toThrow(/no checkpoint/);
    const bad = join(tmp, 'bad-run', 'checkpoint');
    mkdirSync(bad, { recursive: true });
    writeFileSync(join(bad, 'trainer_state.json'), '{"format": "something else"}');
    expect(() => readRunCheckpoint(join(tmp, 'bad-run'))).toThrow(/not a vitkit trainer state/);
  });
});

describe('metrics and plot', () => {
  it('appends JSON lines, ignores a cut last line, and truncates after a step', () => {
    const log = new MetricsLog(join(tmp, 'm.jsonl'));
    writeFileSync(log.path, '');
    log.append({ type: 'step', step: 1, epoch: 0, loss: 2.3, lr: 1e-3, grad_norm: 1 });
    log.append({ type: 'step', step: 10, epoch: 0, loss: 2.0, lr: 1e-3, grad_norm: 1 });
    log.append({ type: 'epoch', step: 12, epoch: 1, accuracy: 0.5, val_loss: 1.5, train_loss: 2.1 });
    writeFileSync(log.path, readFileSync(log.path, 'utf8') + '{"type":"step","ste');
    expect(log.read().map((r) => r.step)).toEqual([1, 10, 12]);
    log.truncateAfter(10);
    expect(readMetrics(log.path).map((r) => r.step)).toEqual([1, 10]);
  });

  it('draws loss and accuracy curves as SVG', () => {
    const svg = renderTrainingPlot([
      { type: 'step', step: 1, epoch: 0, loss: 2.3, lr: 1, grad_norm: 1 },
      { type: 'step', step: 20, epoch: 0, loss: 1.1, lr: 1, grad_norm: 1 },
      { type: 'epoch', step: 20, epoch: 1, accuracy: 0.61, val_loss: 1.2, train_loss: 1.5 },
      { type: 'epoch', step: 40, epoch: 2, accuracy: 0.72, val_loss: 1.0, train_loss: 1.2 },
      { type: 'test', step: 40, accuracy: 0.705, loss: 1, count: 10 },
    ]);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.match(/<path /g)?.length).toBe(4);
    expect(svg).toContain('test accuracy 70.50%');
    expect(renderTrainingPlot([])).toContain('no data yet');
  });
});

describe('runTraining', () => {
  it('writes metrics (step 1 always), per-epoch accuracy, the plot and the final test result', async () => {
    const model = tiny();
    const trainer = new Trainer(model, train, { batchSize: 16, epochs: 2 });
    const out = join(tmp, 'run');
    const seen: number[] = [];
    const r = await runTraining(trainer, { outDir: out, validation: val, test: val, logEvery: 5, onStep: (s) => seen.push(s.step) });
    expect(r.status).toBe('completed');
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    const m = readMetrics(join(out, 'metrics.jsonl'));
    expect(m.filter((x) => x.type === 'step').map((x) => x.step)).toEqual([1, 5, 10, 12]);
    const epochs = m.filter((x) => x.type === 'epoch');
    expect(epochs.map((x) => x.step)).toEqual([6, 12]);
    expect(epochs.every((x) => x.type === 'epoch' && x.accuracy >= 0 && x.accuracy <= 1)).toBe(true);
    // Each epoch's training throughput: 6 steps of 16 images over a positive, finite time.
    for (const e of epochs) expect(e.type === 'epoch' && e.img_per_s! > 0 && Number.isFinite(e.img_per_s)).toBe(true);
    expect(m.at(-1)).toMatchObject({ type: 'test', count: 40, accuracy: r.test!.accuracy });
    for (const f of ['training_curves.svg', 'preprocessor_config.json', 'model.safetensors', 'config.json']) expect(existsSync(join(out, f))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'preprocessor_config.json'), 'utf8'))).toMatchObject({ image_mean: [0.286], image_std: [0.353], do_rescale: true });
    trainer.dispose();
    model.dispose();
  });

  it('averages a resumed epoch over all its steps (the running loss is in the checkpoint)', async () => {
    const straightModel = tiny();
    const straight = new Trainer(straightModel, train, { batchSize: 16, steps: 6, shuffle: false });
    const straightRun = await runTraining(straight, { outDir: join(tmp, 'epoch-straight'), validation: val, logEvery: 1 });
    expect(straightRun.status).toBe('completed');
    const epochLoss = (dir: string): number => readMetrics(join(dir, 'metrics.jsonl')).find((x) => x.type === 'epoch')!.train_loss as number;
    const expected = epochLoss(join(tmp, 'epoch-straight'));
    const stepLosses = readMetrics(join(tmp, 'epoch-straight', 'metrics.jsonl')).filter((x) => x.type === 'step').map((x) => x.loss as number);
    expect(expected).toBeCloseTo(stepLosses.reduce((a, b) => a + b, 0) / 6, 5);
    straight.dispose();
    straightModel.dispose();

    const out = join(tmp, 'epoch-resumed');
    const firstModel = tiny();
    const first = new Trainer(firstModel, train, { batchSize: 16, steps: 6, shuffle: false });
    const controller = new AbortController();
    await runTraining(first, { outDir: out, validation: val, logEvery: 1, signal: controller.signal, onStep: (r) => r.step === 4 && controller.abort() });
    first.dispose();
    firstModel.dispose();
    const model = tiny();
    const resumed = new Trainer(model, train, { batchSize: 16, steps: 6, shuffle: false });
    const c = readRunCheckpoint(out);
    expect(c.stateFile.state).toMatchObject({ step: 4, epochLossCount: 4 });
    restoreTrainer(resumed, c);
    disposeRunCheckpoint(c);
    await runTraining(resumed, { outDir: out, validation: val, logEvery: 1, resumed: true });
    expect(epochLoss(out)).toBeCloseTo(expected, 5);
    resumed.dispose();
    model.dispose();
  });

  it('stops a diverging run with a DivergenceError, no update applied and the last checkpoint kept', async () => {
    const model = tiny();
    const trainer = new Trainer(model, train, { batchSize: 16, steps: 6, lr: 1e30, warmup: 0, schedule: 'constant' });
    const out = join(tmp, 'diverged');
    const e = await runTraining(trainer, { outDir: out, logEvery: 1, checkpointEvery: 1 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DivergenceError);
    const step = (e as DivergenceError).step;
    expect((e as Error).message).toMatch(new RegExp(`^training diverged at step ${step}: the (loss|gradient norm) is (NaN|Infinity|-Infinity) — lower the learning rate \\(it is 1e\\+30\\)`));
    expect(trainer.step).toBe(step - 1);
    // The checkpoint of the step before is on disk, and it is all finite (readRunCheckpoint refuses NaN).
    const c = readRunCheckpoint(out);
    expect(c.stateFile.state.step).toBe(step - 1);
    disposeRunCheckpoint(c);
    trainer.dispose();
    model.dispose();
  });

  it('refuses a checkpoint file changed after it was saved, and NaN in a checkpoint or in float images', async () => {
    const model = tiny();
    const trainer = new Trainer(model, train, { batchSize: 16, steps: 1 });
    trainer.trainStep();
    const out = join(tmp, 'edited');
    saveRunCheckpoint(out, trainer);
    const optimizerPath = join(out, 'checkpoint', 'optimizer.safetensors');
    const original = readFileSync(optimizerPath);
    // Transpose a square moment (same shape, other values): only the checksum can tell.
    const parsed = parseSafetensors(original);
    const name = [...parsed.tensors.keys()].find((k) => k.endsWith('attn.proj.weight'))!;
    const t = parsed.tensors.get(name)!;
    const [rows, cols] = t.shape as [number, number];
    expect(rows).toBe(cols);
    const transposed = new Float32Array(t.data.length);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) transposed[j * rows + i] = t.data[i * cols + j]!;
    parsed.tensors.set(name, { shape: t.shape, data: transposed });
    writeFileSync(optimizerPath, serializeSafetensors(parsed.tensors, { metadata: parsed.metadata }));
    expect(() => readRunCheckpoint(out)).toThrow(/optimizer.safetensors does not match the checksum trainer_state.json recorded for it/);
    // A NaN saved by an older vitkit (no checksums) is refused by value, naming the tensor.
    const statePath = join(out, 'checkpoint', 'trainer_state.json');
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as { checksums?: unknown };
    delete state.checksums;
    writeFileSync(statePath, JSON.stringify(state));
    const data = Float32Array.from(t.data);
    data[3] = Number.NaN;
    parsed.tensors.set(name, { shape: t.shape, data });
    writeFileSync(optimizerPath, serializeSafetensors(parsed.tensors, { metadata: parsed.metadata }));
    expect(() => readRunCheckpoint(out)).toThrow(new RegExp(`tensor ${name.replace(/\./g, '\\.')} holds NaN \\(at element 3\\)`));
    trainer.dispose();
    model.dispose();
    const images = new Float32Array(2 * 4 * 4);
    images[20] = Number.POSITIVE_INFINITY;
    expect(() => validateDataset({ name: 'x', images, shape: [2, 4, 4, 1], labels: Int32Array.from([0, 1]), numClasses: 2 })).toThrow(/x: pixel value Infinity in sample 1/);
  });

  it('stops at an abort with a checkpoint, and a restored run drops metrics logged after it', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const model = tiny();
    const trainer = new Trainer(model, train, { batchSize: 16, epochs: 2 });
    const out = join(tmp, 'abort');
    const controller = new AbortController();
    const r = await runTraining(trainer, { outDir: out, logEvery: 1, signal: controller.signal, onStep: (s) => s.step === 3 && controller.abort() });
    expect(r).toMatchObject({ status: 'interrupted', step: 3 });
    const c = readRunCheckpoint(out);
    expect(c.stateFile.state.step).toBe(3);
    disposeRunCheckpoint(c);
    // Pretend more steps were logged before a crash; resuming from step 3 forgets them.
    new MetricsLog(join(out, 'metrics.jsonl')).append({ type: 'step', step: 4, epoch: 0, loss: 9, lr: 0, grad_norm: 0 });
    const r2 = await runTraining(trainer, { outDir: out, logEvery: 1, resumed: true });
    expect(r2.status).toBe('completed');
    const steps = readMetrics(join(out, 'metrics.jsonl')).map((x) => x.step);
    expect(steps).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    trainer.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });
});
