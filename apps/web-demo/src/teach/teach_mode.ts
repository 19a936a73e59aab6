import { writeZip } from '@vitkit/weights';
import { byId, h } from '../ui/dom.js';
import type { ShownError } from '../ui/messages.js';
import { Webcam } from '../ui/webcam.js';
import type { BackendPick, ModelSource } from '../worker/protocol.js';
import { TEACH_MODES, type TeachClassifyResult, type TeachMode, type TeachPrepared, type TeachSettings, type TeachStep } from '../worker/train_protocol.js';
import { TrainingChart } from './chart.js';
import { ClassList } from './class_list.js';
import { TeachClient } from './teach_client.js';

/** Starting learning rates: a fresh head alone takes large steps; the whole network small ones. */
const DEFAULT_LR: Record<TeachMode, number> = { probe: 5e-3, finetune: 5e-4 };

/** What tests (and the console) can read: `window.vitkit.teach`. */
export interface TeachHandle {
  /** Resolves once nothing Teach started is still running. */
  idle(): Promise<void>;
  /** Adds files to class `index` (what picking them does). */
  addImages(index: number, files: File[]): void;
  prepared?: TeachPrepared;
  steps: TeachStep[];
  /** The last run's end: finished, or stopped at `step`. */
  trained?: { finished: boolean; step: number; validation?: { accuracy: number; loss: number } };
  lastClassify?: TeachClassifyResult;
  /** The files of the last download. */
  files?: { name: string; size: number }[];
}

export interface TeachContext {
  bundled: ModelSource;
  backendPick(): BackendPick;
  urlSource(url: string): ModelSource;
  showError(e: unknown): void;
  /** Counts an operation as pending for the page's idle(). */
  track(op: () => Promise<unknown>): void;
}

/** The Teach mode: classes and images in, a trained model out. */
export class TeachPanel {
  private client: { client: TeachClient; backend: BackendPick } | undefined;
  private readonly classes: ClassList;
  private readonly chart = new TrainingChart(byId('teach-chart', HTMLCanvasElement));
  private readonly webcam = new Webcam(byId('teach-webcam-video', HTMLVideoElement));
  private readonly status = byId('teach-status', HTMLParagraphElement);
  private readonly progress = byId('teach-progress', HTMLProgressElement);
  private readonly trainButton = byId('teach-train', HTMLButtonElement);
  private readonly stopButton = byId('teach-stop', HTMLButtonElement);
  private readonly continueButton = byId('teach-continue', HTMLButtonElement);
  private readonly resultPanel = byId('teach-result', HTMLDivElement);
  private pending = 0;
  private waiters: (() => void)[] = [];
  readonly handle: TeachHandle = { idle: () => this.whenIdle(), addImages: (i, f) => this.classes.addToClass(i, f), steps: [] };

  constructor(private readonly ctx: TeachContext) {
    this.classes = new ClassList(byId('teach-classes', HTMLOListElement), {
      skipped: (names) =>
        ctx.showError({ code: 'E_TEACH_INPUT', reason: `left out ${names.length} file${names.length === 1 ? '' : 's'} that ${names.length === 1 ? 'is' : 'are'} not an image: ${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}`, hint: 'Teach trains on PNG, JPEG, WebP, GIF and BMP images' }),
      capture: () => this.captureFrame(),
      error: (e) => ctx.showError(e),
    });
  }

