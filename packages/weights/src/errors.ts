import { FormatError, StateDictError, VitkitError } from '@vitkit/core';

/**
 * A checkpoint file's bytes are not what its format promises (truncated,
 * bad header, offsets out of range, unknown dtype, corrupt zip entry, ...).
 * Code E_FORMAT, like every FormatError.
 */
export class WeightsFormatError extends FormatError {
  constructor(reason: string, hint?: string, options?: { cause?: unknown }) {
    super(reason, hint ?? 'the file is damaged or not a checkpoint; download or export it again', options);
  }
}

/** The checkpoint's tensor names do not match the architecture (code E_STATE_DICT). */
export class CheckpointKeysError extends StateDictError {
  readonly missing: string[];
  readonly unexpected: string[];

  constructor(missing: string[], unexpected: string[], hint?: string) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing ${missing.length}: ${listPreview(missing)}`);
    if (unexpected.length) parts.push(`unexpected ${unexpected.length}: ${listPreview(unexpected)}`);
    super(
      `checkpoint does not match the architecture (${parts.join('; ')})`,
      hint ?? 'check the config (depth, qkvBias, numClasses, registers) or use headMode "backbone"/"replace" for head changes',
    );
    this.missing = missing;
    this.unexpected = unexpected;
  }
}

/** One tensor of the checkpoint has a different shape than the architecture needs (code E_STATE_DICT). */
export class CheckpointShapeError extends StateDictError {
  readonly tensor: string;
  readonly expected: number[];
  readonly got: number[];

  constructor(tensor: string, expected: readonly number[], got: readonly number[], hint?: string) {
    super(
      `shape mismatch for ${tensor}: expected [${expected.join(', ')}], got [${got.join(', ')}]`,
      hint ?? 'check that the config (embedDim, mlpDim, patchSize, imageSize, numClasses) matches the checkpoint',
    );
    this.tensor = tensor;
    this.expected = [...expected];
    this.got = [...got];
  }
}

/** A download failed: network error or an HTTP error status (code E_FETCH). */
export class FetchError extends VitkitError {
  readonly url: string;
  readonly status: number | undefined;

  constructor(url: string, reason: string, hint?: string, options?: { status?: number; cause?: unknown }) {
    super('E_FETCH', reason, hint, options);
    this.url = url;
    this.status = options?.status;
  }
}

/** Offline mode is on and a file is not in the cache (code E_OFFLINE). */
export class OfflineError extends VitkitError {
  readonly file: string;

  constructor(file: string, where: string) {
    super(
      'E_OFFLINE',
      `offline mode: ${file} is not in the cache (${where})`,
      'run once with network access (unset VITKIT_OFFLINE / offline: false) to fill the cache, or point cache at a directory that has it',
    );
    this.file = file;
  }
}

/** First few items of a list, for one-line messages. */
export function listPreview(items: readonly string[], max = 8): string {
  return items.length <= max ? items.join(', ') : `${items.slice(0, max).join(', ')}, ... (+${items.length - max} more)`;
}

/** A checkpoint file or directory does not exist or cannot be opened (code E_NOT_FOUND). */
export class CheckpointNotFoundError extends VitkitError {
  constructor(what: string, hint = 'check the path; use hf://org/repo for the Hugging Face Hub or an http(s):// URL') {
    super('E_NOT_FOUND', `${what} not found`, hint);
  }
}

/** A checkpoint tensor holds NaN or an infinity: a diverged run or a damaged file (code E_FORMAT). */
export class NonFiniteWeightsError extends FormatError {
  readonly tensor: string;

  constructor(tensor: string, value: number, index: number, where?: string) {
    super(
      `${where ? `${where}: ` : ''}tensor ${tensor} holds ${value} (at element ${index}); a model with non-finite weights only predicts NaN`,
      'the run that wrote it diverged or the file is damaged; use an earlier checkpoint',
    );
    this.tensor = tensor;
  }
}
