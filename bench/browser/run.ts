// vitkit vs onnxruntime-web in Chromium, from packed tarballs in a fresh Vite
// app: `npx -y pnpm@10 -s bench:browser [--presets a,b] [--threads 1,2] [--runs N] [--warmup N]`.
// The app lives in bench/browser/.app/ (ignored): on first use (and whenever
// the tarballs change) it runs `npm install` there, which fetches
// onnxruntime-web, vite and playwright-core from the npm registry. Needs built
// packages (`npx -y pnpm@10 -r build`) and Debian's Chromium.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { exportViTToOnnx } from '../../apps/trainer/src/bench/onnx/export_vit.js';
import { closure, packAll, root } from '../../tooling/pack-test/test/support/pack.js';

// This folder is no workspace package: tfjs and vitkit (its sources) come from apps/trainer's dependencies.
const fromTrainer = createRequire(join(root, 'apps', 'trainer', 'package.json'));
const load = async <T>(name: string): Promise<T> => (await import(pathToFileURL(fromTrainer.resolve(name)).href)) as T;
const tf = await load<typeof import('@tensorflow/tfjs-core')>('@tensorflow/tfjs-core');
const { setupBackend } = await load<typeof import('@vitkit/core')>('@vitkit/core');
const { createViT } = await load<typeof import('@vitkit/vit')>('@vitkit/vit');

const ORT_VERSION = '1.30.0';
const { values: flags } = parseArgs({
  options: {
    presets: { type: 'string', default: 'vit_tiny_patch16_224,vit_base_patch16_224' },
    threads: { type: 'string', default: '1,2' },
    runs: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
  },
});
const presets = flags.presets!.split(',');
const threadCounts = flags.threads!.split(',').map(Number);
const here = join(root, 'bench', 'browser');
const app = join(here, '.app');
const log = (line: string) => console.error(`[bench:browser] ${line}`);
// pnpm passes its own npm_config_* settings down; npm warns about each one it does not know.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_config_')));

// 1. The app: the bench page and its config, the packed @vitkit packages, onnxruntime-web from npm.
mkdirSync(app, { recursive: true });
for (const f of readdirSync(join(here, 'app'))) cpSync(join(here, 'app', f), join(app, f));
const { work, tarballs } = packAll(closure('@vitkit/vit'));
const tarDir = join(app, 'tarballs');
rmSync(tarDir, { recursive: true, force: true });
mkdirSync(tarDir);
const local = (name: string) => {
  const file = join(tarDir, tarballs.get(name)!.split('/').pop()!);
  cpSync(tarballs.get(name)!, file);
  return `file:./tarballs/${file.split('/').pop()}`;
};
const overrides = Object.fromEntries(closure('@vitkit/vit').map((n) => [n, local(n)]));
const manifest = {
  name: 'vitkit-bench-browser',
  private: true,
  type: 'module',
  dependencies: {
    '@tensorflow/tfjs-core': '4.22.0',
    '@tensorflow/tfjs-backend-wasm': '4.22.0',
    '@vitkit/vit': overrides['@vitkit/vit'],
    'onnxruntime-web': ORT_VERSION,
  },
  devDependencies: { vite: '^8.0.0', 'playwright-core': '^1.55.0' },
  overrides,
};
writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
rmSync(work, { recursive: true, force: true });
log('npm install in bench/browser/.app (onnxruntime-web, vite, the packed @vitkit tarballs) ...');
// The tarballs are rebuilt each run: reinstall the @vitkit packages, keep the rest.
rmSync(join(app, 'node_modules', '@vitkit'), { recursive: true, force: true });
rmSync(join(app, 'package-lock.json'), { force: true });
execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: app, stdio: 'inherit', env });

// onnxruntime-web's own wasm files, served as they ship.
const ortDist = join(app, 'node_modules', 'onnxruntime-web', 'dist');
mkdirSync(join(app, 'public', 'ort'), { recursive: true });
for (const f of readdirSync(ortDist)) if (/^ort-wasm.*\.(mjs|wasm)$/.test(f)) cpSync(join(ortDist, f), join(app, 'public', 'ort', f));

