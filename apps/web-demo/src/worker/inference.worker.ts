/**
 * The inference worker: holds the tfjs backend and the model, so that
 * loading weights and running the model never freeze the page.
 */
import { handleRequest } from './handler.js';
import type { Reply, Request } from './protocol.js';

/** The part of DedicatedWorkerGlobalScope used here (the webworker lib clashes with DOM's in one program). */
interface WorkerScope {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<Request>) => void): void;
}
const scope = self as unknown as WorkerScope;

function post(reply: Reply, transfer: Transferable[] = []): void {
  scope.postMessage(reply, transfer);
}

// One request at a time, in order: a classify sent while a model loads waits for it.
let queue: Promise<void> = Promise.resolve();
scope.addEventListener('message', (event) => {
  const request = event.data;
  queue = queue.then(() => handleRequest(request, post));
});
