import { selectMap, type AttentionChoice } from '../attention/select.js';
import type { BackendInfo, ClassifyResult } from '../worker/protocol.js';
import { byId, h } from './dom.js';
import { drawOverlay, drawThumbnail } from './heatmap.js';

/** Shows a classification: top-5 bars, latency, raw logits and the attention maps with their controls. */
export class ResultsView {
  private readonly root = byId('results', HTMLElement);
  private readonly status = byId('result-status', HTMLParagraphElement);
  private readonly body = byId('result-body', HTMLDivElement);
  private readonly top5 = byId('top5', HTMLOListElement);
  private readonly timing = byId('timing', HTMLParagraphElement);
  private readonly logits = byId('logits', HTMLPreElement);
  private readonly canvas = byId('view-canvas', HTMLCanvasElement);
  private readonly caption = byId('view-caption', HTMLElement);
  private readonly controls = byId('attention-controls', HTMLFieldSetElement);
  private readonly layer = byId('layer-slider', HTMLInputElement);
  private readonly layerValue = byId('layer-value', HTMLOutputElement);
  private readonly head = byId('head-slider', HTMLInputElement);
  private readonly headValue = byId('head-value', HTMLOutputElement);
  private readonly opacity = byId('opacity-slider', HTMLInputElement);
  private readonly opacityValue = byId('opacity-value', HTMLOutputElement);
  private readonly headGrid = byId('head-grid', HTMLDivElement);
  private readonly attentionNote = byId('attention-note', HTMLParagraphElement);
  private readonly logitsSummary = byId('logits-summary', HTMLElement);
  private result: ClassifyResult | undefined;
  private runs = 0;

  constructor() {
    for (const input of [this.layer, this.head, this.opacity]) input.addEventListener('input', () => this.drawAttention());
    for (const radio of this.modeRadios()) radio.addEventListener('change', () => this.drawAttention());
  }

  /** Says what is going on while a request runs. */
  busy(text: string): void {
    this.status.textContent = text;
    this.root.setAttribute('aria-busy', 'true');
  }

  idle(text?: string): void {
    if (text !== undefined) this.status.textContent = text;
    this.root.removeAttribute('aria-busy');
  }

  show(result: ClassifyResult, backend: BackendInfo | undefined): void {
    this.result = result;
    this.runs++;
    this.body.hidden = false;
    this.idle(result.top.length ? `It looks like: ${result.top[0]!.label}` : embeddingText(result));
    this.top5.replaceChildren(
      ...result.top.map((p) => {
        const pct = (p.probability * 100).toFixed(1);
        const bar = h('span', { class: 'bar', 'aria-hidden': 'true' }, h('span', { style: `width: ${(p.probability * 100).toFixed(2)}%` }));
        return h('li', { 'data-index': String(p.index) }, h('span', { class: 'label' }, p.label), h('span', { class: 'pct' }, `${pct}%`), bar);
      }),
    );
    const detail = backend?.detail ? ` (${backend.detail})` : '';
    this.timing.textContent = `${result.latencyMs.toFixed(1)} ms on ${result.backend}${detail}`;
    this.caption.textContent = result.inputSummary;
    this.logitsSummary.textContent = result.embedding ? 'Raw embeddings' : 'Raw logits';
    this.logits.textContent = result.logits.map((row, i) => `image ${i}: [${row.map((v) => v.toFixed(5)).join(', ')}]`).join('\n');

    // For tests and curious users: the exact numbers, machine-readable.
    this.root.dataset.run = String(this.runs);
    this.root.dataset.top1 = result.top[0] ? String(result.top[0].index) : '';
    this.root.dataset.logits = JSON.stringify(result.logits);
    this.root.dataset.backend = result.backend;

    const { depth, heads } = result.attention;
    this.layer.max = String(depth);
    if (Number(this.layer.value) > depth) this.layer.value = String(depth);
    this.head.max = String(heads);
    if (Number(this.head.value) > heads) this.head.value = '0';
    this.controls.disabled = !result.attention.available;
    this.attentionNote.textContent = result.attention.note ?? '';
    this.attentionNote.hidden = result.attention.note === undefined;
    this.drawAttention();
  }

  private modeRadios(): HTMLInputElement[] {
    return [...this.controls.querySelectorAll<HTMLInputElement>('input[name="attention-mode"]')];
  }

  private choice(): AttentionChoice {
    const mode = this.modeRadios().find((r) => r.checked)?.value;
    return mode === 'layer' ? { mode: 'layer', layer: Number(this.layer.value), head: Number(this.head.value) } : { mode: 'rollout' };
  }

  private drawAttention(): void {
    const opacity = Number(this.opacity.value) / 100;
    this.layerValue.textContent = this.layer.value;
    this.headValue.textContent = this.head.value === '0' ? 'mean' : this.head.value;
    this.opacityValue.textContent = `${this.opacity.value}%`;
    const result = this.result;
    if (!result) return;
    const choice = this.choice();
    const layerMode = choice.mode === 'layer';
    this.layer.disabled = !layerMode;
    this.head.disabled = !layerMode;
    const maps = result.attention;
    const image = { width: result.view.width, height: result.view.height, rgba: result.view.rgba };
    if (!maps.available) {
      // The input alone; the note says why there is no map.
      drawOverlay(this.canvas, image, undefined, maps.grid, 0);
      this.canvas.setAttribute('aria-label', "The model's input (no attention map for this model)");
      this.headGrid.replaceChildren();
      return;
    }
    drawOverlay(this.canvas, image, selectMap(maps, choice), maps.grid, opacity);
    const what = choice.mode === 'rollout' ? 'attention rollout over all layers' : `layer ${choice.layer}, ${choice.head === 0 ? 'mean of heads' : `head ${choice.head}`}`;
    this.canvas.setAttribute('aria-label', `The model's input with its attention map (${what})`);
    this.drawHeadGrid(choice);
  }

  /** One thumbnail per head of the chosen layer; clicking one selects it. */
  private drawHeadGrid(choice: AttentionChoice): void {
    const result = this.result;
    if (!result || choice.mode !== 'layer') {
      this.headGrid.replaceChildren();
      return;
    }
    const maps = result.attention;
    const buttons = Array.from({ length: maps.heads + 1 }, (_, head) => {
      const canvas = document.createElement('canvas');
      drawThumbnail(canvas, selectMap(maps, { mode: 'layer', layer: choice.layer, head }), maps.grid);
      const label = head === 0 ? 'mean' : `head ${head}`;
      const button = h('button', { type: 'button', 'aria-pressed': String(head === choice.head), 'aria-label': `Show ${label} of layer ${choice.layer}` }, canvas, label);
      button.addEventListener('click', () => {
        this.head.value = String(head);
        this.drawAttention();
      });
      return button;
    });
    this.headGrid.replaceChildren(...buttons);
  }
}

/** What a model without classifier returned, instead of made-up classes. */
export function embeddingText(result: Pick<ClassifyResult, 'embedding'>): string {
  const e = result.embedding;
  if (!e) return 'This model has no classifier.';
  const first = e.first.map((v) => v.toFixed(4)).join(', ');
  return `This model returns embeddings (${e.dim} values), no labels. Norm ${e.norm.toFixed(4)}; first values [${first}${e.dim > e.first.length ? ', …' : ''}].`;
}
