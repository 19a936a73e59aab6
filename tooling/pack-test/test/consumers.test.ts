// The README's snippets, as written, from the packed tarballs: a Node script
// in a fresh npm project, and a fresh Vite app built, served on 127.0.0.1
// (`vite preview`) and run in Chromium. Both must run wasm on every core
// (at most 8) and give the same logits.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closure, packAll, readmeSnippet, root, scratchProject } from './support/pack.js';
// The Hub layouts the task-layer tests serve (packages/tasks/test): the snippet's hf:// repos, tiny.
import { hubRepos, serveHub } from '../../../packages/tasks/test/hub_layouts.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const micro = join(root, 'fixtures', 'reference', 'vit-micro');

interface Result {
  name: string;
  threads: number;
  simd?: boolean;
  notes: string[];
  logits: number[];
}

// Appended after each snippet: reads the snippet's own variables.
const NODE_PROBE = `\nconsole.log('PACK-TEST ' + JSON.stringify({ name: backend.name, threads: backend.threads, simd: backend.simd, notes: backend.notes, logits: Array.from(await logits.data()) }));\n`;
const BROWSER_PROBE = `\nObject.assign(globalThis, { packTest: { name: backend.name, threads: backend.threads, simd: backend.simd, notes: backend.notes, logits: Array.from(await logits.data()) } });\n`;

let app = '';
let work = '';
let nodeResult: Result | undefined;
const previews: ChildProcess[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

beforeAll(() => {
  // @vitkit/tasks needs @vitkit/vit and the rest, so its closure packs both.
  const packed = packAll(closure('@vitkit/tasks'));
  work = packed.work;
  const { tarballs } = packed;
  // One fresh project for both consumers: the Node scripts and the Vite app.
  app = scratchProject(
    work,
    tarballs,
    '@vitkit/vit',
    {
      'main.mjs': readmeSnippet('node') + NODE_PROBE,
      'tasks.mjs': readmeSnippet('tasks'),
      'main.ts': readmeSnippet('browser') + BROWSER_PROBE,
      'vite.config.js': readmeSnippet('vite-config'),
      'index.html': '<!doctype html><html><head><link rel="icon" href="data:,"></head><body><script type="module" src="./main.ts"></script></body></html>\n',
    },
    { dependencies: { '@vitkit/tasks': `file:${tarballs.get('@vitkit/tasks')}` }, devDependencies: { vite: '^8.0.0' } },
  );
  // The task-layer snippet's images.
  for (const name of ['cat.jpg', 'a.jpg', 'b.jpg']) copyFileSync(join(root, 'fixtures', 'reference', 'task-layer', 'chelsea_crop.jpg'), join(app, name));
  copyFileSync(join(micro, 'timm.safetensors'), join(app, 'model.safetensors'));
  copyFileSync(join(micro, 'hf-config.json'), join(app, 'config.json'));
  mkdirSync(join(app, 'public'));
  copyFileSync(join(micro, 'timm.safetensors'), join(app, 'public', 'model.safetensors'));
  copyFileSync(join(micro, 'hf-config.json'), join(app, 'public', 'config.json'));
});

afterAll(() => {
  for (const p of previews) p.kill();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** `vite build`, then `vite preview` on a free 127.0.0.1 port; returns its URL. */
async function buildAndPreview(dir: string): Promise<string> {
  // Vite's own bin, not npx: killing the child must stop the server itself.
  const vite = join(dir, 'node_modules', 'vite', 'bin', 'vite.js');
  execFileSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: dir, stdio: 'pipe', timeout: 180_000 });
  const port = await freePort();
  previews.push(spawn(process.execPath, [vite, 'preview', '--port', String(port), '--strictPort', '--host', '127.0.0.1'], { cwd: dir, stdio: 'ignore' }));
  const url = `http://127.0.0.1:${port}/`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(url)).ok) return url;
    } catch {
      // not listening yet
    }
    if (i > 100) throw new Error('vite preview did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Opens `url` in Chromium and waits for the page to set globalThis.packTest (or to fail). */
async function runPage<T>(url: string, allowErrors = false): Promise<{ result: T; errors: string[]; cores: number; isolated: boolean }> {
  expect(existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM}: apt-get install chromium`).toBe(true);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking'] });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`${m.text()} (${m.location().url})`);
    });
    await page.goto(url);
    // The page either finishes (its probe sets packTest) or fails (a page error).
    for (let waited = 0; !(await page.evaluate(() => 'packTest' in globalThis)); waited += 250) {
      if ((errors.length && !allowErrors) || waited > 120_000) throw new Error(`the page did not finish: ${errors.join('; ') || 'timed out'}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    return {
      result: (await page.evaluate(() => (globalThis as unknown as { packTest: unknown }).packTest)) as T,
      errors,
      cores: await page.evaluate(() => navigator.hardwareConcurrency),
      isolated: await page.evaluate(() => crossOriginIsolated),
    };
  } finally {
    await browser.close();
  }
}

