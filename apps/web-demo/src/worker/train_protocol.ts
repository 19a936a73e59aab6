/**
 * The messages between the Teach mode and the training worker. As with the
 * inference worker, every request carries an id and gets zero or more
 * progress replies, then one final reply. Requests run one at a time, except
 * `stop`, which the worker reads at once and which makes a running `train`
 * end with `paused` after the current step.
 */
import type { BackendInfo, BackendPick, ModelSource, SerializedError } from './protocol.js';
import type { TeachClass } from './train_data.js';

/** probe: only the new classifier learns (a linear probe); finetune: every weight does. */
export const TEACH_MODES = ['probe', 'finetune'] as const;
export type TeachMode = (typeof TEACH_MODES)[number];

export interface TeachSettings {
  mode: TeachMode;
  epochs: number;
  batchSize: number;
  /** Peak learning rate (warmup + cosine). */
  lr: number;
  seed: number;
}

export interface TeachPrepared {
  /** The starting model, for display. */
  modelName: string;
  imageSize: [number, number];
  classNames: string[];
  /** Images per class: [train, validation]. */
  counts: [number, number][];
  totalSteps: number;
  stepsPerEpoch: number;
  notices: string[];
}

export interface TeachStep {
  step: number;
  totalSteps: number;
  epoch: number;
  loss: number;
  lr: number;
  /** Seconds left at the recent pace. */
  etaSeconds: number;
  /** Validation after an epoch ended with this step. */
  validation?: { accuracy: number; loss: number };
}

export interface TeachPrediction {
  label: string;
  probability: number;
}

export interface TeachClassifyResult {
  /** One per class, in class order. */
  probabilities: number[];
  labels: string[];
  top: TeachPrediction[];
}

export type TrainRequest =
  | { id: number; type: 'init'; backend: BackendPick }
  | { id: number; type: 'prepare'; source: ModelSource; classes: TeachClass[]; settings: TeachSettings }
  | { id: number; type: 'train' }
  | { id: number; type: 'stop' }
  | { id: number; type: 'classify'; image: Blob; name: string }
  | { id: number; type: 'export' };

export type TrainReply =
  | { id: number; type: 'ready'; backend: BackendInfo }
  | { id: number; type: 'progress'; loaded: number; total?: number; what: string }
  | { id: number; type: 'prepared'; prepared: TeachPrepared }
  | { id: number; type: 'step'; step: TeachStep }
  | { id: number; type: 'trained'; finished: boolean; step: number; validation?: { accuracy: number; loss: number } }
  | { id: number; type: 'stopping' }
  | { id: number; type: 'classified'; result: TeachClassifyResult }
  | { id: number; type: 'exported'; files: { name: string; bytes: Uint8Array }[] }
  | { id: number; type: 'error'; error: SerializedError };
