/**
 * Node-only modules, imported lazily so that browser bundles of this package
 * never pull them in: a computed specifier is invisible to bundlers.
 */
import type * as FsPromises from 'node:fs/promises';
import type * as Path from 'node:path';
import type * as Os from 'node:os';
import type * as Crypto from 'node:crypto';

export const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

export const nodeImport = (specifier: string): Promise<unknown> => import(/* @vite-ignore */ specifier);
const load = nodeImport;

export interface NodeModules {
  fs: typeof FsPromises;
  path: typeof Path;
  os: typeof Os;
  crypto: typeof Crypto;
}

let cached: Promise<NodeModules> | undefined;

export function nodeModules(): Promise<NodeModules> {
  cached ??= Promise.all([load('node:fs/promises'), load('node:path'), load('node:os'), load('node:crypto')]).then(
    ([fs, path, os, crypto]) => ({
      fs: fs as typeof FsPromises,
      path: path as typeof Path,
      os: os as typeof Os,
      crypto: crypto as typeof Crypto,
    }),
  );
  return cached;
}

/** An environment variable, or undefined outside Node. */
export function env(name: string): string | undefined {
  return isNode ? process.env[name] : undefined;
}

/**
 * Creates `dir` and its missing parents, one mkdir per missing level. Node's
 * recursive mkdir loops forever where a parent exists but refuses children
 * (under /proc); here such a path fails once with the system's error.
 */
async function makeParents(dir: string): Promise<void> {
  const { fs, path: p } = await nodeModules();
  const missing: string[] = [];
  for (let d = p.resolve(dir); ; d = p.dirname(d)) {
    const found = await fs.stat(d).then((st) => st, () => undefined);
    if (found) {
      if (!found.isDirectory()) throw new Error(`${d} is not a directory`);
      break;
    }
    missing.push(d);
    if (p.dirname(d) === d) break;
  }
  for (const d of missing.reverse()) {
    await fs.mkdir(d).catch((e: unknown) => {
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
    });
  }
}

/**
 * Writes a file atomically: the bytes go to a temporary file in the same
 * directory, which is then renamed over the target, so readers never see a
 * half-written file. `chunks` are written in order without joining them.
 */
export async function writeFileAtomic(path: string, chunks: Uint8Array | readonly Uint8Array[]): Promise<void> {
  const { fs, path: p, crypto } = await nodeModules();
  const dir = p.dirname(path);
  await makeParents(dir);
  const tmp = p.join(dir, `.${p.basename(path)}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, 'w');
  try {
    for (const c of chunks instanceof Uint8Array ? [chunks] : chunks) {
      let at = 0;
      while (at < c.length) {
        const { bytesWritten } = await handle.write(c, at, Math.min(c.length - at, 1 << 30));
        at += bytesWritten;
      }
    }
    await handle.sync();
  } catch (e) {
    await handle.close().catch(() => undefined);
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await handle.close();
  try {
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}
