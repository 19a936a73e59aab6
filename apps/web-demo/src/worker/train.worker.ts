/**
 * The training worker of the Teach mode: holds its own tfjs backend, the
 * model being trained and the data, so that training never freezes the page.
 */
import { handleTrainRequest, requestStop } from './train_handler.js';
import type { TrainReply, TrainRequest } from './train_protocol.js';

/** The part of DedicatedWorkerGlobalScope used here (the webworker lib clashes with DOM's in one program). */
interface WorkerScope {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<TrainRequest>) => void): void;
}
const scope = self as unknown as WorkerScope;

function post(reply: TrainReply, transfer: Transferable[] = []): void {
  scope.postMessage(reply, transfer);
}

// One request at a time, in order; a stop is read at once, so that it reaches a running `train`.
let queue: Promise<void> = Promise.resolve();
scope.addEventListener('message', (event) => {
  const request = event.data;
  if (request.type === 'stop') {
    requestStop(request.id, post);
    return;
  }
  queue = queue.then(() => handleTrainRequest(request, post));
});
