import { VitkitError } from '@vitkit/core';

/** Why a source is not a model this layer can run. */
export type ModelSourceErrorCode = 'E_NO_CONFIG' | 'E_NO_PREPROCESSING' | 'E_LABELS' | 'E_NO_VISION_TOWER' | 'E_FILES' | 'E_NOT_A_CLASSIFIER';

/** The source is not a model this layer can run: no config, no preprocessing, labels it cannot read, unusable files. */
export class ModelSourceError extends VitkitError {
  constructor(code: ModelSourceErrorCode, reason: string, hint: string) {
    super(code, reason, hint);
  }
}
