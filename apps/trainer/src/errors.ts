import { VitkitError } from '@vitkit/core';

/** A mistake on the command line (unknown flag, missing argument, bad value). */
export class UsageError extends VitkitError {
  constructor(reason: string, hint = 'run with --help for usage') {
    super('E_USAGE', reason, hint);
  }
}
