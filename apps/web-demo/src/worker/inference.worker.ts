/**
 * The inference worker: holds the tfjs backend and the model, so that
 * loading weights and running the model never freeze the page.
 */
import { handleRequest } from './handler.js';
import type { Reply, Request } from './protocol.js';
import { serveRequests } from './scope.js';

// One request at a time, in order: a classify sent while a model loads waits for it.
serveRequests<Request, Reply>(handleRequest);
