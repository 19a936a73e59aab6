import type { BackendInfo, ModelInfo } from '../worker/protocol.js';
import { byId, formatBytes, formatCount, h } from './dom.js';

/** The model panel's read-outs: backend line, download progress and the loaded model's facts. */
export class ModelView {
  private readonly backendInfo = byId('backend-info', HTMLParagraphElement);
  private readonly progress = byId('model-progress', HTMLDivElement);
  private readonly progressBar = byId('model-progress-bar', HTMLProgressElement);
  private readonly progressLabel = byId('model-progress-label', HTMLLabelElement);
  private readonly info = byId('model-info', HTMLDListElement);

  showBackend(backend: BackendInfo): void {
    const lines = [`Using ${backend.name}${backend.detail ? ` (${backend.detail})` : ''}.`];
    for (const s of backend.skipped) lines.push(`${s.name} unavailable: ${s.reason}.`);
    this.backendInfo.replaceChildren(...lines.flatMap((line, i) => (i === 0 ? [line] : [h('br'), line])));
  }

  backendStarting(pick: string): void {
    this.backendInfo.textContent = `Starting ${pick}…`;
  }

  startProgress(what: string): void {
    this.progress.hidden = false;
    this.progressLabel.textContent = what;
    this.progressBar.removeAttribute('value');
  }

  /** Bytes so far; without a total (no Content-Length) the bar is indeterminate. */
  updateProgress(loaded: number, total: number | undefined, what: string): void {
    if (total && total > 0) {
      this.progressBar.max = total;
      this.progressBar.value = Math.min(loaded, total);
      this.progressLabel.textContent = `${what}: ${formatBytes(loaded)} of ${formatBytes(total)}`;
    } else {
      this.progressBar.removeAttribute('value');
      this.progressLabel.textContent = `${what}: ${formatBytes(loaded)}`;
    }
  }

  endProgress(): void {
    this.progress.hidden = true;
  }

  showModel(model: ModelInfo): void {
    const rows: [string, string][] = [
      ['Model', model.name],
      ['Source', model.source],
      ['Architecture', `${model.depth} blocks × ${model.numHeads} heads, width ${model.embedDim}`],
      ['Input', `${model.imageSize[0]}×${model.imageSize[1]}×${model.inChannels}, patches ${model.patchSize}×${model.patchSize}`],
      ['Parameters', formatCount(model.numParams)],
      ['Classes', model.numClasses === 0 ? 'none (feature extractor)' : String(model.numClasses)],
      ['Loaded in', `${Math.round(model.loadMs)} ms${model.fromCache ? ' (from the browser cache)' : ''}`],
    ];
    this.info.replaceChildren(...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
    this.info.dataset.model = model.name;
  }
}
