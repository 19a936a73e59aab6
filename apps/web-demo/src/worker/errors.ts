import { VitkitError } from '@vitkit/core';
import type { SerializedError } from './protocol.js';

/** An input the page cannot use (undecodable image, wrong .npy shape). */
export class InputError extends VitkitError {
  constructor(reason: string, hint?: string, options?: { cause?: unknown }) {
    super('E_INPUT', reason, hint, options);
  }
}

/** A request that needs a model arrived before one was loaded. */
export class NoModelError extends VitkitError {
  constructor() {
    super('E_NO_MODEL', 'no model is loaded', 'load the bundled model or pick a checkpoint first');
  }
}

/**
 * Turns anything thrown in the worker into a message the page can show.
 * vitkit errors keep their code, reason and hint; anything else is an
 * internal error whose message is still shown, never swallowed.
 */
export function serializeError(e: unknown): SerializedError {
  if (e instanceof VitkitError) return { code: e.code, reason: e.reason, ...(e.hint ? { hint: e.hint } : {}) };
  const message = e instanceof Error ? e.message : typeof e === 'object' && e && 'message' in e ? String(e.message) : String(e);
  return { code: 'E_INTERNAL', reason: message.split('\n')[0] || 'unknown error', hint: 'this is a bug in the demo or a backend; try another backend' };
}
