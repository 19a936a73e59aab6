/** What a dropped or pasted file is for, judged by its name and type. */
export type FileRole = 'model' | 'input' | 'unknown';

const MODEL_EXTENSIONS = ['.safetensors', '.npz', '.json', '.bin', '.pt', '.pth', '.ckpt', '.h5', '.onnx'];

export function fileRole(file: File): FileRole {
  const name = file.name.toLowerCase();
  if (MODEL_EXTENSIONS.some((ext) => name.endsWith(ext))) return 'model';
  if (name.endsWith('.npy') || file.type.startsWith('image/')) return 'input';
  // Unknown names (pasted screenshots are "image.png", but some sources give none): let the decoder decide.
  return file.type === '' ? 'input' : 'unknown';
}

/** Splits files into model files and inputs. */
export function sortFiles(files: Iterable<File>): { model: File[]; inputs: File[]; unknown: File[] } {
  const out = { model: [] as File[], inputs: [] as File[], unknown: [] as File[] };
  for (const f of files) {
    const role = fileRole(f);
    if (role === 'model') out.model.push(f);
    else if (role === 'input') out.inputs.push(f);
    else out.unknown.push(f);
  }
  return out;
}
