/**
 * Writes the sample gallery: the first Fashion-MNIST test image of a few
 * classes as 28x28 grayscale PNGs in public/samples/, and samples.json with
 * their true labels. Run from the repository root:
 *
 *   node --import tsx apps/web-demo/scripts/make-samples.ts [/usr/share/datasets/fashion-mnist]
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { encodeGrayPng } from './png.js';

const CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];
/** Classes in the gallery (Shirt and Coat are left out: they are the ones people confuse too). */
const GALLERY = [0, 1, 2, 3, 5, 7, 8, 9];

const dataDir = process.argv[2] ?? '/usr/share/datasets/fashion-mnist';
const outDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'public', 'samples');

function readIdx(path: string): { dims: number[]; data: Uint8Array } {
  const bytes = gunzipSync(readFileSync(path));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0) !== 0 || bytes[2] !== 0x08) throw new Error(`${path}: not an unsigned-byte IDX file`);
  const rank = bytes[3]!;
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  return { dims, data: bytes.subarray(4 + 4 * rank) };
}

function writeAtomic(path: string, data: Uint8Array | string): void {
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

const images = readIdx(join(dataDir, 't10k-images-idx3-ubyte.gz'));
const labels = readIdx(join(dataDir, 't10k-labels-idx1-ubyte.gz'));
const [, h, w] = images.dims as [number, number, number];
const samples: { file: string; label: number; className: string; testIndex: number }[] = [];
for (const cls of GALLERY) {
  const index = labels.data.indexOf(cls);
  const file = `${String(cls).padStart(2, '0')}-${CLASSES[cls]!.toLowerCase().replace(/[^a-z]+/g, '-')}.png`;
  writeAtomic(join(outDir, file), encodeGrayPng(images.data.subarray(index * h * w, (index + 1) * h * w), w, h));
  samples.push({ file, label: cls, className: CLASSES[cls]!, testIndex: index });
}
writeAtomic(join(outDir, 'samples.json'), `${JSON.stringify({ source: 'Fashion-MNIST test set (t10k)', samples }, null, 2)}\n`);
console.log(`wrote ${samples.length} samples to ${outDir}`);
