// Bad ImageFolder input to `vit train --weights <model> --data <dir>` (issue 29): a class folder
// without images, one of non-images, a file that is no image, too few images for a validation
// split. One clear line each, no stack, and an earlier run in --out loses nothing.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeGrayPng } from '../../web-demo/scripts/png.js';
import { ROOT, vitCommand } from './helpers/predict_cli.js';

const MODEL = join(ROOT, 'apps', 'web-demo', 'public', 'models', 'fashion-mnist');
const tmp = mkdtempSync(join(tmpdir(), 'vit-folder-refusals-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** `vit train` fine-tuning the bundled model, as a child process. */
const vit = (args: string[]): ReturnType<typeof vitCommand> =>
  vitCommand('train', '--weights', MODEL, '--freeze', 'backbone', '--workers', '1', '--backend', 'cpu', '--batch-size', '4', ...args);

/** Exit 1 with one line on stderr, matching `pattern`. */
function refused(args: string[], pattern: RegExp): void {
  const r = vit(args);
  expect({ code: r.code, lines: r.stderr.trim().split('\n').length }, r.stderr).toEqual({ code: 1, lines: 1 });
  expect(r.stderr).toMatch(pattern);
}

/** A folder of 28x28 gray PNGs: `counts` images per class (distinct gradients). */
function folder(name: string, counts: Record<string, number>): string {
  const dir = join(tmp, name);
  for (const [cls, n] of Object.entries(counts)) {
    mkdirSync(join(dir, cls), { recursive: true });
    for (let i = 0; i < n; i++) writeFileSync(join(dir, cls, `${i}.png`), encodeGrayPng(Uint8Array.from({ length: 784 }, (_, p) => (p * (i + 1) + cls.length * 40) % 256), 28, 28));
  }
  return dir;
}

/** A directory that holds an earlier run (as its file names say), with the bytes of each file. */
function earlierRun(): { dir: string; files: Map<string, string> } {
  const dir = join(tmp, 'earlier-run');
  mkdirSync(join(dir, 'checkpoint'), { recursive: true });
  const files = new Map([
    ['metrics.jsonl', '{"type":"step","step":1,"loss":2.3}\n'],
    ['model.safetensors', 'weights of the earlier run'],
    [join('checkpoint', 'trainer_state.json'), '{"step":1}'],
  ]);
  for (const [f, text] of files) writeFileSync(join(dir, f), text);
  return { dir, files };
}

describe('vit train on a bad ImageFolder', () => {
  it('a class folder without images, an --image-size unlike the checkpoint preprocessing: refused in one line before --overwrite deletes anything', () => {
    const data = folder('empty-class', { coat: 4, shirt: 4 });
    mkdirSync(join(data, 'sandal'));
    const run = earlierRun();
    refused(['--data', data, '--steps', '1', '--out', run.dir, '--overwrite'], /class folder .*empty-class\/sandal has no images — add PNG\/JPEG\/GIF\/WebP images to it, or remove the folder/);
    // An --image-size the checkpoint's preprocessing does not make: refused too, the run still intact.
    rmSync(join(data, 'sandal'), { recursive: true });
    refused(['--data', data, '--steps', '1', '--image-size', '56', '--out', run.dir, '--overwrite'], /fashion-mnist's preprocessing makes 28x28 inputs, but the model is set to 56x56 \(--image-size\) — drop --image-size/);
    for (const [f, text] of run.files) expect(readFileSync(join(run.dir, f), 'utf8')).toBe(text);
    expect(readdirSync(run.dir).sort()).toEqual(['checkpoint', 'metrics.jsonl', 'model.safetensors']);
  });

  it('a class folder of non-images, and a .png that is no image: refused, naming the folder or the file', () => {
    const notes = folder('non-images', { coat: 4, shirt: 4 });
    mkdirSync(join(notes, 'sandal'));
    writeFileSync(join(notes, 'sandal', 'notes.txt'), 'not an image');
    refused(['--data', notes, '--steps', '1', '--out', join(tmp, 'out-notes')], /non-images\/sandal has no images \(only 1 other file, e.g\. notes\.txt\)/);
    const broken = folder('broken', { coat: 4, shirt: 4 });
    writeFileSync(join(broken, 'shirt', '9.png'), 'this is text, not a PNG');
    refused(['--data', broken, '--steps', '1', '--out', join(tmp, 'out-broken')], /broken\/shirt\/9\.png: .* — /);
  });

  it('too few images for the validation split, and stray files: trains on with a warning line for each', () => {
    const data = folder('few', { coat: 3, shirt: 3 });
    writeFileSync(join(data, 'coat', 'README.md'), 'stray');
    const out = join(tmp, 'out-few');
    const r = vit(['--data', data, '--steps', '2', '--val-split', '0.05', '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^warning: few train: skipping 1 file that is not an image \(e\.g\. coat\/README\.md\)$/);
    expect(lines[1]).toMatch(/^warning: 6 training images are too few for a 5% validation split \(it would hold none\)/);
    expect(readdirSync(out)).toContain('model.safetensors');
  });
});
