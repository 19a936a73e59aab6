import * as tf from '@tensorflow/tfjs-core';
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { checkFinite, NonFiniteWeightsError, parseSafetensors, serializeSafetensors, type RawTensor } from '@vitkit/weights';
import { CheckpointError } from '../errors.js';
import type { AdamWState } from '../optim/adamw.js';
import type { ResolvedTrainerOptions, Trainer, TrainerState } from '../train/trainer.js';
import { makeDirectory, tempPathFor, writeFileAtomic } from './atomic.js';
import { configJson, modelSafetensors, toRaw } from './model_files.js';

/** File names inside a run directory. */
export const RUN_FILES = {
  model: 'model.safetensors',
  /** The moving average of the weights (runs with an EMA decay), same names and layouts as model.safetensors. */
  modelEma: 'model_ema.safetensors',
  config: 'config.json',
  optimizer: 'optimizer.safetensors',
  state: 'trainer_state.json',
  checkpointDir: 'checkpoint',
} as const;

const PREVIOUS_DIR = '.checkpoint.previous';
/** The checkpoint directories of a run: the committed one, and the one an interrupted commit set aside. */
export const CHECKPOINT_DIRS = [RUN_FILES.checkpointDir, PREVIOUS_DIR] as const;
const STAGING_PREFIX = '.checkpoint.staging-';

/** What trainer_state.json holds. */
export interface TrainerStateFile {
  format: 'vitkit-trainer-state';
  version: 1;
  state: TrainerState;
  totalSteps: number;
  stepsPerEpoch: number;
  options: ResolvedTrainerOptions;
  /** Identifies the training data, to refuse resuming on different data. */
  data: { name: string; count: number; shape: number[]; labelSum: number };
  /** Anything the caller wants back on resume (the CLI keeps its flags here). */
  extra: Record<string, unknown>;
  /** CRC-32 of each safetensors file of the checkpoint, checked on read (absent in older checkpoints). */
  checksums?: Record<string, number>;
}

/** A checkpoint read back from disk. The caller disposes the tensors (see disposeRunCheckpoint). */
export interface RunCheckpoint {
  dir: string;
  stateFile: TrainerStateFile;
  /** Model weights in PyTorch layout under timm names. */
  weights: Map<string, tf.Tensor>;
  optimizer: AdamWState;
  /** The moving average of the weights (PyTorch layout, timm names), when the run keeps one. */
  emaWeights?: Map<string, tf.Tensor>;
  config: Record<string, unknown>;
}

function optimizerSafetensors(state: AdamWState): Uint8Array {
  const raw = new Map<string, RawTensor>();
  try {
    for (const [name, t] of state.expAvg) raw.set(`exp_avg.${name}`, toRaw(t));
    for (const [name, t] of state.expAvgSq) raw.set(`exp_avg_sq.${name}`, toRaw(t));
    checkFinite(raw, 'optimizer state');
    return serializeSafetensors(raw, { metadata: { format: 'vitkit-adamw', step: String(state.step) } });
  } finally {
    tf.dispose([...state.expAvg.values(), ...state.expAvgSq.values()]);
  }
}

function labelSum(labels: Int32Array): number {
  let s = 0;
  for (const y of labels) s += y;
  return s;
}

function fsyncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some platforms cannot fsync a directory; the renames are still atomic.
  }
}

/** Replaces `target` with a hard link to `source` (atomically; a copy where links are not possible). */
function publish(source: string, target: string): void {
  const tmp = tempPathFor(target);
  try {
    linkSync(source, tmp);
    renameSync(tmp, target);
  } catch {
    rmSync(tmp, { force: true });
    writeFileAtomic(target, readFileSync(source));
  }
}

/** Whether process `pid` is alive (a temp file of a live process is still being written). */
function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/** `.name.<pid>.<n>.tmp` (writeFileAtomic here and in @vitkit/weights): the pid that wrote it. */
const TEMP_FILE = /^\..+\.(\d+)\.[0-9a-f]+\.tmp$/;

/**
 * Removes what runs killed while saving leave behind: staging directories,
 * and temp files of atomic writes (in the run directory and its checkpoint)
 * whose writing process is gone.
 */
export function cleanStaleStaging(runDir: string): void {
  if (!existsSync(runDir)) return;
  for (const name of readdirSync(runDir)) {
    if (name.startsWith(STAGING_PREFIX)) rmSync(join(runDir, name), { recursive: true, force: true });
  }
  for (const dir of [runDir, join(runDir, RUN_FILES.checkpointDir), join(runDir, PREVIOUS_DIR)]) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      const m = TEMP_FILE.exec(name);
      if (m && !processAlive(Number(m[1]))) rmSync(join(dir, name), { force: true });
    }
  }
}

