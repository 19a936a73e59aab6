import { Worker } from 'node:worker_threads';
import { TARGETS } from './targets.js';
import { SLOT, type CaseFailure, type WorkerInput, type WorkerMessage } from './protocol.js';

export interface FuzzOptions {
  /** Cases per target (default 10000). */
  cases?: number;
  /** First case index (to replay one case: from = i, cases = i + 1). */
  from?: number;
  seed?: number;
  /** Targets to run (default all). */
  targets?: string[];
  /** A case running longer than this fails (default 5000 ms). */
  caseTimeoutMs?: number;
  /** The process's resident memory may not pass this (default 1536 MiB). */
  maxRssMb?: number;
  /** Heap limit of each worker (default 512 MiB). */
  workerHeapMb?: number;
  onCase?: (target: string, done: number) => void;
}

export interface TargetReport {
  target: string;
  cases: number;
  ok: number;
  typed: number;
  failures: CaseFailure[];
  /** Typed errors by code. */
  codes: Record<string, number>;
  seconds: number;
  slowest: { index: number; ms: number };
  peakRssMb: number;
}

export const TARGET_NAMES = TARGETS.map((t) => t.name);

const WORKER = new URL('./worker_entry.mjs', import.meta.url);

/** Runs one target's cases in worker threads, restarting past a case that hangs or exhausts memory. */
export async function fuzzTarget(name: string, options: FuzzOptions = {}): Promise<TargetReport> {
  const to = options.cases ?? 10_000;
  const seed = options.seed ?? 1;
  const caseTimeoutMs = options.caseTimeoutMs ?? 5000;
  const maxRss = (options.maxRssMb ?? 1536) * 2 ** 20;
  const report: TargetReport = { target: name, cases: 0, ok: 0, typed: 0, failures: [], codes: {}, seconds: 0, slowest: { index: -1, ms: 0 }, peakRssMb: 0 };
  const started = performance.now();
  let from = options.from ?? 0;
  let peak = 0;
  while (from < to) {
    const progress = new SharedArrayBuffer(4 * 4);
    const slots = new Int32Array(progress);
    Atomics.store(slots, SLOT.current, from);
    const input: WorkerInput = { target: name, seed, from, to, progress };
    const worker = new Worker(WORKER, {
      workerData: input,
      execArgv: ['--conditions=@vitkit/source'],
      resourceLimits: { maxOldGenerationSizeMb: options.workerHeapMb ?? 512 },
    });
    const hows = new Map<number, string>();
    let stopped: CaseFailure | undefined;
    // Worker start-up (loading the packages, compiling the WebP wasm) is not a case: the clock starts at the first case.
    let running = false;
    const outcome = await new Promise<'done' | 'stopped'>((resolve) => {
      let last = -1;
      let since = performance.now();
      const spawned = performance.now();
      const timer = setInterval(() => {
        const rss = process.memoryUsage.rss();
        if (rss > peak) peak = rss;
        const current = Atomics.load(slots, SLOT.current);
        if (!running) {
          if (performance.now() - spawned > 120_000 && !stopped) {
            stopped = { index: current, kind: 'crash', how: '?', error: 'the worker did not start within 120 s' };
            void worker.terminate();
          }
          return;
        }
        if (current !== last) {
          last = current;
          since = performance.now();
        }
        options.onCase?.(name, Atomics.load(slots, SLOT.done));
        const kind = performance.now() - since > caseTimeoutMs ? 'timeout' : rss > maxRss ? 'memory' : undefined;
        if (kind && !stopped) {
          stopped = { index: current, kind, how: hows.get(current) ?? '?', error: kind === 'timeout' ? `still running after ${caseTimeoutMs} ms` : `resident memory ${Math.round(rss / 2 ** 20)} MiB > ${Math.round(maxRss / 2 ** 20)} MiB` };
          void worker.terminate();
        }
      }, 20);
      worker.on('message', (m: WorkerMessage) => {
        if (m.kind === 'case') {
          if (!running) since = performance.now();
          running = true;
          hows.clear();
          hows.set(m.index, m.how);
        } else if (m.kind === 'failure') report.failures.push(m.failure);
        else {
          for (const [k, v] of Object.entries(m.codes)) report.codes[k] = (report.codes[k] ?? 0) + v;
          if (m.slowest.ms > report.slowest.ms) report.slowest = m.slowest;
        }
      });
      worker.on('error', (e) => {
        const current = Atomics.load(slots, SLOT.current);
        stopped ??= { index: current, kind: /memory/i.test(e.message) ? 'memory' : 'crash', how: hows.get(current) ?? '?', error: `${e.name}: ${e.message}`.slice(0, 400) };
      });
      worker.on('exit', () => {
        clearInterval(timer);
        resolve(stopped ? 'stopped' : 'done');
      });
    });
    report.ok += Atomics.load(slots, SLOT.ok);
    report.typed += Atomics.load(slots, SLOT.typed);
    report.cases += Atomics.load(slots, SLOT.done);
    if (outcome === 'done') break;
    if (stopped!.kind === 'crash' && !running) {
      throw new Error(`the fuzz worker for ${name} did not start: ${stopped!.error}`);
    }
    report.failures.push(stopped!);
    report.cases += 1;
    from = stopped!.index + 1;
  }
  report.seconds = (performance.now() - started) / 1000;
  report.peakRssMb = Math.round(peak / 2 ** 20);
  return report;
}

export async function fuzz(options: FuzzOptions = {}): Promise<TargetReport[]> {
  const names = options.targets ?? TARGET_NAMES;
  for (const n of names) if (!TARGET_NAMES.includes(n)) throw new Error(`unknown fuzz target "${n}" (known: ${TARGET_NAMES.join(', ')})`);
  const out: TargetReport[] = [];
  for (const n of names) out.push(await fuzzTarget(n, options));
  return out;
}
