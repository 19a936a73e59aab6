import * as tf from '@tensorflow/tfjs-core';

/**
 * Multithreaded wasm, set up by vitkit instead of tfjs-backend-wasm's own init.
 *
 * Stock tfjs-backend-wasm gets threads wrong in three ways:
 * - it sizes its thread pool to half the logical cores (backend.cc skips
 *   "hyperthreads"), so `setThreadsCount(2)` on a 2-core machine gives 1;
 * - in Node its WASM_HAS_MULTITHREAD_SUPPORT flag is false, and its pthread
 *   workers get `blob:` URLs that worker_threads cannot load;
 * - in browsers the pthread workers import a Blob made from the emscripten
 *   factory's `toString()`, which a minifier breaks ("e is not defined").
 *
 * So vitkit loads the package's own threaded-SIMD emscripten files itself
 * (`wasm-out/tfjs-backend-wasm-threaded-simd.{js,worker.js,wasm}`, unmodified,
 * from the installed package in Node or from URLs in browsers) and registers a
 * `wasm` backend factory that builds the package's own `BackendWasm` on them:
 * - the glue is evaluated with a private `require` (Node) or `navigator`
 *   (browser) that reports twice the wanted thread count as logical cores,
 *   so the pool gets exactly the threads asked for; no global is changed;
 * - Node's pthread workers run the worker script as `eval` code with no
 *   inherited exec flags (the parent may run under --import tsx);
 * - browser workers import the original glue text, never a toString().
 */

/** The files vitkit's threaded wasm setup loads, named as in tfjs-backend-wasm's `wasm-out/` folder. */
export const WASM_FILES = {
  glue: 'tfjs-backend-wasm-threaded-simd.js',
  worker: 'tfjs-backend-wasm-threaded-simd.worker.js',
  threadedSimd: 'tfjs-backend-wasm-threaded-simd.wasm',
  simd: 'tfjs-backend-wasm-simd.wasm',
  plain: 'tfjs-backend-wasm.wasm',
} as const;
export type WasmFileName = (typeof WASM_FILES)[keyof typeof WASM_FILES];

/**
 * Where a browser finds tfjs-backend-wasm's files. `base` is a folder URL
 * holding the package's `wasm-out/` files (e.g.
 * `https://cdn.jsdelivr.net/npm/@tensorflow/tfjs-backend-wasm@4.22.0/wasm-out/`);
 * `files` gives single URLs (e.g. a bundler's `?url` imports) and wins over `base`.
 */
export interface WasmAssets {
  base?: string;
  files?: Partial<Record<WasmFileName, string>>;
}

/** What the wasm setup got. */
export interface WasmSetupReport {
  threads: number;
  simd: boolean;
  /** Why fewer threads than asked (empty when none). */
  notes: string[];
}

/** The parts of the tfjs-backend-wasm package module vitkit uses. */
interface WasmPackage {
  BackendWasm: new (module: unknown) => tf.KernelBackend;
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
  setWasmPaths?(paths: string | Record<string, string>, usePlatformFetch?: boolean): void;
  version_wasm?: string;
}

interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): (...args: number[]) => unknown;
  tfjs?: unknown;
  PThread?: { unusedWorkers?: { unref?(): void }[]; runningWorkers?: { unref?(): void }[] };
}

type EmscriptenFactory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

const isNode = typeof process !== 'undefined' && process.versions?.node !== undefined;
const dynamicImport = (specifier: string): Promise<unknown> => import(/* @vite-ignore */ specifier);

/** The most threads: the emscripten build preallocates 8 pthread workers (more would block a browser's main thread). */
const MAX_THREADS = 8;

/** Cores this process may use (Node) or the browser reports. */
export async function availableCores(): Promise<number> {
  if (isNode) {
    const os = (await dynamicImport('node:os')) as typeof import('node:os');
    return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  }
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
}

/** The same cwraps tfjs-backend-wasm's init adds (BackendWasm calls them). */
function addTfjsApi(module: EmscriptenModule): EmscriptenModule {
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}

/** tfjs's worker script ships as `module.exports.wasmWorkerContents = \`...\``; this is its text, escaped as tfjs escapes it. */
function workerScript(contents: string): string {
  // The string holds literal newlines inside JS string literals; tfjs re-escapes them the same way.
  return contents.replace(/\n/g, '\\n');
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0]!;
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message).split('\n')[0]!;
  return String(e);
}

// ---------------------------------------------------------------- Node

