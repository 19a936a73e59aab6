import * as tf from '@tensorflow/tfjs-core';
import { disposeViTOutput, type VisionTransformer } from '@vitkit/vit';
import { initBackend } from './backend.js';
import { classify } from './classify.js';
import { NoModelError, serializeError } from './errors.js';
import { readInput } from './inputs.js';
import { loadModel } from './model_loader.js';
import { choiceSpec, type ModelPreprocessing } from './preprocess.js';
import type { BackendInfo, ClassifyResult, ModelInfo, Reply, Request } from './protocol.js';

type Post = (reply: Reply, transfer?: Transferable[]) => void;

/** What this worker holds between requests. */
const state: { backend?: BackendInfo; model?: VisionTransformer; info?: ModelInfo; preprocessing?: ModelPreprocessing } = {};

/** Answers one request; never throws (failures become `error` replies). */
export async function handleRequest(request: Request, post: Post): Promise<void> {
  try {
    switch (request.type) {
      case 'init': {
        state.backend = await initBackend(request.backend);
        post({ id: request.id, type: 'ready', backend: state.backend });
        return;
      }
      case 'load': {
        if (!state.backend) state.backend = await initBackend('auto');
        const loaded = await loadModel(request.source, (loaded, total, what) =>
          post({ id: request.id, type: 'progress', loaded, what, ...(total !== undefined ? { total } : {}) }),
        );
        // Only replace the current model once the new one loaded: a bad file leaves the old one working.
        state.model?.dispose();
        state.model = loaded.model;
        state.info = loaded.info;
        state.preprocessing = loaded.preprocessing;
        await warmUp(loaded.model);
        post({ id: request.id, type: 'loaded', model: loaded.info });
        return;
      }
      case 'classify': {
        const { model, info, backend, preprocessing } = state;
        if (!model || !info || !backend || !preprocessing) throw new NoModelError();
        const { imageSize, inChannels } = model.config;
        const choice = request.preprocess.preset;
        const pre =
          choice === 'model'
            ? { spec: preprocessing.spec, name: preprocessing.name, invert: request.preprocess.invert }
            : { spec: choiceSpec(choice, imageSize), name: choice, invert: request.preprocess.invert };
        const input = await readInput(request.input, { imageSize, inChannels }, pre);
        const result: ClassifyResult = { ...(await classify(model, input, info.labels, backend.name)), tensorsInMemory: tf.memory().numTensors };
        post({ id: request.id, type: 'result', result }, [result.attention.perHead.buffer, result.attention.rollout.buffer, result.view.rgba.buffer] as Transferable[]);
        return;
      }
    }
  } catch (e) {
    post({ id: request.id, type: 'error', error: serializeError(e) });
  }
}

/**
 * GPU backends compile their shaders on the first run; one run on zeros right
 * after loading keeps that out of the latency users see.
 */
async function warmUp(model: VisionTransformer): Promise<void> {
  if (tf.getBackend() === 'cpu') return;
  const [h, w] = model.config.imageSize;
  const x = tf.zeros([1, h, w, model.config.inChannels]);
  const out = model.forward(x, { returnAttention: true });
  await out.logits.data();
  x.dispose();
  disposeViTOutput(out);
}
