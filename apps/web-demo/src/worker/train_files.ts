// The trained model as a model directory: model.safetensors, config.json
// (with the class names) and preprocessor_config.json, written with the
// library's writers (configFromSpec refuses a recipe it cannot write
// exactly) so that `vit predict`, loadImageClassifier and timm / Hugging
// Face read it back.
import { configFromSpec, type PreprocessSpec } from '@vitkit/preprocessing';
import { configJson, modelSafetensorsAsync, type TrainableModel } from '@vitkit/training/browser';

export interface ModelFile {
  name: string;
  bytes: Uint8Array;
}

const json = (value: unknown): Uint8Array => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

/** The three files of a model directory, as bytes. */
export async function modelDirectoryFiles(model: TrainableModel, spec: PreprocessSpec, metadata: Record<string, string> = {}): Promise<ModelFile[]> {
  return [
    { name: 'model.safetensors', bytes: await modelSafetensorsAsync(model, metadata) },
    { name: 'config.json', bytes: json(configJson(model.config)) },
    { name: 'preprocessor_config.json', bytes: json(configFromSpec(spec)) },
  ];
}