  start(): void {
    for (const name of ['', '']) this.classes.add(name);
    byId('teach-add-class', HTMLButtonElement).addEventListener('click', () => {
      try {
        this.classes.add('').root.querySelector('input')?.focus();
      } catch (e) {
        this.ctx.showError(e);
      }
    });
    const mode = byId('teach-mode', HTMLSelectElement);
    const lr = byId('teach-lr', HTMLInputElement);
    mode.addEventListener('change', () => (lr.value = String(DEFAULT_LR[mode.value as TeachMode])));
    lr.value = String(DEFAULT_LR[mode.value as TeachMode]);
    const modelKind = byId('teach-model-kind', HTMLSelectElement);
    const showModelFields = (): void => {
      byId('teach-model-url', HTMLInputElement).hidden = modelKind.value !== 'url';
      byId('teach-model-files', HTMLInputElement).hidden = modelKind.value !== 'files';
    };
    modelKind.addEventListener('change', showModelFields);
    showModelFields();
    this.trainButton.addEventListener('click', () => this.run(() => this.prepareAndTrain()));
    this.stopButton.addEventListener('click', () => this.client?.client.stop());
    this.continueButton.addEventListener('click', () => this.run(() => this.train()));
    const tryInput = byId('teach-try', HTMLInputElement);
    tryInput.addEventListener('change', () => {
      const file = tryInput.files?.[0];
      tryInput.value = '';
      if (file) this.run(() => this.classify(file));
    });
    byId('teach-download', HTMLButtonElement).addEventListener('click', () => this.run(() => this.download()));
    const start = byId('teach-webcam-start', HTMLButtonElement);
    const stop = byId('teach-webcam-stop', HTMLButtonElement);
    start.addEventListener('click', () =>
      this.run(async () => {
        await this.webcam.start();
        start.hidden = true;
        stop.hidden = false;
      }),
    );
    stop.addEventListener('click', () => {
      this.webcam.stop();
      start.hidden = false;
      stop.hidden = true;
    });
  }

  private settings(): TeachSettings {
    const num = (id: string): number => Number(byId(id, HTMLInputElement).value);
    const mode = byId('teach-mode', HTMLSelectElement).value as TeachMode;
    const settings = { mode, epochs: num('teach-epochs'), batchSize: num('teach-batch'), lr: num('teach-lr'), seed: num('teach-seed') };
    const bad = (what: string, hint: string): ShownError => ({ code: 'E_TEACH_INPUT', reason: what, hint });
    if (!TEACH_MODES.includes(mode)) throw bad(`unknown training mode “${mode}”`, 'pick probe or fine-tune');
    if (!Number.isInteger(settings.epochs) || settings.epochs < 1 || settings.epochs > 1000) throw bad(`epochs must be a whole number from 1 to 1000, not ${settings.epochs}`, 'fix the number of epochs');
    if (!Number.isInteger(settings.batchSize) || settings.batchSize < 1 || settings.batchSize > 512) throw bad(`batch size must be a whole number from 1 to 512, not ${settings.batchSize}`, 'fix the batch size');
    if (!(settings.lr > 0 && settings.lr < 1)) throw bad(`learning rate must be between 0 and 1, not ${settings.lr}`, 'try 0.005 for a probe, 0.0005 to fine-tune');
    if (!Number.isInteger(settings.seed) || settings.seed < 0) throw bad(`seed must be a whole number ≥ 0, not ${settings.seed}`, 'fix the seed');
    return settings;
  }

  private modelSource(): ModelSource {
    const kind = byId('teach-model-kind', HTMLSelectElement).value;
    if (kind === 'url') {
      const url = byId('teach-model-url', HTMLInputElement).value.trim();
      if (!url) throw { code: 'E_INPUT', reason: 'no model URL given', hint: 'type a checkpoint URL or hf://org/repo, or pick the bundled model' };
      return this.ctx.urlSource(url);
    }
    if (kind === 'files') {
      const files = [...(byId('teach-model-files', HTMLInputElement).files ?? [])];
      if (!files.length) throw { code: 'E_INPUT', reason: 'no model files picked', hint: 'pick the weights with config.json and preprocessor_config.json' };
      return { kind: 'files', files };
    }
    return this.ctx.bundled;
  }

  /** The training worker on the page's backend (a new one when the backend changed). */
  private async worker(): Promise<TeachClient> {
    const pick = this.ctx.backendPick();
    if (this.client?.backend === pick) return this.client.client;
    this.client?.client.terminate();
    const client = new TeachClient();
    this.client = { client, backend: pick };
    const info = await client.init(pick);
    this.status.textContent = `Training on ${info.name}.`;
    return client;
  }

