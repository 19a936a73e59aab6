// `vit train --resume DIR`: the run directory, its worker count, and its
// checkpoint with the settings it was started with (flags or a recipe).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkpointDirOf, disposeRunCheckpoint, readRunCheckpoint, RUN_FILES, TEST_TIME_AUGMENTATIONS, type RunCheckpoint, type TestTimeAugmentation } from '@vitkit/training';
import { UsageError } from '../errors.js';
import type { RunSettings, TrainValues } from './options.js';

/** What a run keeps unless given again on resume: logging and checkpoint cadence, test-time augmentation. */
export interface Carried {
  logEvery: number;
  checkpointEvery: number;
  tta: TestTimeAugmentation;
}

/** What `vit train` saves beside the trainer state (trainer_state.json's "extra"). */
export function savedExtra(settings: RunSettings, carried: Carried, workers: number): Record<string, unknown> {
  return { settings, cadence: { logEvery: carried.logEvery, checkpointEvery: carried.checkpointEvery }, workers, tta: carried.tta };
}

/** The directory --resume names (which --out, if given, must name too). */
export function resumeDir(resume: string, out: string | undefined): string {
  if (out !== undefined && resolve(out) !== resolve(resume)) {
    throw new UsageError('--out and --resume name different directories', 'a resumed run continues in its own directory');
  }
  const dir = resolve(resume);
  if (!existsSync(dir)) throw new UsageError(`--resume ${resume}: no such directory`);
  return dir;
}

/** The --workers a run directory was trained with (1 when unknown); read before any tensor exists. */
export function savedWorkerCount(runDir: string): number {
  const dir = checkpointDirOf(runDir);
  if (!dir) return 1;
  try {
    const state = JSON.parse(readFileSync(join(dir, RUN_FILES.state), 'utf8')) as { extra?: { workers?: unknown } };
    const n = state.extra?.workers;
    return typeof n === 'number' && Number.isInteger(n) && n >= 1 ? n : 1;
  } catch {
    return 1; // readRunCheckpoint reports what is wrong with the directory
  }
}

export interface ResumedRun {
  /** Weights, optimizer state and RNG of the last checkpoint (tensors: read after the backend is set up). */
  checkpoint: RunCheckpoint;
  /** The run's saved settings, with --epochs / --steps applied. */
  settings: RunSettings;
  /** The saved cadence (absent in runs that predate it). */
  carried: Partial<Carried>;
}

/** Reads the checkpoint of the run in `dir`; --epochs and --steps may extend it. */
export function readResumedRun(dir: string, given: Pick<Partial<TrainValues>, 'epochs' | 'steps'>): ResumedRun {
  const checkpoint = readRunCheckpoint(dir);
  const extra = checkpoint.stateFile.extra as { settings?: RunSettings; cadence?: { logEvery?: number; checkpointEvery?: number }; tta?: unknown };
  const saved = extra.settings;
  if (!saved) {
    disposeRunCheckpoint(checkpoint);
    throw new UsageError(`${dir} was not written by vit train`, 'resume runs started with vit train');
  }
  const { epochs, steps } = given;
  const settings = { ...saved, trainer: { ...saved.trainer, ...(epochs !== undefined ? { epochs } : {}), ...(steps !== undefined ? { steps } : {}) } };
  const tta = TEST_TIME_AUGMENTATIONS.find((t) => t === extra.tta);
  return { checkpoint, settings, carried: { ...extra.cadence, ...(tta ? { tta } : {}) } };
}

/** Cadence and test-time augmentation: given now, else the resumed run's, else the recipe's or the default. */
export function carriedValues(values: TrainValues, given: Partial<TrainValues>, saved: Partial<Carried> = {}): Carried {
  return {
    logEvery: given.logEvery ?? saved.logEvery ?? values.logEvery,
    checkpointEvery: given.checkpointEvery ?? saved.checkpointEvery ?? values.checkpointEvery,
    tta: given.tta ?? saved.tta ?? values.tta,
  };
}
