import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, ConfigError } from './errors.js';
import { installFusedKernels, uninstallFusedKernels } from './backends/fused/index.js';
import {
  installWasmKernels,
  prepareWasmBackend,
  uninstallWasmKernels,
  unrefWasmWorkers,
  wasmInitError,
  wasmReport,
  type WasmAssets,
} from './backends/wasm/index.js';

/** The tfjs backends vitkit knows how to set up, best first. */
export const BACKEND_NAMES = ['tensorflow', 'webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type BackendChoice = 'auto' | BackendName;

/** Imports the package that registers a backend with tfjs-core. */
export type BackendLoader = () => Promise<unknown>;

export interface SetupBackendOptions {
  /**
   * How to load each backend package. Node finds installed packages by name;
   * bundlers (Vite, webpack) need static imports, so browser apps pass e.g.
   * `{ webgl: () => import('@tensorflow/tfjs-backend-webgl') }`.
   */
  loaders?: Partial<Record<BackendName, BackendLoader>>;
  /** Called for each backend `auto` skipped, with the reason. */
  onSkip?: (name: BackendName, reason: string) => void;
  /** Called once the backend package is imported, before `tf.setBackend` (e.g. to set wasm paths or threads). */
  beforeInit?: (name: BackendName) => void | Promise<void>;
  /**
   * Threads for the wasm backend (default: the available cores, at most 8;
   * 1 disables threads). vitkit sets up tfjs-backend-wasm's threaded build
   * itself, so the count is what you get (stock tfjs gives half), in Node
   * from the installed package and in browsers from `wasmAssets`.
   */
  wasmThreads?: number;
  /**
   * Browsers: where tfjs-backend-wasm's files are served. Bundlers do not
   * copy them; pass each file's URL (e.g. Vite `?url` imports of
   * `@tensorflow/tfjs-backend-wasm/wasm-out/<file>`) or a folder such as
   * `https://cdn.jsdelivr.net/npm/@tensorflow/tfjs-backend-wasm@4.22.0/wasm-out/`.
   * Threads need the threaded-SIMD `.js`, `.worker.js` and `.wasm` and a
   * cross-origin isolated page. Ignored in Node.
   */
  wasmAssets?: WasmAssets;
  /**
   * Register vitkit's kernels over the wasm backend's stock ones (default
   * true): a BatchMatMul that keeps transposed and batched products off
   * tfjs's scalar loop (5-10x faster there) and an Unpack without
   * whole-input copies. false restores the stock kernels (for comparisons).
   */
  wasmKernels?: boolean;
  /**
   * Register vitkit's fused kernels for this backend (default true): on wasm
   * and cpu multi-tensor AdamW, global-norm clipping, LayerNorm, GELU and
   * multi-head attention forward/backward, on webgl and webgpu LayerNorm and
   * GELU; each one kernel launch (or a few shader programs) instead of many.
   * false removes them, and those ops run their composite tfjs ops (for
   * comparisons).
   */
  fusedKernels?: boolean;
}

export interface BackendSetup {
  name: BackendName;
  /** Threads the backend computes with, where known (wasm); 1 otherwise. */
  threads: number;
  /** wasm: whether the SIMD build runs. */
  simd?: boolean;
  /** Why fewer wasm threads than asked, and other things worth knowing (e.g. the WebGL version). */
  notes: string[];
  /** Backends `auto` tried first and why each was not used. */
  skipped: { name: BackendName; reason: string }[];
}

function isNodeEnv(): boolean {
  return typeof process !== 'undefined' && process.versions?.node !== undefined;
}
const isNode = isNodeEnv();

/** What to install to get each backend, for error messages. */
const INSTALL_HINT: Record<BackendName, string> = {
  tensorflow:
    'install @tensorflow/tfjs-node (CPU) or @tensorflow/tfjs-node-gpu (CUDA 11.2 + cuDNN 8.1); both download libtensorflow at install time',
  webgpu: 'install @tensorflow/tfjs-backend-webgpu and use a browser with WebGPU (navigator.gpu)',
  webgl: 'install @tensorflow/tfjs-backend-webgl and use a browser with WebGL',
  wasm: isNodeEnv()
    ? 'install @tensorflow/tfjs-backend-wasm'
    : "serve tfjs-backend-wasm's wasm-out files and pass their URLs as setupBackend's wasmAssets option (see the README's browser snippet)",
  cpu: 'install @tensorflow/tfjs-backend-cpu',
};

const PACKAGES: Record<BackendName, string[]> = {
  tensorflow: ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'],
  webgpu: ['@tensorflow/tfjs-backend-webgpu'],
  webgl: ['@tensorflow/tfjs-backend-webgl'],
  wasm: ['@tensorflow/tfjs-backend-wasm'],
  cpu: ['@tensorflow/tfjs-backend-cpu'],
};


/** Environment checks that need no import: why a backend cannot work here, or undefined. */
function environmentProblem(name: BackendName): string | undefined {
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  switch (name) {
    case 'tensorflow':
      return isNode ? undefined : 'the tensorflow backend runs only in Node';
    case 'webgpu':
      return nav?.gpu ? undefined : 'this environment has no WebGPU (navigator.gpu is missing)';
    case 'webgl':
      return typeof (globalThis as { WebGL2RenderingContext?: unknown }).WebGL2RenderingContext !== 'undefined' ||
        typeof (globalThis as { OffscreenCanvas?: unknown }).OffscreenCanvas !== 'undefined'
        ? undefined
        : 'this environment has no WebGL (not a browser)';
    default:
      return undefined;
  }
}

// Hidden from bundlers: a computed specifier is only ever resolved at run time.
const dynamicImport = (specifier: string): Promise<unknown> => import(/* @vite-ignore */ specifier);

/** Imports a package by name, from this module's location or else from the app's working directory. */
async function importPackage(name: string): Promise<unknown> {
  try {
    return await dynamicImport(name);
  } catch (first) {
    if (!isNode) throw first;
    const { createRequire } = (await dynamicImport('node:module')) as typeof import('node:module');
    const { pathToFileURL } = (await dynamicImport('node:url')) as typeof import('node:url');
    const resolved = createRequire(`${process.cwd()}/`).resolve(name);
    return dynamicImport(pathToFileURL(resolved).href);
  }
}

const loadedModules = new Map<BackendName, unknown>();

/** Imports the backend's package (once) and returns its module. */
async function loadBackend(name: BackendName, options: SetupBackendOptions): Promise<unknown> {
  const problem = environmentProblem(name);
  if (problem) throw new BackendUnavailableError(`backend "${name}" is not available: ${problem}`, INSTALL_HINT[name]);
  if (loadedModules.has(name)) return loadedModules.get(name);
  const loader = options.loaders?.[name];
  const errors: string[] = [];
  if (loader) {
    try {
      loadedModules.set(name, await loader());
    } catch (e) {
      errors.push(e instanceof Error ? e.message.split('\n')[0]! : String(e));
    }
  } else {
    for (const pkg of PACKAGES[name]) {
      try {
        loadedModules.set(name, await importPackage(pkg));
        break;
      } catch (e) {
        errors.push(`${pkg}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
      }
    }
  }
  if (!tf.findBackendFactory(name)) {
    throw new BackendUnavailableError(
      `backend "${name}" is not available: ${errors.length ? errors.join('; ') : 'its package did not register it'}`,
      INSTALL_HINT[name],
    );
  }
  return loadedModules.get(name);
}

interface Activated {
  threads: number;
  simd?: boolean;
  notes: string[];
}

/** First line of an error's message; tfjs-backend-wasm rejects with plain `{ message }` objects. */
function errorText(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0]!;
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message).split('\n')[0]!;
  return String(e);
}

/**
 * Browsers: the .wasm files this page asked for that did not load, each with
 * its URL and why (HTTP status, or an HTML page where the binary should be).
 * tfjs-backend-wasm itself only says "Make sure the server can serve the .wasm file".
 */
async function failedWasmLoads(): Promise<string[]> {
  const perf = (globalThis as { performance?: Performance }).performance;
  if (isNode || !perf?.getEntriesByType) return [];
  const urls = new Set<string>();
  for (const entry of perf.getEntriesByType('resource')) if (/\.wasm([?#]|$)/.test(entry.name)) urls.add(entry.name);
  const failed: string[] = [];
  for (const url of urls) {
    try {
      const response = await fetch(url);
      const bytes = new Uint8Array(await response.arrayBuffer());
      const isWasm = bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
      if (!response.ok) failed.push(`${url} answered HTTP ${response.status}`);
      else if (!isWasm) failed.push(`${url} is not a .wasm file (${response.headers.get('content-type') ?? 'no content type'}; the server answered with another page)`);
    } catch (e) {
      failed.push(`${url} could not be fetched: ${errorText(e)}`);
    }
  }
  return failed;
}

async function activate(name: BackendName, options: SetupBackendOptions): Promise<Activated> {
  const module = await loadBackend(name, options);
  const firstInit = tf.engine().registry[name] === undefined;
  let notes: string[] = [];
  if (name === 'wasm' && firstInit) {
    notes = await prepareWasmBackend(module, { threads: options.wasmThreads, assets: options.wasmAssets });
  }
  if (name === 'wasm') {
    if (options.wasmKernels === false) uninstallWasmKernels();
    else installWasmKernels();
  }
  await options.beforeInit?.(name);
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    const failed = name === 'wasm' ? await failedWasmLoads() : [];
    const cause = failed.length ? `${failed.join('; ')} (${errorText(e)})` : errorText(e);
    throw new BackendUnavailableError(`backend "${name}" failed to initialize: ${cause}`, INSTALL_HINT[name]);
  }
  if (!ok) {
    const failed = name === 'wasm' ? await failedWasmLoads() : [];
    const cause = name === 'wasm' ? wasmInitError() : undefined;
    if (cause && !failed.length) failed.push(cause);
    throw new BackendUnavailableError(`backend "${name}" failed to initialize${failed.length ? `: ${failed.join('; ')}` : ''}`, INSTALL_HINT[name]);
  }
  await tf.ready();
  if (options.fusedKernels === false) uninstallFusedKernels(name);
  else installFusedKernels(name);
  if (name === 'cpu') silenceCpuBanner();
  if (name === 'webgl') return { threads: 1, notes: [`WebGL ${String(tf.env().get('WEBGL_VERSION'))}`] };
  if (name === 'webgpu') {
    const info = (tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string } }).adapterInfo;
    const adapter = [info?.vendor, info?.architecture].filter(Boolean).join(' ');
    return { threads: 1, notes: adapter ? [`WebGPU adapter: ${adapter}`] : [] };
  }
  if (name !== 'wasm') return { threads: 1, notes: [] };
  if (isNode) unrefWasmWorkers();
  return wasmReport(module, notes);
}

/** The cpu backend prints a "use tfjs-node" banner on first use in Node; we already tell users about backends. */
function silenceCpuBanner(): void {
  const backend = tf.backend() as unknown as { firstUse?: boolean };
  if ('firstUse' in backend) backend.firstUse = false;
}

/**
 * Makes `choice` the active tfjs backend. `auto` takes the best one that
 * works here (tensorflow, webgpu, webgl, wasm, cpu); a named backend that
 * cannot be used throws a BackendUnavailableError saying why and what to install.
 */
export async function setupBackend(choice: BackendChoice = 'auto', options: SetupBackendOptions = {}): Promise<BackendSetup> {
  if (choice !== 'auto' && !(BACKEND_NAMES as readonly string[]).includes(choice)) {
    throw new ConfigError(`unknown backend "${String(choice)}"`, `use one of: auto, ${BACKEND_NAMES.join(', ')}`);
  }
  if (choice !== 'auto') {
    return { name: choice, ...(await activate(choice, options)), skipped: [] };
  }
  const skipped: BackendSetup['skipped'] = [];
  for (const name of BACKEND_NAMES) {
    try {
      return { name, ...(await activate(name, options)), skipped };
    } catch (e) {
      const reason = e instanceof BackendUnavailableError ? e.reason : String(e);
      skipped.push({ name, reason });
      options.onSkip?.(name, reason);
    }
  }
  throw new BackendUnavailableError(
    `no tfjs backend could be set up (${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})`,
    isNode
      ? 'install @tensorflow/tfjs-backend-wasm or @tensorflow/tfjs-backend-cpu'
      : `import a backend package; for wasm also ${INSTALL_HINT.wasm}`,
  );
}
