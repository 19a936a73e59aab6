import { homedir } from 'node:os';
import { fetchBytes } from '@vitkit/weights';
import { join } from 'node:path';
import { DataError } from '../errors.js';
import { writeFileAtomic } from '../run/atomic.js';
import type { DatasetSplits } from './dataset.js';
import { findFile, isDirectory } from './files.js';
import { parseIdx } from './idx.js';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_NORMALIZATION, loadMnistDir, looksLikeMnistDir } from './mnist.js';

/** Where Zalando publishes Fashion-MNIST (see github.com/zalandoresearch/fashion-mnist). */
export const FASHION_MNIST_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/';

export const FASHION_MNIST_FILES = [
  'train-images-idx3-ubyte.gz',
  'train-labels-idx1-ubyte.gz',
  't10k-images-idx3-ubyte.gz',
  't10k-labels-idx1-ubyte.gz',
] as const;

/** The shape each official file must have, to reject truncated or wrong downloads. */
const EXPECTED_SHAPES: Record<(typeof FASHION_MNIST_FILES)[number], number[]> = {
  'train-images-idx3-ubyte.gz': [60000, 28, 28],
  'train-labels-idx1-ubyte.gz': [60000],
  't10k-images-idx3-ubyte.gz': [10000, 28, 28],
  't10k-labels-idx1-ubyte.gz': [10000],
};

/** Debian's dataset-fashion-mnist package installs the files here. */
export const SYSTEM_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export interface FashionMnistOptions {
  /** Directory with datasets (default: $VITKIT_DATA). Searched as `<dir>/fashion-mnist` and `<dir>`. */
  dataDir?: string;
  /** Where to look after dataDir (default /usr/share/datasets/fashion-mnist). */
  systemDir?: string;
  /** Download when not found locally (default true). */
  download?: boolean;
  /** Base URL of the files (default: the official one, or $VITKIT_FASHION_MNIST_URL). */
  baseUrl?: string;
  /** Where downloads go (default `<dataDir>/fashion-mnist`, else ~/.cache/vitkit/fashion-mnist). */
  cacheDir?: string;
  /** Reports download progress. */
  onProgress?: (message: string) => void;
  fetch?: typeof fetch;
  /** Give up on a download after this many ms without data (default 30000). */
  idleTimeoutMs?: number;
}

/** The official .gz files are 26 MB at most; anything past 64 MiB is not one of them. */
const MAX_DOWNLOAD_BYTES = 64 * 2 ** 20;

function hasAllFiles(dir: string): boolean {
  return isDirectory(dir) && looksLikeMnistDir(dir) && findFile(dir, ['t10k-labels-idx1-ubyte.gz', 't10k-labels-idx1-ubyte']) !== undefined;
}

/** The directories searched, in order, before downloading. */
export function fashionMnistSearchPath(options: FashionMnistOptions = {}): string[] {
  const dataDir = options.dataDir ?? process.env.VITKIT_DATA;
  const dirs: string[] = [];
  if (dataDir) dirs.push(join(dataDir, 'fashion-mnist'), dataDir);
  dirs.push(options.systemDir ?? SYSTEM_FASHION_MNIST_DIR);
  const cache = defaultCacheDir(options);
  if (!dirs.includes(cache)) dirs.push(cache);
  return dirs;
}

function defaultCacheDir(options: FashionMnistOptions): string {
  if (options.cacheDir) return options.cacheDir;
  const dataDir = options.dataDir ?? process.env.VITKIT_DATA;
  return dataDir ? join(dataDir, 'fashion-mnist') : join(homedir(), '.cache', 'vitkit', 'fashion-mnist');
}

/** Downloads the four official files into `dir` (each written atomically after its contents are checked). */
export async function downloadFashionMnist(dir: string, options: FashionMnistOptions = {}): Promise<void> {
  const base = options.baseUrl ?? process.env.VITKIT_FASHION_MNIST_URL ?? FASHION_MNIST_URL;
  const doFetch = options.fetch ?? globalThis.fetch;
  for (const file of FASHION_MNIST_FILES) {
    if (findFile(dir, [file])) continue;
    const url = new URL(file, base.endsWith('/') ? base : `${base}/`).href;
    options.onProgress?.(`downloading ${url}`);
    let bytes: Uint8Array;
    try {
      const res = await fetchBytes(url, { fetch: doFetch, maxBytes: MAX_DOWNLOAD_BYTES, ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}) });
      if (res.status !== 'ok') throw new Error('not found');
      bytes = res.bytes;
    } catch (e) {
      throw new DataError(
        `could not download ${url}: ${e instanceof Error ? e.message : String(e)}`,
        `download the four Fashion-MNIST files yourself into ${dir}, or install Debian's dataset-fashion-mnist, or set VITKIT_DATA`,
        { cause: e },
      );
    }
    const want = EXPECTED_SHAPES[file];
    // Inflate no more than the official file holds (16-byte header at most, one byte per value).
    const parsed = parseIdx(bytes, url, { maxBytes: 4 + 4 * want.length + want.reduce((a, b) => a * b, 1) });
    if (parsed.shape.join(',') !== want.join(',')) {
      throw new DataError(`${url} has shape [${parsed.shape.join(', ')}], expected [${want.join(', ')}]`, 'the server did not return the official file');
    }
    writeFileAtomic(join(dir, file), bytes);
  }
}

/**
 * Finds Fashion-MNIST locally ($VITKIT_DATA, then Debian's
 * /usr/share/datasets/fashion-mnist, then the download cache) or downloads
 * it from the official site, and returns the dataset directory.
 */
export async function locateFashionMnist(options: FashionMnistOptions = {}): Promise<string> {
  for (const dir of fashionMnistSearchPath(options)) if (hasAllFiles(dir)) return dir;
  if (options.download === false) {
    throw new DataError(
      `Fashion-MNIST not found (looked in ${fashionMnistSearchPath(options).join(', ')})`,
      'set VITKIT_DATA to a directory with the files, or allow downloading',
    );
  }
  const dir = defaultCacheDir(options);
  await downloadFashionMnist(dir, options);
  return dir;
}

/** Loads the full Fashion-MNIST (60k train, 10k test), locating or downloading it first. */
export async function loadFashionMnist(options: FashionMnistOptions = {}): Promise<DatasetSplits> {
  const dir = await locateFashionMnist(options);
  return loadMnistDir(dir, { name: 'fashion-mnist', classNames: FASHION_MNIST_CLASSES, normalization: FASHION_MNIST_NORMALIZATION, numClasses: 10 });
}