  private async prepareAndTrain(): Promise<void> {
    const settings = this.settings();
    const source = this.modelSource();
    const client = await this.worker();
    this.setRunning(true);
    try {
      this.status.textContent = 'Loading the model and preparing the images…';
      const prepared = await client.prepare(source, this.classes.classes, settings, (loaded, total, what) => {
        this.progress.max = total ?? 1;
        this.progress.value = total ? loaded : 0;
        this.status.textContent = what === 'images' ? `Preparing images: ${loaded} of ${total}` : what === 'features' ? `Embedding images for the probe: ${loaded} of ${total}` : `Loading ${what}…`;
      });
      this.handle.prepared = prepared;
      this.handle.steps = [];
      delete this.handle.trained;
      this.chart.reset();
      for (const notice of prepared.notices) this.ctx.showError({ code: 'E_TEACH_NOTICE', reason: notice });
    } finally {
      this.setRunning(false);
    }
    await this.train();
  }

  private async train(): Promise<void> {
    const client = this.client?.client;
    if (!client || !this.handle.prepared) return;
    this.setRunning(true);
    try {
      const done = await client.train((s) => {
        this.handle.steps.push(s);
        this.chart.add(s);
        this.progress.max = s.totalSteps;
        this.progress.value = s.step;
        const eta = Number.isFinite(s.etaSeconds) ? `, about ${formatSeconds(s.etaSeconds)} left` : '';
        const acc = s.validation ? `, validation accuracy ${(100 * s.validation.accuracy).toFixed(1)}%` : '';
        this.status.textContent = `Step ${s.step} of ${s.totalSteps}: loss ${s.loss.toFixed(4)}${acc}${eta}`;
      });
      this.handle.trained = { finished: done.finished, step: done.step, ...(done.validation ? { validation: done.validation } : {}) };
      const acc = done.validation ? ` Validation accuracy ${(100 * done.validation.accuracy).toFixed(1)}%.` : '';
      this.status.textContent = done.finished ? `Done: ${done.step} steps.${acc}` : `Stopped at step ${done.step}.${acc} Continue, or try and download the model as it is.`;
      this.continueButton.hidden = done.finished;
      this.resultPanel.hidden = false;
    } finally {
      this.setRunning(false);
    }
  }

  private async classify(file: File): Promise<void> {
    const client = this.client?.client;
    if (!client) return;
    const result = await client.classify(file, file.name);
    this.handle.lastClassify = result;
    byId('teach-top', HTMLOListElement).replaceChildren(
      ...result.top.map((p) => h('li', {}, h('span', {}, p.label), h('span', { class: 'bar' }, h('span', { style: `width: ${(100 * p.probability).toFixed(1)}%` })), h('span', {}, `${(100 * p.probability).toFixed(2)}%`))),
    );
  }

  /** The model directory, zipped (a browser cannot save a folder); the three files are also listed as links. */
  private async download(): Promise<void> {
    const client = this.client?.client;
    if (!client) return;
    const files = await client.export();
    this.handle.files = files.map((f) => ({ name: f.name, size: f.bytes.length }));
    const zip = writeZip(files.map((f) => ({ name: `teach-model/${f.name}`, data: f.bytes })));
    const list = byId('teach-files', HTMLUListElement);
    for (const a of list.querySelectorAll('a')) URL.revokeObjectURL(a.href);
    list.replaceChildren(...files.map((f) => h('li', {}, h('a', { href: URL.createObjectURL(new Blob([f.bytes as BlobPart])), download: f.name }, f.name))));
    const a = h('a', { href: URL.createObjectURL(new Blob([zip as BlobPart], { type: 'application/zip' })), download: 'teach-model.zip' });
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
  }

  private async captureFrame(): Promise<Blob> {
    const bitmap = await this.webcam.capture();
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    canvas.getContext('2d')!.drawImage(bitmap, 0, 0);
    bitmap.close();
    return canvas.convertToBlob({ type: 'image/png' });
  }

  private setRunning(running: boolean): void {
    this.trainButton.disabled = running;
    this.stopButton.hidden = !running;
    if (running) this.continueButton.hidden = true;
    document.body.dataset.teach = running ? 'running' : 'idle';
  }

  private run(op: () => Promise<void>): void {
    this.pending++;
    this.ctx.track(() =>
      op()
        .catch((e: unknown) => this.ctx.showError(e))
        .finally(() => {
          if (--this.pending === 0) for (const w of this.waiters.splice(0)) w();
        }),
    );
  }

  private whenIdle(): Promise<void> {
    return this.pending === 0 ? Promise.resolve() : new Promise((r) => this.waiters.push(r));
  }
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.max(1, Math.round(s))} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}
