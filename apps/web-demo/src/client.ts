import type {
  BackendInfo,
  BackendPick,
  ClassifyResult,
  CompareResult,
  InputPayload,
  ModelInfo,
  ModelSource,
  PreprocessOptions,
  Reply,
  Request,
  SerializedError,
} from './worker/protocol.js';

/** An error the worker reported (or the worker itself failing), with the worker's code, reason and hint. */
export class WorkerError extends Error {
  readonly code: string;
  readonly reason: string;
  readonly hint: string | undefined;

  constructor(error: SerializedError) {
    super(error.hint ? `${error.reason} — ${error.hint}` : error.reason);
    this.name = 'WorkerError';
    this.code = error.code;
    this.reason = error.reason;
    this.hint = error.hint;
  }
}

export type ProgressListener = (loaded: number, total: number | undefined, what: string) => void;

interface Pending {
  resolve: (reply: Reply) => void;
  reject: (error: WorkerError) => void;
  onProgress?: ProgressListener;
}

/** Distributes a request's reply type over the Request union, so `send` keeps each variant's fields. */
type RequestBody = Request extends infer R ? (R extends Request ? Omit<R, 'id'> : never) : never;

/**
 * The page's handle on one inference worker. One worker holds one tfjs
 * backend; switching backends means a new client (see App).
 */
export class InferenceClient {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: WorkerError | undefined;

  constructor() {
    this.worker = new Worker(new URL('./worker/inference.worker.ts', import.meta.url), { type: 'module', name: 'vitkit-inference' });
    this.worker.addEventListener('message', (e: MessageEvent<Reply>) => this.onReply(e.data));
    this.worker.addEventListener('error', (e) => {
      e.preventDefault();
      this.fail({ code: 'E_WORKER', reason: `the inference worker stopped: ${e.message || 'it could not be started'}`, hint: 'reload the page' });
    });
    this.worker.addEventListener('messageerror', () => {
      this.fail({ code: 'E_WORKER', reason: 'a message from the inference worker could not be read', hint: 'reload the page' });
    });
  }

  init(backend: BackendPick): Promise<BackendInfo> {
    return this.send({ type: 'init', backend }).then((r) => expect(r, 'ready').backend);
  }

  load(source: ModelSource, onProgress?: ProgressListener): Promise<ModelInfo> {
    return this.send({ type: 'load', source }, [], onProgress).then((r) => expect(r, 'loaded').model);
  }

  classify(input: InputPayload, preprocess: PreprocessOptions): Promise<ClassifyResult> {
    const transfer = input.kind === 'bitmap' ? [input.bitmap] : [];
    return this.send({ type: 'classify', input, preprocess }, transfer).then((r) => expect(r, 'result').result);
  }

  /** Embeds several images and compares every pair (compare mode). */
  compare(inputs: InputPayload[], preprocess: PreprocessOptions): Promise<CompareResult> {
    return this.send({ type: 'compare', inputs, preprocess }).then((r) => expect(r, 'compared').result);
  }

  /** Stops the worker; pending requests fail. */
  terminate(): void {
    this.worker.terminate();
    this.fail({ code: 'E_CANCELLED', reason: 'the request was cancelled (backend changed)' });
  }

  private send(body: RequestBody, transfer: Transferable[] = [], onProgress?: ProgressListener): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, ...(onProgress ? { onProgress } : {}) });
      this.worker.postMessage({ ...body, id } as Request, transfer);
    });
  }

  private onReply(reply: Reply): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return;
    if (reply.type === 'progress') {
      pending.onProgress?.(reply.loaded, reply.total, reply.what);
      return;
    }
    this.pending.delete(reply.id);
    if (reply.type === 'error') pending.reject(new WorkerError(reply.error));
    else pending.resolve(reply);
  }

  private fail(error: SerializedError): void {
    this.dead ??= new WorkerError(error);
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
  }
}

function expect<T extends Reply['type']>(reply: Reply, type: T): Extract<Reply, { type: T }> {
  if (reply.type !== type) throw new WorkerError({ code: 'E_PROTOCOL', reason: `the worker answered "${reply.type}" where "${type}" was expected` });
  return reply as Extract<Reply, { type: T }>;
}