/**
 * Saves everything needed to resume into `<runDir>/checkpoint/` and
 * publishes the weights as `<runDir>/model.safetensors` (and their moving
 * average as `<runDir>/model_ema.safetensors` when the trainer keeps one)
 * and the config as `<runDir>/config.json`.
 *
 * A checkpoint is a set of files that must match, so it is written into a
 * staging directory first and committed with renames: the old checkpoint
 * moves aside, the staged one takes its place, the old one is deleted. A
 * crash at any point leaves either the previous or the new checkpoint
 * complete (readRunCheckpoint falls back to the one moved aside).
 */
export function saveRunCheckpoint(runDir: string, trainer: Trainer, extra: Record<string, unknown> = {}): string {
  makeDirectory(runDir);
  const step = trainer.step;
  const staging = join(runDir, `${STAGING_PREFIX}${process.pid}-${step}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  const stateFile: TrainerStateFile = {
    format: 'vitkit-trainer-state',
    version: 1,
    state: trainer.getState(),
    totalSteps: trainer.totalSteps,
    stepsPerEpoch: trainer.stepsPerEpoch,
    options: trainer.options,
    data: {
      name: trainer.data.name,
      count: trainer.data.shape[0],
      shape: [...trainer.data.shape],
      labelSum: labelSum(trainer.data.labels),
    },
    extra,
  };
  const config = configJson(trainer.model.config);
  const checksums: Record<string, number> = {};
  const write = (name: string, bytes: Uint8Array): void => {
    checksums[name] = crc32(bytes);
    writeFileAtomic(join(staging, name), bytes);
  };
  write(RUN_FILES.model, modelSafetensors(trainer.model, { step: String(step) }));
  write(RUN_FILES.optimizer, optimizerSafetensors(trainer.getOptimizerState()));
  const ema = trainer.ema;
  if (ema) write(RUN_FILES.modelEma, ema.swapIn(() => modelSafetensors(trainer.model, { step: String(step), ema_decay: String(ema.decay) })));
  stateFile.checksums = checksums;
  writeFileAtomic(join(staging, RUN_FILES.config), `${JSON.stringify(config, null, 2)}\n`);
  writeFileAtomic(join(staging, RUN_FILES.state), `${JSON.stringify(stateFile, null, 2)}\n`);
  fsyncDir(staging);

  const current = join(runDir, RUN_FILES.checkpointDir);
  const previous = join(runDir, PREVIOUS_DIR);
  if (existsSync(current)) {
    rmSync(previous, { recursive: true, force: true });
    renameSync(current, previous);
  }
  renameSync(staging, current);
  fsyncDir(runDir);
  rmSync(previous, { recursive: true, force: true });

  publish(join(current, RUN_FILES.model), join(runDir, RUN_FILES.model));
  if (ema) publish(join(current, RUN_FILES.modelEma), join(runDir, RUN_FILES.modelEma));
  publish(join(current, RUN_FILES.config), join(runDir, RUN_FILES.config));
  return current;
}

/** The committed checkpoint directory of a run (or the one set aside by an interrupted commit). */
export function checkpointDirOf(runDir: string): string | undefined {
  for (const d of [RUN_FILES.checkpointDir, PREVIOUS_DIR]) {
    const p = join(runDir, d);
    if (existsSync(join(p, RUN_FILES.state))) return p;
  }
  return undefined;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new CheckpointError(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`, 'the run directory is damaged; start a new run', { cause: e });
  }
}

