/**
 * The Node half of the GPU kernel test's plumbing: bundles page.ts with
 * esbuild, serves it from 127.0.0.1 (WebGPU needs a secure context) and
 * drives Debian's Chromium with playwright-core, with the flags
 * apps/web-demo's browser tests use (WebGPU on SwiftShader, WebGL2).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Page } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));

/** Debian's Chromium; CHROMIUM overrides it. */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** page.ts as one ES module (tfjs and the backends included). */
export async function bundlePage(): Promise<string> {
  const result = await build({
    entryPoints: [join(HERE, 'page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

export interface PageServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the page and its bundle from memory on 127.0.0.1. */
export async function servePage(bundle: string): Promise<PageServer> {
  const html = '<!doctype html><meta charset="utf-8"><title>vitkit GPU kernels</title><script type="module" src="/page.js"></script>';
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/') res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(html);
    else if (path === '/page.js') res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(bundle);
    else if (path === '/favicon.ico') res.writeHead(204).end();
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type PageLike = Page;

export interface BrowserLike {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile; fails (never skips) when Chromium is missing. */
export async function launchChromium(): Promise<BrowserLike> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: the GPU kernel test needs it (apt-get install chromium, as root), or set CHROMIUM to a Chromium binary`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'vitkit-gpu-kernels-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--enable-unsafe-webgpu',
      '--use-webgpu-adapter=swiftshader',
    ],
  });
  return {
    newPage: () => context.newPage(),
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