// 2. Seeded models and inputs, the ONNX export and vitkit's Node logits (wasm, every core).
const models = join(app, 'public', 'models');
mkdirSync(models, { recursive: true });
const nodeSetup = await setupBackend('wasm');
log(`Node reference: wasm, ${nodeSetup.threads} threads`);
for (const preset of presets) {
  const model = createViT(preset, {}, { seed: 0 });
  const [h, w] = model.config.imageSize;
  const n = h * w * model.config.inChannels;
  const input = new Float32Array(n);
  for (let i = 0; i < n; i++) input[i] = Math.sin(i * 0.37) * 0.9;
  const x = tf.tensor(input, [1, h, w, model.config.inChannels]);
  const logits = model.predict(x);
  writeFileSync(join(models, `${preset}.input.bin`), Buffer.from(input.buffer));
  writeFileSync(join(models, `${preset}.node-logits.bin`), Buffer.from(((await logits.data()) as Float32Array).slice().buffer));
  writeFileSync(join(models, `${preset}.onnx`), exportViTToOnnx(model, 1));
  tf.dispose([x, logits]);
  model.dispose();
}

// 3. Build, serve on 127.0.0.1, one fresh page per measurement.
log('vite build ...');
// Vite's own bin, not npx: killing the child must stop the server itself.
const vite = join(app, 'node_modules', 'vite', 'bin', 'vite.js');
execFileSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: app, stdio: 'inherit', env });
const port = await new Promise<number>((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => resolve(p));
  });
});
const preview = spawn(process.execPath, [vite, 'preview', '--port', String(port), '--strictPort', '--host', '127.0.0.1'], { cwd: app, stdio: 'ignore', env });
const url = `http://127.0.0.1:${port}/`;
for (let i = 0; ; i++) {
  try {
    if ((await fetch(url)).ok) break;
  } catch {
    // not up yet
  }
  if (i > 300) throw new Error('vite preview did not start');
  await new Promise((r) => setTimeout(r, 200));
}
const { chromium } = createRequire(join(app, 'package.json'))('playwright-core') as typeof import('playwright-core');
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });

interface Row {
  engine: string;
  preset: string;
  threads: number;
  actualThreads: number;
  ms: number;
  maxDiffVsNode: number;
  load: number;
  error?: string;
}
const rows: Row[] = [];
try {
  for (const preset of presets) {
    for (const threads of threadCounts) {
      // Alternate engines so that load changes hit both alike.
      for (const engine of ['vitkit', 'ort']) {
        const page = await browser.newPage();
        await page.goto(`${url}?engine=${engine}&preset=${preset}&threads=${threads}&runs=${flags.runs}&warmup=${flags.warmup}`);
        await page.waitForFunction(() => 'benchResult' in globalThis, undefined, { timeout: 600_000 });
        const r = (await page.evaluate(() => (globalThis as unknown as { benchResult: Row }).benchResult)) as Row;
        await page.close();
        if (r.error) throw new Error(`${engine} ${preset} ${threads} threads: ${r.error}`);
        r.load = loadavg()[0]!;
        rows.push(r);
        log(`${preset} ${engine} ${threads} thread(s): ${r.ms.toFixed(1)} ms (threads ${r.actualThreads}, max |diff| vs Node ${r.maxDiffVsNode.toExponential(1)}, load ${r.load.toFixed(1)})`);
      }
    }
  }
} finally {
  await browser.close();
  preview.kill();
}

// 4. The table.
console.log(`\nChromium ${browser.version()} on ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), batch 1, median of ${flags.runs} runs after ${flags.warmup} warm-ups; onnxruntime-web ${ORT_VERSION} (wasm EP)\n`);
console.log('| model | threads | vitkit ms | onnxruntime-web ms | vitkit / ort | vitkit threads | max abs diff vs Node (vitkit, ort) | load (vitkit, ort) |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const preset of presets) {
  for (const threads of threadCounts) {
    const v = rows.find((r) => r.engine === 'vitkit' && r.preset === preset && r.threads === threads)!;
    const o = rows.find((r) => r.engine === 'ort' && r.preset === preset && r.threads === threads)!;
    console.log(
      `| ${preset} | ${threads} | ${v.ms.toFixed(0)} | ${o.ms.toFixed(0)} | ${(v.ms / o.ms).toFixed(2)}x | ${v.actualThreads} | ${v.maxDiffVsNode.toExponential(1)}, ${o.maxDiffVsNode.toExponential(1)} | ${v.load.toFixed(1)}, ${o.load.toFixed(1)} |`,
    );
  }
}
writeFileSync(join(app, 'results.json'), JSON.stringify(rows, null, 2));
