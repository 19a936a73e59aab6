/**
 * The training worker of the Teach mode: holds its own tfjs backend, the
 * model being trained and the data, so that training never freezes the page.
 */
import { serveRequests } from './scope.js';
import { handleTrainRequest, requestStop } from './train_handler.js';
import type { TrainReply, TrainRequest } from './train_protocol.js';

// One request at a time, in order; a stop is answered at once, so that it reaches a running `train`.
serveRequests<TrainRequest, TrainReply>(handleTrainRequest, (request, post) => {
  if (request.type !== 'stop') return false;
  requestStop(request.id, post);
  return true;
});
