import { VitkitError } from '@vitkit/core';
import type { TaskModel } from '@vitkit/tasks';
import { registerGradients } from '@vitkit/training/browser';
import { initBackend } from './backend.js';
import { serializeError } from './errors.js';
import { loadModel } from './model.js';
import type { BackendInfo } from './protocol.js';
import { buildTeachData } from './train_data.js';
import { withFreshHead } from './train_model.js';
import type { TrainReply, TrainRequest } from './train_protocol.js';
import { TeachSession } from './train_session.js';

type Post = (reply: TrainReply, transfer?: Transferable[]) => void;

/** Asked for before there is anything to train, classify or download. */
class NoRunError extends VitkitError {
  constructor() {
    super('E_NO_RUN', 'nothing has been trained yet', 'name the classes, add images and press Train');
  }
}

const state: { backend?: BackendInfo; session?: TeachSession; stop: boolean } = { stop: false };

/** Stop is read at once (see train.worker.ts); everything else runs in order. */
export function requestStop(id: number, post: Post): void {
  state.stop = true;
  post({ id, type: 'stopping' });
}

/** Answers one request; never throws (failures become `error` replies). */
export async function handleTrainRequest(request: TrainRequest, post: Post): Promise<void> {
  const { id } = request;
  try {
    switch (request.type) {
      case 'init': {
        state.backend = await initBackend(request.backend);
        await registerGradients();
        post({ id, type: 'ready', backend: state.backend });
        return;
      }
      case 'prepare': {
        if (!state.backend) {
          state.backend = await initBackend('auto');
          await registerGradients();
        }
        const progress = (loaded: number, total: number | undefined, what: string): void => post({ id, type: 'progress', loaded, what, ...(total !== undefined ? { total } : {}) });
        // The page's own loader (task layer: weights, labels, preprocessing); the classifier's network is the starting point.
        const loaded = await loadModel(request.source, progress);
        let task: TaskModel | undefined = loaded.classifier;
        let session: TeachSession | undefined;
        try {
          const data = await buildTeachData(request.classes, task, request.settings.seed, (done, total) => progress(done, total, 'images'));
          const model = withFreshHead(task.model, data.all.classNames!, request.settings.seed);
          try {
            session = await TeachSession.open(task, model, data, request.settings, (done, total) => progress(done, total, 'features'));
          } catch (e) {
            model.dispose();
            throw e;
          }
          task = undefined;
        } finally {
          task?.dispose();
        }
        // Only replace the previous run once this one is ready: a bad input leaves the last result usable.
        state.session?.dispose();
        state.session = session;
        post({ id, type: 'prepared', prepared: session.describe(loaded.info.name) });
        return;
      }
      case 'train': {
        const session = state.session;
        if (!session) throw new NoRunError();
        state.stop = false;
        const result = await session.run(
          (step) => post({ id, type: 'step', step }),
          () => state.stop,
        );
        post({ id, type: 'trained', step: session.trainer.step, ...result });
        return;
      }
      case 'stop':
        requestStop(id, post);
        return;
      case 'classify': {
        if (!state.session) throw new NoRunError();
        post({ id, type: 'classified', result: await state.session.classify(request.image) });
        return;
      }
      case 'export': {
        if (!state.session) throw new NoRunError();
        const files = await state.session.files();
        post({ id, type: 'exported', files }, files.map((f) => f.bytes.buffer as ArrayBuffer));
        return;
      }
    }
  } catch (e) {
    post({ id, type: 'error', error: serializeError(e) });
  }
}