describe("the README's snippets from packed tarballs", () => {
  it('Node: wasm on every core, no patched package', () => {
    const out = execFileSync('node', ['main.mjs'], { cwd: app, encoding: 'utf8', timeout: 120_000 });
    const line = out.split('\n').find((l) => l.startsWith('PACK-TEST '));
    nodeResult = JSON.parse(line!.slice('PACK-TEST '.length)) as Result;
    expect(nodeResult.name).toBe('wasm');
    expect(nodeResult.threads).toBe(Math.min(8, availableParallelism()));
    expect(nodeResult.simd).toBe(true);
    expect(nodeResult.notes).toEqual([]);
    expect(nodeResult.logits).toHaveLength(10);
    // Stock tfjs-backend-wasm as npm installs it: nothing patched.
    const main = readFileSync(join(app, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist', 'tf-backend-wasm.node.js'), 'utf8');
    expect(main).not.toContain('vitkit');
  });

  it('Vite + Chromium: minified build, every core, same logits as Node', async () => {
    const { result: got, errors, cores, isolated } = await runPage<Result>(await buildAndPreview(app));
    expect(isolated).toBe(true);
    expect(got.name).toBe('wasm');
    expect(got.threads).toBe(Math.min(8, cores));
    expect(got.simd).toBe(true);
    expect(got.notes).toEqual([]);
    expect(errors).toEqual([]);
    expect(nodeResult, 'the Node test runs first').toBeDefined();
    const maxDiff = Math.max(...got.logits.map((v, i) => Math.abs(v - nodeResult!.logits[i]!)));
    expect(maxDiff).toBeLessThan(1e-4);
  });

  it('Vite + Chromium without cross-origin isolation: one thread, and the notes say why', async () => {
    // The same build served without COOP/COEP (dist/ from the test above).
    const dist = join(app, 'dist');
    const server = createHttpServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const file = join(dist, path === '/' ? 'index.html' : path);
      if (!file.startsWith(dist) || !existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      const type = file.endsWith('.html') ? 'text/html' : file.endsWith('.wasm') ? 'application/wasm' : file.endsWith('.js') ? 'text/javascript' : 'application/octet-stream';
      res.writeHead(200, { 'Content-Type': type }).end(readFileSync(file));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as { port: number };
      const { result: got, isolated } = await runPage<Result>(`http://127.0.0.1:${port}/`);
      expect(isolated).toBe(false);
      expect(got.threads).toBe(1);
      expect(got.notes.join(' ')).toMatch(/not cross-origin isolated/);
      const maxDiff = Math.max(...got.logits.map((v, i) => Math.abs(v - nodeResult!.logits[i]!)));
      expect(maxDiff).toBeLessThan(1e-4);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('Vite without the wasm URLs: the error names the .wasm URL that failed, its status, and the fix', async () => {
    const dir = join(app, 'no-assets');
    mkdirSync(dir);
    symlinkSync(join(app, 'node_modules'), join(dir, 'node_modules'), 'dir');
    copyFileSync(join(app, 'index.html'), join(dir, 'index.html'));
    copyFileSync(join(app, 'vite.config.js'), join(dir, 'vite.config.js'));
    writeFileSync(
      join(dir, 'main.ts'),
      `import '@tensorflow/tfjs-backend-wasm';
import { setupBackend } from '@vitkit/vit';
try {
  await setupBackend('auto');
  Object.assign(globalThis, { packTest: { ok: true } });
} catch (e) {
  Object.assign(globalThis, { packTest: { message: (e as Error).message, hint: (e as { hint?: string }).hint } });
}
`,
    );
    const { result } = await runPage<{ message?: string; hint?: string }>(await buildAndPreview(dir), true);
    console.log(`[pack-test] ${result.message}`);
    // vite preview answers unknown paths with the app's index.html, so the cause is an HTML page, not a 404.
    expect(result.message).toMatch(
      /wasm: backend "wasm" failed to initialize: http:\/\/127\.0\.0\.1:\d+\/[-\w/]*tfjs-backend-wasm[-\w]*\.wasm (answered HTTP 404|is not a \.wasm file \(text\/html)/,
    );
    expect(result.hint).toContain('wasmAssets');
    expect(result.hint).not.toMatch(/^install @tensorflow\/tfjs-backend-wasm/);
  });

  it('Node: the task layer snippet (hf:// classifier and embedder) from a local Hub', async () => {
    const repos = hubRepos().filter((r) => r.repo === 'google/vit-base-patch16-224' || r.repo === 'facebook/dinov2-small');
    expect(repos).toHaveLength(2);
    const hub = await serveHub(repos);
    try {
      // Asynchronously: the server answers from this process while the script runs.
      const { stdout } = await promisify(execFile)('node', ['tasks.mjs'], {
        cwd: app,
        encoding: 'utf8',
        timeout: 120_000,
        env: { ...process.env, VITKIT_HF_ENDPOINT: hub.url, VITKIT_CACHE: join(app, '.vitkit-cache') },
      });
      console.log(`[pack-test] tasks.mjs:\n${stdout}`);
      const classes = (repos[0]!.expect as { labels: string[] }).labels;
      const labels = [...stdout.matchAll(/label: '([^']*)'/g)].map((m) => m[1]);
      expect(labels).toHaveLength(3);
      for (const l of labels) expect(classes).toContain(l);
      const cosine = Number(stdout.trim().split('\n').pop());
      // a.jpg and b.jpg are the same image.
      expect(cosine).toBeCloseTo(1, 5);
    } finally {
      await hub.close();
    }
  });
});