interface NodeFiles {
  dir: string;
  factory: EmscriptenFactory;
  worker: string;
}

/** Finds the installed tfjs-backend-wasm's `wasm-out/` folder and loads its threaded glue with a private `require`. */
async function loadNodeFiles(threads: number): Promise<NodeFiles> {
  const { createRequire } = (await dynamicImport('node:module')) as typeof import('node:module');
  const path = (await dynamicImport('node:path')) as typeof import('node:path');
  const fs = (await dynamicImport('node:fs')) as typeof import('node:fs');
  const vm = (await dynamicImport('node:vm')) as typeof import('node:vm');
  const os = (await dynamicImport('node:os')) as typeof import('node:os');
  const workerThreads = (await dynamicImport('node:worker_threads')) as typeof import('node:worker_threads');
  let pkgJson: string | undefined;
  for (const base of [import.meta.url, `${process.cwd()}/`]) {
    try {
      pkgJson = createRequire(base).resolve('@tensorflow/tfjs-backend-wasm/package.json');
      break;
    } catch {
      // not resolvable from here; try the next base
    }
  }
  if (!pkgJson) throw new Error('cannot resolve @tensorflow/tfjs-backend-wasm/package.json');
  const dir = path.join(path.dirname(pkgJson), 'wasm-out');
  const gluePath = path.join(dir, WASM_FILES.glue);
  const workerPath = path.join(dir, WASM_FILES.worker);
  const realRequire = createRequire(gluePath);
  const worker = workerScript((realRequire(workerPath) as { wasmWorkerContents: string }).wasmWorkerContents);

  // The pthread workers: the worker script as eval code, without the parent's
  // exec flags (--import tsx, --input-type, --conditions).
  class PthreadWorker extends workerThreads.Worker {
    constructor(_file: string, options: import('node:worker_threads').WorkerOptions = {}) {
      super(worker, { ...options, eval: true, execArgv: [] });
    }
  }
  // backend.cc gives the pool half the logical cores it is told about.
  const cpus = () => {
    const real = os.cpus();
    return Array.from({ length: 2 * threads }, (_, i) => real[i % Math.max(1, real.length)]!);
  };
  const privateRequire = Object.assign((id: string) => {
    if (id === 'os') return { ...os, cpus };
    if (id === 'worker_threads') return { ...workerThreads, Worker: PthreadWorker };
    return realRequire(id);
  }, realRequire);
  const module = { exports: {} as unknown };
  const wrapped = vm.runInThisContext(`(function (exports, require, module, __filename, __dirname) {${fs.readFileSync(gluePath, 'utf8')}\n})`, {
    filename: gluePath,
  }) as (e: unknown, r: unknown, m: unknown, f: string, d: string) => void;
  wrapped(module.exports, privateRequire, module, gluePath, dir);
  const factory = module.exports as EmscriptenFactory;
  if (typeof factory !== 'function') throw new Error(`${gluePath} did not export the emscripten factory`);
  return { dir, factory, worker };
}

async function nodeModule(threads: number): Promise<EmscriptenModule> {
  const path = (await dynamicImport('node:path')) as typeof import('node:path');
  const files = await loadNodeFiles(threads);
  const module = await files.factory({
    locateFile: (file: string) => path.join(files.dir, file),
    // The pthread workers evaluate the glue from this path (importScripts reads it with fs).
    mainScriptUrlOrBlob: path.join(files.dir, WASM_FILES.glue),
  });
  return addTfjsApi(module);
}

// ---------------------------------------------------------------- Browser

/** The URL of one file, from `files` or `base`; undefined when neither says. */
export function assetUrl(assets: WasmAssets | undefined, file: WasmFileName): string | undefined {
  const direct = assets?.files?.[file];
  const base = (globalThis as { location?: { href: string } }).location?.href;
  if (direct) return base ? new URL(direct, base).href : direct;
  if (assets?.base) {
    const folder = assets.base.endsWith('/') ? assets.base : `${assets.base}/`;
    return base ? new URL(file, new URL(folder, base)).href : folder + file;
  }
  return undefined;
}

/** Fetches a file, with an error that names the URL and what went wrong. */
async function fetchOrThrow(url: string, kind: 'text' | 'wasm'): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { credentials: 'same-origin' });
  } catch (e) {
    throw new Error(`fetching ${url} failed: ${errorText(e)}`);
  }
  if (!response.ok) throw new Error(`fetching ${url} failed: HTTP ${response.status} ${response.statusText}`.trim());
  const type = response.headers.get('content-type') ?? '';
  if (kind === 'wasm' && type.includes('text/html')) {
    throw new Error(`fetching ${url} returned an HTML page (${type}), not the .wasm file: the server does not serve it at that URL`);
  }
  return response;
}

