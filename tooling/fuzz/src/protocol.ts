/** Shared with the main thread: [current case, cases done, ok, typed]. */
export const SLOT = { current: 0, done: 1, ok: 2, typed: 3 } as const;

export interface WorkerInput {
  target: string;
  seed: number;
  from: number;
  to: number;
  progress: SharedArrayBuffer;
}

export interface CaseFailure {
  index: number;
  kind: 'untyped' | 'timeout' | 'memory' | 'crash';
  how: string;
  error: string;
}

export type WorkerMessage = { kind: 'failure'; failure: CaseFailure } | { kind: 'codes'; codes: Record<string, number>; slowest: { index: number; ms: number } } | { kind: 'case'; index: number; how: string };
