// Builds data/fashion-mnist-subset/ from the full Fashion-MNIST: the first
// 1000 training images of each class (10k) and the first 200 test images of
// each class (2k), in their original order, as gzipped IDX files.
//   node --conditions=@vitkit/source --import tsx packages/training/scripts/make-fashion-mnist-subset.ts [sourceDir] [outDir]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseIdx, serializeIdx } from '../src/data/idx.js';
import { writeFileAtomic } from '../src/run/atomic.js';

const src = process.argv[2] ?? '/usr/share/datasets/fashion-mnist';
const out = process.argv[3] ?? 'data/fashion-mnist-subset';

function take(split: 'train' | 't10k', perClass: number): void {
  const images = parseIdx(readFileSync(join(src, `${split}-images-idx3-ubyte.gz`)));
  const labels = parseIdx(readFileSync(join(src, `${split}-labels-idx1-ubyte.gz`)));
  const [, h, w] = images.shape as [number, number, number];
  const counts = new Array<number>(10).fill(0);
  const keep: number[] = [];
  labels.data.forEach((y, i) => {
    if (counts[y]! < perClass) {
      counts[y]! += 1;
      keep.push(i);
    }
  });
  const px = new Uint8Array(keep.length * h * w);
  keep.forEach((idx, i) => px.set((images.data as Uint8Array).subarray(idx * h * w, (idx + 1) * h * w), i * h * w));
  const ys = Uint8Array.from(keep, (i) => labels.data[i]!);
  writeFileAtomic(join(out, `${split}-images-idx3-ubyte.gz`), gzipSync(serializeIdx([keep.length, h, w], px), { level: 9 }));
  writeFileAtomic(join(out, `${split}-labels-idx1-ubyte.gz`), gzipSync(serializeIdx([keep.length], ys), { level: 9 }));
  console.log(`${split}: ${keep.length} images`);
}

take('train', 1000);
take('t10k', 200);