async function browserModule(threads: number, assets: WasmAssets): Promise<EmscriptenModule> {
  const glueUrl = assetUrl(assets, WASM_FILES.glue)!;
  const workerUrl = assetUrl(assets, WASM_FILES.worker)!;
  const wasmUrl = assetUrl(assets, WASM_FILES.threadedSimd)!;
  const [glue, workerModule, wasmBinary] = await Promise.all([
    fetchOrThrow(glueUrl, 'text').then((r) => r.text()),
    fetchOrThrow(workerUrl, 'text').then((r) => r.text()),
    fetchOrThrow(wasmUrl, 'wasm').then((r) => r.arrayBuffer()),
  ]);
  const realNavigator = (globalThis as { navigator?: object }).navigator ?? {};
  // backend.cc gives the pool half the logical cores it is told about.
  const navigator = new Proxy(realNavigator, {
    get: (target, key) => (key === 'hardwareConcurrency' ? 2 * threads : Reflect.get(target, key, target)),
  });
  let factory: EmscriptenFactory;
  try {
    factory = new Function('navigator', `${glue}\nreturn WasmBackendModuleThreadedSimd;`)(navigator) as EmscriptenFactory;
  } catch (e) {
    throw new Error(`evaluating ${glueUrl} failed: ${errorText(e)}`);
  }
  const holder: { exports: { wasmWorkerContents?: string } } = { exports: {} };
  try {
    new Function('module', 'exports', workerModule)(holder, holder.exports);
  } catch (e) {
    throw new Error(`evaluating ${workerUrl} failed: ${errorText(e)}`);
  }
  if (typeof holder.exports.wasmWorkerContents !== 'string') {
    throw new Error(`${workerUrl} is not tfjs-backend-wasm's ${WASM_FILES.worker} (no wasmWorkerContents)`);
  }
  const workerBlobUrl = URL.createObjectURL(new Blob([workerScript(holder.exports.wasmWorkerContents)], { type: 'text/javascript' }));
  let aborted: string | undefined;
  const config = {
    wasmBinary,
    locateFile: (file: string) => (file.endsWith('.worker.js') ? workerBlobUrl : file.endsWith('.wasm') ? wasmUrl : file),
    // The pthread workers import the glue's original text: minifying the app cannot break it.
    mainScriptUrlOrBlob: new Blob([glue], { type: 'text/javascript' }),
    onAbort: (what: unknown) => {
      aborted = errorText(what);
    },
  };
  let module: EmscriptenModule;
  try {
    module = await factory(config);
  } catch (e) {
    throw new Error(`instantiating ${wasmUrl} failed: ${aborted ?? errorText(e)}`);
  }
  return addTfjsApi(module);
}

// ---------------------------------------------------------------- Registration

export interface WasmThreadOptions {
  /** Threads wanted (default: the available cores, at most 8). */
  threads?: number;
  /** Browser only: where tfjs-backend-wasm's files are served. */
  assets?: WasmAssets;
}

let lastRequested = 1;
let initError: string | undefined;

/** Why vitkit's threaded wasm setup failed, if it did. */
export function wasmInitError(): string | undefined {
  return initError;
}

/** Whether the wasm build with threads can run here (SharedArrayBuffer, cross-origin isolation). */
function threadBlocker(): string | undefined {
  if (typeof SharedArrayBuffer === 'undefined') {
    return isNode
      ? 'this Node has no SharedArrayBuffer'
      : 'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp), so SharedArrayBuffer is unavailable';
  }
  if (!isNode && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) {
    return 'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
  }
  return undefined;
}

/**
 * Called after the wasm package is imported and before tf.setBackend('wasm')
 * (first init only). Replaces the package's `wasm` backend factory with one
 * that sets up the threaded build itself when threads are wanted and
 * possible; otherwise leaves (or configures) the stock one. Returns the notes
 * explaining fewer threads than asked.
 */
