import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as browser from '../src/browser.js';
import * as node from '../src/index.js';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../src');
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Value imports and re-exports of a module (`import type` is erased and does not count), with literal dynamic imports. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+'([^']+)'/gm)) if (!m[2]) found.push(m[3]!);
  for (const m of text.matchAll(/^\s*import\s+'([^']+)'/gm)) found.push(m[1]!);
  for (const m of text.matchAll(/import\(\s*'([^']+)'\s*\)/g)) found.push(m[1]!);
  return found;
}

/** Every file of this package the entry reaches, and every import leaving the package. */
function graph(entry: string): { files: Set<string>; external: Set<string> } {
  const files = new Set<string>();
  const external = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of importsOf(file)) {
      if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')));
      else external.add(spec);
    }
  };
  visit(join(SRC, entry));
  return { files, external };
}

describe('the browser entry', () => {
  it('reaches no Node built-in and none of the Node-only modules', () => {
    const { files, external } = graph('browser.ts');
    expect([...external].filter((s) => BUILTINS.has(s))).toEqual([]);
    const reached = [...files].map((f) => f.slice(SRC.length + 1));
    for (const nodeOnly of ['register_gradients.ts', 'run/atomic.ts', 'run/checkpoint.ts', 'run/run_training.ts', 'data/idx.ts', 'parallel/gradient_worker_pool.ts']) {
      expect(reached).not.toContain(nodeOnly);
    }
    // The check itself must see what it is looking for: the Node entry does reach built-ins.
    expect([...graph('index.ts').external].filter((s) => BUILTINS.has(s)).length).toBeGreaterThan(3);
  });

  it('exports everything portable the Node entry has, with the same objects', () => {
    const nodeOnly = new Set(Object.keys(node).filter((k) => !(k in browser)));
    for (const name of Object.keys(browser)) {
      if (name === 'registerGradients') continue; // the browser's own: no loader hook
      expect(browser[name as keyof typeof browser], name).toBe(node[name as keyof typeof node]);
    }
    for (const name of ['Trainer', 'AdamW', 'crossEntropy', 'learningRateAt', 'evaluate', 'modelSafetensors', 'configJson', 'gradientsRegistered']) expect(Object.keys(browser)).toContain(name);
    for (const name of ['loadDataset', 'runTraining', 'GradientWorkerPool', 'saveRunCheckpoint']) expect(nodeOnly.has(name), name).toBe(true);
  });

  it('is what bundlers resolve: a "browser" condition on "." and a ./browser subpath', () => {
    const pkg = JSON.parse(readFileSync(join(SRC, '../package.json'), 'utf8')) as { exports: Record<string, Record<string, unknown>> };
    expect(Object.keys(pkg.exports['.']!)[0]).toBe('browser');
    expect(pkg.exports['.']!.browser).toEqual(pkg.exports['./browser']);
    expect((pkg.exports['./browser'] as Record<string, string>)['@vitkit/source']).toBe('./src/browser.ts');
  });
});
