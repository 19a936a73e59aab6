import { VitkitError } from '@vitkit/core';

/** A dataset could not be found, read or understood. */
export class DataError extends VitkitError {
  constructor(reason: string, hint?: string, options?: { cause?: unknown }) {
    super('E_DATA', reason, hint, options);
  }
}

/** A training setting is out of range or inconsistent with the data or the model. */
export class TrainingConfigError extends VitkitError {
  constructor(reason: string, hint?: string) {
    super('E_TRAIN_CONFIG', reason, hint);
  }
}

/** A run directory cannot be resumed (missing, incomplete or from another setup). */
export class CheckpointError extends VitkitError {
  constructor(reason: string, hint?: string, options?: { cause?: unknown }) {
    super('E_CHECKPOINT', reason, hint, options);
  }
}

/** Gradients are not available (registerGradients() failed or was not called). */
export class GradientsUnavailableError extends VitkitError {
  constructor(reason: string, hint?: string, options?: { cause?: unknown }) {
    super('E_GRADIENTS', reason, hint, options);
  }
}

/** A gradient worker thread failed to start or to compute its shard. */
export class WorkerError extends VitkitError {
  constructor(reason: string, hint = 'run with --workers 1 to train on the main thread only') {
    super('E_WORKER', reason, hint);
  }
}

/** An output file or directory cannot be created or written. */
export class OutputError extends VitkitError {
  constructor(reason: string, hint?: string, options?: { cause?: unknown }) {
    super('E_OUTPUT', reason, hint, options);
  }
}

/** The loss or the gradients stopped being finite numbers: the run diverged (no update was applied). */
export class DivergenceError extends VitkitError {
  readonly step: number;

  constructor(step: number, what: string, value: number, hint: string) {
    super('E_DIVERGED', `training diverged at step ${step}: ${what} is ${value}`, hint);
    this.step = step;
  }
}