export async function prepareWasmBackend(pkg: unknown, options: WasmThreadOptions): Promise<string[]> {
  // Undefined when the app imported the package itself and gave no loader (the factory is registered, the module unknown).
  const wasm = (pkg ?? {}) as Partial<WasmPackage>;
  const notes: string[] = [];
  const cores = await availableCores();
  const requested = Math.max(1, Math.floor(options.threads ?? Math.min(MAX_THREADS, cores)));
  lastRequested = requested;
  let threads = Math.min(requested, MAX_THREADS);
  if (threads < requested) notes.push(`at most ${MAX_THREADS} threads (the backend preallocates ${MAX_THREADS} workers)`);
  const assets = options.assets;
  if (!isNode && assets) {
    // The single-threaded builds are loaded by tfjs's own init from these URLs.
    const simd = assetUrl(assets, WASM_FILES.simd);
    const plain = assetUrl(assets, WASM_FILES.plain);
    const paths: Record<string, string> = {};
    if (simd) paths[WASM_FILES.simd] = simd;
    if (plain) paths[WASM_FILES.plain] = plain;
    const threaded = assetUrl(assets, WASM_FILES.threadedSimd);
    if (threaded) paths[WASM_FILES.threadedSimd] = threaded;
    wasm.setWasmPaths?.(paths);
  }
  if (threads > 1 && pkg === undefined) {
    notes.push("threads need the tfjs-backend-wasm module: pass loaders: { wasm: () => import('@tensorflow/tfjs-backend-wasm') }");
    threads = 1;
  } else if (threads > 1 && (typeof wasm.BackendWasm !== 'function' || typeof wasm.setThreadsCount !== 'function')) {
    notes.push('this tfjs-backend-wasm does not export BackendWasm and setThreadsCount');
    threads = 1;
  }
  const blocker = threadBlocker();
  if (threads > 1 && blocker) {
    notes.push(blocker);
    threads = 1;
  }
  if (threads > 1 && !(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))) {
    notes.push('this engine has no wasm SIMD, which the threaded build needs');
    threads = 1;
  }
  if (threads > 1 && !isNode && !(assets && assetUrl(assets, WASM_FILES.glue) && assetUrl(assets, WASM_FILES.worker) && assetUrl(assets, WASM_FILES.threadedSimd))) {
    notes.push(
      `threads need the URLs of ${WASM_FILES.glue}, ${WASM_FILES.worker} and ${WASM_FILES.threadedSimd} (setupBackend's wasmAssets option)`,
    );
    threads = 1;
  }
  if (threads <= 1) {
    // tfjs's own init, single-threaded (its threaded path is the one with the problems above).
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    return notes;
  }
  const BackendWasm = wasm.BackendWasm!;
  const setThreadsCount = wasm.setThreadsCount!.bind(wasm);
  const want = threads;
  tf.removeBackend('wasm');
  initError = undefined;
  tf.registerBackend(
    'wasm',
    async () => {
      try {
        const module = isNode ? await nodeModule(want) : await browserModule(want, assets!);
        setThreadsCount(want);
        return new BackendWasm(module);
      } catch (e) {
        // tfjs only logs a failed factory and answers false; keep the cause for the error message.
        initError = errorText(e);
        throw e;
      }
    },
    2, // tfjs-backend-wasm's own priority
  );
  return notes;
}

/** What the active wasm backend got: threads, SIMD and why fewer threads than asked. */
export async function wasmReport(pkg: unknown, notes: string[]): Promise<WasmSetupReport> {
  const threads = wasmThreadsInUse(pkg);
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  const all = [...notes];
  if (threads < lastRequested && all.length === 0) all.push(`the backend started ${threads} of ${lastRequested} threads`);
  return { threads, simd, notes: all };
}

/** The pthread workers must not keep a finished Node process alive. */
export function unrefWasmWorkers(): void {
  const backend = tf.backend() as unknown as { wasm?: EmscriptenModule };
  const pthread = backend.wasm?.PThread;
  if (!pthread) return;
  for (const worker of [...(pthread.unusedWorkers ?? []), ...(pthread.runningWorkers ?? [])]) worker.unref?.();
}

/** Threads the active wasm backend really uses (1 when not threaded or not wasm). */
export function wasmThreadsInUse(wasm: unknown): number {
  try {
    const backend = tf.backend() as unknown as { wasm?: { tfjs?: { getThreadsCount?: () => number } } };
    const fromModule = backend.wasm?.tfjs?.getThreadsCount?.();
    if (typeof fromModule === 'number') return fromModule;
    return (wasm as WasmPackage).getThreadsCount();
  } catch {
    return 1;
  }
}
