/**
 * Every error vitkit throws on purpose is a VitkitError: a stable `code`, a
 * one-line reason in `message`, and `hint` saying what to do about it.
 * Apps print `error.message` (which already ends with the hint) and exit; no
 * stack trace is needed to understand it.
 */
export class VitkitError extends Error {
  readonly code: string;
  readonly reason: string;
  readonly hint: string | undefined;

  constructor(code: string, reason: string, hint?: string, options?: { cause?: unknown }) {
    super(hint ? `${reason} — ${hint}` : reason, options);
    this.name = new.target.name;
    this.code = code;
    this.reason = reason;
    this.hint = hint;
  }
}

/** A configuration value is missing, out of range or inconsistent. */
export class ConfigError extends VitkitError {
  constructor(reason: string, hint?: string) {
    super('E_CONFIG', reason, hint);
  }
}

/** A tensor given to a module has the wrong rank, size or channel count. */
export class ShapeError extends VitkitError {
  constructor(reason: string, hint?: string) {
    super('E_SHAPE', reason, hint);
  }
}

/** A backend that was asked for by name cannot be used here. */
export class BackendUnavailableError extends VitkitError {
  constructor(reason: string, hint?: string, options?: { cause?: unknown }) {
    super('E_BACKEND', reason, hint, options);
  }
}

/** A file could not be read or parsed (npy, safetensors, images, ...). */
export class FormatError extends VitkitError {
  constructor(reason: string, hint?: string, options?: { cause?: unknown }) {
    super('E_FORMAT', reason, hint, options);
  }
}

export function isVitkitError(e: unknown): e is VitkitError {
  return e instanceof VitkitError;
}
