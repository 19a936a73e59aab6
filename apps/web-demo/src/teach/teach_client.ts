import { WorkerError } from '../client.js';
import type { BackendInfo, BackendPick, ModelSource } from '../worker/protocol.js';
import type { TeachClass } from '../worker/train_data.js';
import type { TeachClassifyResult, TeachPrepared, TeachSettings, TeachStep, TrainReply, TrainRequest } from '../worker/train_protocol.js';

type Body = TrainRequest extends infer R ? (R extends TrainRequest ? Omit<R, 'id'> : never) : never;
/** Replies other than the final one of a request (progress, steps). */
type Update = Extract<TrainReply, { type: 'progress' | 'step' | 'stopping' }>;

/**
 * The Teach mode's handle on its training worker (one worker, one backend,
 * one run at a time). Every call resolves with the request's final reply;
 * progress and steps go to the `onUpdate` callback given with it.
 */
export class TeachClient {
  private readonly worker = new Worker(new URL('../worker/train.worker.ts', import.meta.url), { type: 'module', name: 'vitkit-training' });
  private readonly waiting = new Map<number, { settle: (r: TrainReply) => void; onUpdate: ((u: Update) => void) | undefined }>();
  private next = 1;
  private broken: WorkerError | undefined;

  constructor() {
    this.worker.onmessage = (e: MessageEvent<TrainReply>) => {
      const reply = e.data;
      const entry = this.waiting.get(reply.id);
      if (!entry) return;
      if (reply.type === 'progress' || reply.type === 'step' || reply.type === 'stopping') return entry.onUpdate?.(reply);
      this.waiting.delete(reply.id);
      entry.settle(reply);
    };
    this.worker.onerror = (e) => {
      e.preventDefault();
      this.broken ??= new WorkerError({ code: 'E_WORKER', reason: `the training worker stopped: ${e.message || 'it could not be started'}`, hint: 'reload the page' });
      for (const entry of this.waiting.values()) entry.settle({ id: 0, type: 'error', error: { code: this.broken.code, reason: this.broken.reason } });
      this.waiting.clear();
    };
  }

  async init(backend: BackendPick): Promise<BackendInfo> {
    return (await this.request({ type: 'init', backend }, 'ready')).backend;
  }

  async prepare(source: ModelSource, classes: TeachClass[], settings: TeachSettings, onProgress?: (loaded: number, total: number | undefined, what: string) => void): Promise<TeachPrepared> {
    const reply = await this.request({ type: 'prepare', source, classes, settings }, 'prepared', (u) => {
      if (u.type === 'progress') onProgress?.(u.loaded, u.total, u.what);
    });
    return reply.prepared;
  }

  train(onStep: (s: TeachStep) => void): Promise<Extract<TrainReply, { type: 'trained' }>> {
    return this.request({ type: 'train' }, 'trained', (u) => {
      if (u.type === 'step') onStep(u.step);
    });
  }

  /** Asks a running `train` to end after its current step (it then resolves, not finished). */
  stop(): void {
    void this.request({ type: 'stop' }, 'stopping').catch(() => undefined);
  }

  async classify(image: Blob, name: string): Promise<TeachClassifyResult> {
    return (await this.request({ type: 'classify', image, name }, 'classified')).result;
  }

  async export(): Promise<{ name: string; bytes: Uint8Array }[]> {
    return (await this.request({ type: 'export' }, 'exported')).files;
  }

  terminate(): void {
    this.worker.terminate();
  }

  private request<T extends TrainReply['type']>(body: Body, want: T, onUpdate?: (u: Update) => void): Promise<Extract<TrainReply, { type: T }>> {
    if (this.broken) return Promise.reject(this.broken);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const settle = (r: TrainReply): void => {
        if (r.type === 'error') reject(new WorkerError(r.error));
        else if (r.type === want || (want === 'stopping' && r.type === 'stopping')) resolve(r as Extract<TrainReply, { type: T }>);
        else reject(new WorkerError({ code: 'E_PROTOCOL', reason: `the training worker answered "${r.type}" where "${want}" was expected` }));
      };
      // A stop is answered by one `stopping` reply, which is its final reply.
      this.waiting.set(id, { settle, onUpdate: want === 'stopping' ? (u) => settle(u) : onUpdate });
      this.worker.postMessage({ ...body, id } as TrainRequest);
    });
  }
}
