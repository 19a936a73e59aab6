import * as tf from '@tensorflow/tfjs-core';
import { disposeViTOutput } from '@vitkit/vit';
import { initBackend } from './backend.js';
import { compareImages } from './compare.js';
import { NoModelError, serializeError } from './errors.js';
import { readInput } from './inputs.js';
import { loadModel, type LoadedModel } from './model.js';
import { predict } from './predict.js';
import type { BackendInfo, ClassifyResult, CompareResult, Reply, Request } from './protocol.js';

export type Post = (reply: Reply, transfer?: Transferable[]) => void;

/** What this worker holds between requests. */
export interface WorkerState {
  backend?: BackendInfo;
  loaded?: LoadedModel;
}
const state: WorkerState = {};

type Handler<T extends Request['type']> = (request: Extract<Request, { type: T }>, post: Post, state: WorkerState) => Promise<void>;

/** The backend and model a request needs. */
function ready(s: WorkerState): { backend: BackendInfo; loaded: LoadedModel } {
  if (!s.backend || !s.loaded) throw new NoModelError();
  return { backend: s.backend, loaded: s.loaded };
}

/** One handler per request type: a new message type adds its entry here (and its types in protocol.ts). */
const HANDLERS: { [T in Request['type']]: Handler<T> } = {
  async init(request, post, s) {
    s.backend = await initBackend(request.backend);
    post({ id: request.id, type: 'ready', backend: s.backend });
  },

  async load(request, post, s) {
    if (!s.backend) s.backend = await initBackend('auto');
    const loaded = await loadModel(request.source, (done, total, what) =>
      post({ id: request.id, type: 'progress', loaded: done, what, ...(total !== undefined ? { total } : {}) }),
    );
    // Only replace the current model once the new one loaded: a bad file leaves the old one working.
    s.loaded?.classifier.dispose();
    s.loaded = loaded;
    await warmUp(loaded);
    post({ id: request.id, type: 'loaded', model: loaded.info });
  },

  async classify(request, post, s) {
    const { backend, loaded } = ready(s);
    const input = await readInput(request.input);
    const result: ClassifyResult = { ...(await predict(loaded.classifier, input, request.preprocess, backend.name)), tensorsInMemory: tf.memory().numTensors };
    post({ id: request.id, type: 'result', result }, [result.attention.perHead.buffer, result.attention.rollout.buffer, result.view.rgba.buffer] as Transferable[]);
  },

  async compare(request, post, s) {
    const { backend, loaded } = ready(s);
    const result: CompareResult = { ...(await compareImages(loaded.embedder, request.inputs, request.preprocess, backend.name)), tensorsInMemory: tf.memory().numTensors };
    post({ id: request.id, type: 'compared', result });
  },
};

/** Answers one request; never throws (failures become `error` replies). */
export async function handleRequest(request: Request, post: Post): Promise<void> {
  try {
    await (HANDLERS[request.type] as Handler<Request['type']>)(request, post, state);
  } catch (e) {
    post({ id: request.id, type: 'error', error: serializeError(e) });
  }
}

/**
 * GPU backends compile their shaders on the first run; one run on zeros right
 * after loading keeps that out of the latency users see.
 */
async function warmUp({ classifier }: LoadedModel): Promise<void> {
  if (tf.getBackend() === 'cpu') return;
  const [h, w] = classifier.config.imageSize;
  const x = tf.zeros([1, h, w, classifier.config.inChannels]);
  const out = classifier.model.forward(x, { returnAttention: true });
  await out.logits.data();
  x.dispose();
  disposeViTOutput(out);
}
