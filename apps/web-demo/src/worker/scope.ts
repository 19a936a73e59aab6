/** The part of DedicatedWorkerGlobalScope the workers use (the webworker lib clashes with DOM's in one program). */
interface WorkerScope<Req> {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<Req>) => void): void;
}

/**
 * Serves a worker's requests one at a time, in the order they came (a
 * request sent while another runs waits for it), except those `urgent`
 * takes: they are answered at once, so that they can reach a running one.
 */
export function serveRequests<Req, Rep>(handle: (request: Req, post: (reply: Rep, transfer?: Transferable[]) => void) => Promise<void>, urgent: (request: Req, post: (reply: Rep) => void) => boolean = () => false): void {
  const scope = self as unknown as WorkerScope<Req>;
  const post = (reply: Rep, transfer: Transferable[] = []): void => scope.postMessage(reply, transfer);
  let queue: Promise<void> = Promise.resolve();
  scope.addEventListener('message', (event) => {
    const request = event.data;
    if (urgent(request, post)) return;
    queue = queue.then(() => handle(request, post));
  });
}
