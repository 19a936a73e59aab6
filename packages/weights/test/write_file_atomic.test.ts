// writeFileAtomic creates missing directories one level at a time, so an impossible path fails at once.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../src/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'vitkit-atomic-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('creates missing parent directories and leaves no temp file', async () => {
    const path = join(tmp, 'a', 'b', 'out.bin');
    await writeFileAtomic(path, [new Uint8Array([1, 2]), new Uint8Array([3])]);
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
    expect(readdirSync(join(tmp, 'a', 'b'))).toEqual(['out.bin']);
  });

  it('refuses a path under /proc at once instead of looping (Node recursive mkdir spins there)', async () => {
    const started = Date.now();
    await expect(writeFileAtomic('/proc/vitkit-no-such/dir/out.bin', new Uint8Array(1))).rejects.toThrow(/ENOENT|EACCES|EPERM/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(existsSync('/proc/vitkit-no-such')).toBe(false);
  });

  it('refuses a parent that is a file', async () => {
    const file = join(tmp, 'plain');
    await writeFileAtomic(file, new Uint8Array(1));
    await expect(writeFileAtomic(join(file, 'child.bin'), new Uint8Array(1))).rejects.toThrow(/not a directory/);
  });
});