/** Reads the checkpoint of a run directory (see saveRunCheckpoint). */
export function readRunCheckpoint(runDir: string): RunCheckpoint {
  if (!existsSync(runDir)) throw new CheckpointError(`no run directory at ${runDir}`, 'pass the --out directory of an earlier run');
  const dir = checkpointDirOf(runDir);
  if (!dir) throw new CheckpointError(`${runDir} has no checkpoint to resume from`, 'the run saved none yet (checkpoints are written at epoch ends, with --checkpoint-every, and on Ctrl-C)');
  const stateFile = readJson(join(dir, RUN_FILES.state)) as TrainerStateFile;
  if (stateFile?.format !== 'vitkit-trainer-state' || stateFile.version !== 1) {
    throw new CheckpointError(`${join(dir, RUN_FILES.state)} is not a vitkit trainer state (version 1)`);
  }
  const config = readJson(join(dir, RUN_FILES.config)) as Record<string, unknown>;
  const weights = new Map<string, tf.Tensor>();
  const expAvg = new Map<string, tf.Tensor>();
  const expAvgSq = new Map<string, tf.Tensor>();
  const emaPath = join(dir, RUN_FILES.modelEma);
  const emaWeights = existsSync(emaPath) ? new Map<string, tf.Tensor>() : undefined;
  // Each file as saved: its checksum (a file edited or damaged since, such as a transposed square tensor, is
  // refused) and only finite values.
  const read = (name: string): ReturnType<typeof parseSafetensors> => {
    const path = join(dir, name);
    const bytes = readFileSync(path);
    const expected = stateFile.checksums?.[name];
    if (expected !== undefined && crc32(bytes) !== expected) {
      throw new CheckpointError(`${path} does not match the checksum trainer_state.json recorded for it`, 'the file was edited or damaged after it was saved; restore it or start a new run');
    }
    const parsed = parseSafetensors(bytes);
    checkFinite(parsed.tensors, path);
    return parsed;
  };
  try {
    const model = read(RUN_FILES.model);
    for (const [k, t] of model.tensors) weights.set(k, tf.tensor(t.data, t.shape, 'float32'));
    if (emaWeights) {
      const ema = read(RUN_FILES.modelEma);
      if (ema.metadata.step !== String(stateFile.state.step)) throw new CheckpointError(`checkpoint files in ${dir} disagree on the step`, 'the checkpoint is damaged; start a new run');
      for (const [k, t] of ema.tensors) emaWeights.set(k, tf.tensor(t.data, t.shape, 'float32'));
    }
    const opt = read(RUN_FILES.optimizer);
    for (const [k, t] of opt.tensors) {
      const m = /^(exp_avg|exp_avg_sq)\.(.+)$/.exec(k);
      if (!m) throw new CheckpointError(`unexpected tensor ${k} in ${RUN_FILES.optimizer}`);
      (m[1] === 'exp_avg' ? expAvg : expAvgSq).set(m[2]!, tf.tensor(t.data, t.shape, 'float32'));
    }
    const optStep = Number(opt.metadata.step);
    if (optStep !== stateFile.state.step || model.metadata.step !== String(stateFile.state.step)) {
      throw new CheckpointError(`checkpoint files in ${dir} disagree on the step`, 'the checkpoint is damaged; start a new run');
    }
    return { dir, stateFile, weights, optimizer: { step: optStep, expAvg, expAvgSq }, ...(emaWeights ? { emaWeights } : {}), config };
  } catch (e) {
    tf.dispose([...weights.values(), ...expAvg.values(), ...expAvgSq.values(), ...(emaWeights?.values() ?? [])]);
    if (e instanceof CheckpointError || e instanceof NonFiniteWeightsError) throw e;
    throw new CheckpointError(`cannot read the checkpoint in ${dir}: ${e instanceof Error ? e.message : String(e)}`, 'the run directory is damaged; start a new run', { cause: e });
  }
}

export function disposeRunCheckpoint(c: RunCheckpoint): void {
  tf.dispose([...c.weights.values(), ...c.optimizer.expAvg.values(), ...c.optimizer.expAvgSq.values(), ...(c.emaWeights?.values() ?? [])]);
}

/**
 * Puts a trainer (and its model, and its weight average) back where a
 * checkpoint left it. The trainer must have been built with the same model
 * architecture, data, batch and EMA settings.
 */
export function restoreTrainer(trainer: Trainer, checkpoint: RunCheckpoint): void {
  const f = checkpoint.stateFile;
  const d = trainer.data;
  if (f.data.count !== d.shape[0] || f.data.labelSum !== labelSum(d.labels) || f.data.shape.join(',') !== d.shape.join(',')) {
    throw new CheckpointError(
      `the checkpoint was trained on ${f.data.name} (${f.data.count} samples), not on this data (${d.name}, ${d.shape[0]} samples)`,
      'resume with the same --data and --val-split',
    );
  }
  if (f.stepsPerEpoch !== trainer.stepsPerEpoch) {
    throw new CheckpointError(`the checkpoint has ${f.stepsPerEpoch} steps per epoch, this setup ${trainer.stepsPerEpoch}`, 'resume with the same batch size and accumulation');
  }
  const ema = trainer.ema;
  if (ema && !checkpoint.emaWeights) {
    throw new CheckpointError(`the checkpoint in ${checkpoint.dir} has no ${RUN_FILES.modelEma}, but this trainer keeps a weight average`, 'resume with the EMA setting the run was started with');
  }
  if (ema && checkpoint.emaWeights) {
    // The file is in PyTorch layout; loading it into the model converts it, and swapIn gives the training weights back.
    ema.swapIn(() => {
      trainer.model.loadStateDict(checkpoint.emaWeights!);
      ema.setState(trainer.model.variables());
    });
  }
  trainer.model.loadStateDict(checkpoint.weights);
  // setState first: it picks the optimizer of the step's phase (head warm-up or not).
  trainer.setState(f.state);
  trainer.setOptimizerState(checkpoint.optimizer);
}
