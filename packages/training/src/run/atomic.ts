import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { OutputError } from '../errors.js';

let counter = 0;

/** A temp path in the same directory as `path` (so that rename is atomic), unique per process and call. */
export function tempPathFor(path: string): string {
  counter += 1;
  return join(dirname(path), `.${basename(path)}.${process.pid}.${counter}.tmp`);
}

function errorCode(e: unknown): string | undefined {
  return (e as { code?: string }).code;
}

/**
 * Creates directory `dir` and its missing parents. Unlike Node's recursive
 * mkdir, which loops forever where a parent exists but refuses children
 * (under /proc), each level is tried once: at most one mkdir per path
 * component. Failures are OutputErrors naming the directory.
 */
export function makeDirectory(dir: string): void {
  const path = resolve(dir);
  try {
    mkdirSync(path);
    return;
  } catch (e) {
    const code = errorCode(e);
    if (code === 'EEXIST') {
      if (statSync(path).isDirectory()) return;
      throw new OutputError(`cannot create directory ${path}: a file of that name exists`, 'choose another output directory');
    }
    const parent = dirname(path);
    if (code !== 'ENOENT' || parent === path) throw new OutputError(`cannot create directory ${path}: ${code ?? String(e)}`, 'choose a directory you can write to');
    makeDirectory(parent);
  }
  try {
    mkdirSync(path);
  } catch (e) {
    const code = errorCode(e);
    if (code === 'EEXIST' && statSync(path).isDirectory()) return;
    throw new OutputError(`cannot create directory ${path}: ${code ?? String(e)}`, 'choose a directory you can write to');
  }
}

/**
 * Writes `data` to `path` atomically: into a temp file in the same directory,
 * flushed to disk, then renamed over `path`. Readers (and a resumed run after
 * a crash) see either the old file or the new one, never a part.
 */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  makeDirectory(dirname(path));
  const tmp = tempPathFor(path);
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
}
