import './styles.css';
import { InferenceClient, WorkerError } from './client.js';
import { byId } from './ui/dom.js';
import { sortFiles } from './ui/files.js';
import { CompareView, type CompareImage } from './ui/compare_view.js';
import { clearGallerySelection, loadSamples, renderGallery, type Sample } from './ui/gallery.js';
import { Messages, type ShownError } from './ui/messages.js';
import { ModelView } from './ui/model_view.js';
import { ResultsView } from './ui/results_view.js';
import { Webcam } from './ui/webcam.js';
import { BACKEND_PICKS, type BackendInfo, type BackendPick, type ClassifyResult, type CompareResult, type InputPayload, type ModelInfo, type ModelSource } from './worker/protocol.js';
import { PREPROCESS_CHOICES } from './worker/presets.js';
import { wireModeTabs } from './teach/mode_tabs.js';
import { TeachPanel, type TeachHandle } from './teach/teach_mode.js';

/** The model that ships with the page: trained on Fashion-MNIST by `pnpm vit train`. */
const BUNDLED: ModelSource = {
  kind: 'url',
  url: new URL('models/fashion-mnist/model.safetensors', document.baseURI).href,
  name: 'Fashion-MNIST ViT (bundled)',
  // Served with the page: the HTTP cache covers it, and a retrained model must never be shadowed by an old copy.
  cache: false,
};
const SAMPLES_BASE = new URL('samples/', document.baseURI).href;

/** What tests (and curious users, from the console) can read: `window.vitkit`. */
export interface DemoHandle {
  /** Resolves once every started operation (backend switch, model load, classification) has finished. */
  idle(): Promise<void>;
  backend?: BackendInfo;
  model?: ModelInfo;
  lastResult?: ClassifyResult;
  /** The last compare-mode result: names, similarity matrix, nearest neighbours, embeddings. */
  lastCompare?: CompareResult;
  /** The last download progress report. */
  lastProgress?: { loaded: number; total: number | undefined; what: string };
  /** The last progress report of each file (weights, config.json, ...) of the last load. */
  progressByFile: Record<string, { loaded: number; total: number | undefined }>;
  errors: ShownError[];
  /** The Teach mode (training in the browser). */
  teach?: TeachHandle;
}

declare global {
  interface Window {
    vitkit: DemoHandle;
  }
}

class App {
  private client: InferenceClient | undefined;
  private backendPick: BackendPick = 'auto';
  private modelSource: ModelSource = BUNDLED;
  private lastInput: InputPayload | undefined;
  /** A Hugging Face mirror for hf:// (?hf-endpoint=...). */
  private hfEndpoint: string | undefined;
  private latestRun = 0;
  private pending = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly messages = new Messages(byId('messages', HTMLDivElement));
  private readonly modelView = new ModelView();
  private readonly results = new ResultsView();
  private readonly compareView = new CompareView();
  private samples: Sample[] = [];
  private readonly webcam = new Webcam(byId('webcam-video', HTMLVideoElement));
  private readonly gallery = byId('gallery', HTMLUListElement);
  private readonly backendSelect = byId('backend-select', HTMLSelectElement);
  private readonly preprocessSelect = byId('preprocess-select', HTMLSelectElement);
  private readonly invert = byId('invert', HTMLInputElement);
  readonly handle: DemoHandle = { idle: () => this.whenIdle(), errors: [], progressByFile: {} };

  start(): void {
    const params = new URLSearchParams(location.search);
    const pick = params.get('backend');
    if (pick && (BACKEND_PICKS as readonly string[]).includes(pick)) this.backendPick = pick as BackendPick;
    this.backendSelect.value = this.backendPick;
    this.hfEndpoint = params.get('hf-endpoint') ?? undefined;
    const modelUrl = params.get('model');
    if (modelUrl) this.modelSource = this.urlSource(modelUrl);

    this.fillPreprocessOptions(undefined);
    this.wireControls();
    this.track(async () => {
      const samples = await loadSamples(SAMPLES_BASE).catch((e: unknown) => {
        this.showError({ code: 'E_SAMPLES', reason: `the sample images could not be loaded (${String(e)})`, hint: 'upload an image instead' });
        return [];
      });
      this.samples = samples;
      renderGallery(this.gallery, samples, SAMPLES_BASE, (sample, url) =>
        this.track(async () => {
          const res = await fetch(url);
          if (!res.ok) throw { code: 'E_SAMPLES', reason: `the sample ${sample.file} could not be loaded (HTTP ${res.status})`, hint: 'reload the page' };
          this.classify({ kind: 'file', blob: await res.blob(), name: sample.file }, false);
        }),
      );
    });
    this.track(() => this.switchBackend(this.backendPick));
    this.startTeach();
  }

  /** The Teach mode shares the page's backend choice, messages and idle(); it trains in a worker of its own. */
  private startTeach(): void {
    const teach = new TeachPanel({
      bundled: BUNDLED,
      backendPick: () => this.backendPick,
      urlSource: (url) => this.urlSource(url),
      showError: (e) => this.showError(e),
      track: (op) => this.track(op),
    });
    teach.start();
    this.handle.teach = teach.handle;
    wireModeTabs(new URLSearchParams(location.search).get('mode'));
  }

  // ---- operations -------------------------------------------------------

  /** Starts a fresh worker on `pick` and loads the current model into it (one worker = one backend). */
  private async switchBackend(pick: BackendPick): Promise<void> {
    this.client?.terminate();
    this.client = new InferenceClient();
    this.modelView.backendStarting(pick);
    let backend: BackendInfo;
    try {
      backend = await this.client.init(pick);
    } catch (e) {
      this.showError(e);
      if (pick === 'auto') return;
      // The named backend cannot run here: say why, then carry on with the best one that can.
      this.backendSelect.value = 'auto';
      return this.switchBackend('auto');
    }
    this.backendPick = pick;
    this.handle.backend = backend;
    this.modelView.showBackend(backend);
    const loaded = await this.loadModel(this.modelSource, true);
    // A model from ?model= that cannot load leaves the page with the bundled one rather than none.
    if (!loaded && this.modelSource !== BUNDLED) {
      this.modelSource = BUNDLED;
      await this.loadModel(BUNDLED, true);
    }
  }

  /** Loads a model into the current worker; false (after showing why) when it cannot. */
  private async loadModel(source: ModelSource, rerun: boolean): Promise<boolean> {
    const client = this.client;
    if (!client) return false;
    this.modelView.startProgress(source.kind === 'files' ? `Reading ${source.files.map((f) => f.name).join(', ')}` : `Loading ${source.name ?? source.url}`);
    this.handle.progressByFile = {};
    try {
      const model = await client.load(source, (loaded, total, what) => {
        this.handle.lastProgress = { loaded, total, what };
        this.handle.progressByFile[what] = { loaded, total };
        this.modelView.updateProgress(loaded, total, what);
      });
      this.modelSource = source;
      this.handle.model = model;
      this.modelView.showModel(model);
      this.fillPreprocessOptions(model);
      document.body.dataset.model = model.name;
    } catch (e) {
      this.showError(e);
      return false;
    } finally {
      this.modelView.endProgress();
    }
    // Images fit any model; a .npy was made for one model's input shape, so it is not replayed on another.
    if (rerun && this.lastInput && !isNpy(this.lastInput)) await this.runClassify(this.lastInput);
    return true;
  }

  private classify(input: InputPayload, fromOtherSource = true): void {
    if (fromOtherSource) clearGallerySelection(this.gallery);
    // Webcam frames are transferred to the worker and cannot be replayed; files can.
    this.lastInput = input.kind === 'file' ? input : undefined;
    this.track(() => this.runClassify(input));
  }

  private async runClassify(input: InputPayload): Promise<void> {
    const client = this.client;
    if (!client) return;
    const run = ++this.latestRun;
    this.results.busy(`Classifying ${input.name}…`);
    try {
      const result = await client.classify(input, { preset: this.preprocessSelect.value, invert: this.invert.checked });
      // A newer request supersedes this one; its result is on the way.
      if (run !== this.latestRun) return;
      this.handle.lastResult = result;
      this.results.show(result, this.handle.backend);
    } catch (e) {
      if (run === this.latestRun) this.results.idle('Could not classify this input.');
      this.showError(e);
    }
  }

  /** Compare mode: embeds the images in the worker and shows their similarity matrix. */
  private compare(images: (CompareImage & { blob: Blob })[]): void {
    this.track(async () => {
      const client = this.client;
      if (!client) return;
      this.compareView.busy(`Comparing ${images.length} images…`);
      try {
        const payloads: InputPayload[] = images.map((i) => ({ kind: 'file', blob: i.blob, name: i.name }));
        const result = await client.compare(payloads, { preset: this.preprocessSelect.value, invert: this.invert.checked });
        this.handle.lastCompare = result;
        this.compareView.show(result, images);
      } catch (e) {
        this.compareView.idle('Could not compare these images.');
        this.showError(e);
      }
    });
  }

  private compareFiles(files: File[]): void {
    this.compare(files.map((f) => ({ blob: f, name: f.name || 'pasted image', url: URL.createObjectURL(f) })));
  }

  // ---- wiring -----------------------------------------------------------

  private wireControls(): void {
    this.backendSelect.addEventListener('change', () => {
      this.track(() => this.switchBackend(this.backendSelect.value as BackendPick));
    });
    byId('bundled-model', HTMLButtonElement).addEventListener('click', () => this.track(() => this.loadModel(BUNDLED, true)));
    const modelFiles = byId('model-files', HTMLInputElement);
    modelFiles.addEventListener('change', () => {
      const files = [...(modelFiles.files ?? [])];
      modelFiles.value = '';
      if (files.length) this.track(() => this.loadModel({ kind: 'files', files }, true));
    });
    // A folder's files all go to the task layer, which picks the weights and JSON files and leaves the rest.
    const modelFolder = byId('model-folder', HTMLInputElement);
    modelFolder.addEventListener('change', () => {
      const files = [...(modelFolder.files ?? [])];
      modelFolder.value = '';
      if (files.length) this.track(() => this.loadModel({ kind: 'files', files }, true));
    });
    const urlForm = byId('model-url-form', HTMLFormElement);
    const urlInput = byId('model-url', HTMLInputElement);
    urlForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const url = urlInput.value.trim();
      if (!url) {
        this.showError({ code: 'E_INPUT', reason: 'no URL given', hint: 'type a checkpoint URL or hf://org/repo' });
        urlInput.focus();
        return;
      }
      let source: ModelSource;
      try {
        source = this.urlSource(url);
      } catch {
        this.showError({ code: 'E_INPUT', reason: `“${url}” is not a URL`, hint: 'type an http(s) URL of a .safetensors or .npz file, or hf://org/repo' });
        return;
      }
      this.track(() => this.loadModel(source, true));
    });

    const imageFile = byId('image-file', HTMLInputElement);
    imageFile.addEventListener('change', () => {
      const file = imageFile.files?.[0];
      imageFile.value = '';
      if (file) this.classify({ kind: 'file', blob: file, name: file.name });
    });
    const compareFiles = byId('compare-files', HTMLInputElement);
    compareFiles.addEventListener('change', () => {
      const files = [...(compareFiles.files ?? [])];
      compareFiles.value = '';
      if (files.length) this.compareFiles(files);
    });
    byId('compare-samples', HTMLButtonElement).addEventListener('click', () =>
      this.track(async () => {
        const images = await Promise.all(
          this.samples.map(async (sample) => {
            const url = new URL(sample.file, SAMPLES_BASE).href;
            const res = await fetch(url);
            if (!res.ok) throw { code: 'E_SAMPLES', reason: `the sample ${sample.file} could not be loaded (HTTP ${res.status})`, hint: 'reload the page' };
            return { blob: await res.blob(), name: sample.className, url };
          }),
        );
        this.compare(images);
      }),
    );
    this.preprocessSelect.addEventListener('change', () => this.rerun());
    this.invert.addEventListener('change', () => this.rerun());

    this.wireWebcam();
    this.wireDropAndPaste();
  }

  private urlSource(url: string): ModelSource {
    if (url.startsWith('hf://')) return { kind: 'url', url, ...(this.hfEndpoint ? { endpoint: new URL(this.hfEndpoint, document.baseURI).href } : {}) };
    return { kind: 'url', url: new URL(url, document.baseURI).href };
  }

  /** Preprocessing changed: classify the last image again (a .npy is used as it is, so it is not affected). */
  private rerun(): void {
    if (this.lastInput && !isNpy(this.lastInput)) this.classify(this.lastInput, false);
  }

  private wireWebcam(): void {
    const start = byId('webcam-start', HTMLButtonElement);
    const capture = byId('webcam-capture', HTMLButtonElement);
    const stop = byId('webcam-stop', HTMLButtonElement);
    const setActive = (active: boolean): void => {
      start.hidden = active;
      capture.hidden = !active;
      stop.hidden = !active;
    };
    start.addEventListener('click', () =>
      this.track(async () => {
        try {
          await this.webcam.start();
          setActive(true);
          capture.focus();
        } catch (e) {
          this.showError(e);
        }
      }),
    );
    capture.addEventListener('click', () =>
      this.track(async () => {
        try {
          const bitmap = await this.webcam.capture();
          this.classify({ kind: 'bitmap', bitmap, name: 'webcam frame' });
        } catch (e) {
          this.showError(e);
        }
      }),
    );
    stop.addEventListener('click', () => {
      this.webcam.stop();
      setActive(false);
      start.focus();
    });
  }

  /** Files dropped anywhere on the page, or pasted: model files load a model, images and .npy get classified. */
  private wireDropAndPaste(): void {
    let depth = 0;
    document.addEventListener('dragenter', (e) => {
      if (!e.dataTransfer?.types.includes('Files')) return;
      depth++;
      document.body.classList.add('dragging');
    });
    document.addEventListener('dragleave', () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) document.body.classList.remove('dragging');
    });
    document.addEventListener('dragover', (e) => {
      if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
    });
    document.addEventListener('drop', (e) => {
      depth = 0;
      document.body.classList.remove('dragging');
      if (!e.dataTransfer?.files.length) return;
      e.preventDefault();
      this.takeFiles([...e.dataTransfer.files]);
    });
    document.addEventListener('paste', (e) => {
      const files = [...(e.clipboardData?.files ?? [])];
      if (!files.length) return;
      // Pasting text into the URL box must still work.
      if (e.target instanceof HTMLInputElement && e.target.type === 'text') return;
      e.preventDefault();
      this.takeFiles(files);
    });
  }

  private takeFiles(files: File[]): void {
    const { model, inputs, unknown } = sortFiles(files);
    for (const f of unknown) {
      this.showError({
        code: 'E_INPUT',
        reason: `“${f.name}” is neither an image, a .npy input nor a model file`,
        hint: 'drop an image (PNG, JPEG, …), a .npy array, or a .safetensors/.npz checkpoint with its config.json',
      });
    }
    if (model.length) this.track(() => this.loadModel({ kind: 'files', files: model }, inputs.length === 0));
    const images = inputs.filter((f) => !f.name.toLowerCase().endsWith('.npy'));
    // Several images at once: compare them (the worker takes them after any model in the same drop).
    if (images.length >= 2) {
      this.compareFiles(images);
      return;
    }
    const input = inputs[0];
    if (input) this.classify({ kind: 'file', blob: input, name: input.name || 'pasted image' });
  }

  private fillPreprocessOptions(model: ModelInfo | undefined): void {
    const current = this.preprocessSelect.value || 'model';
    const options = [new Option(`As the model's files say${model ? ` (${model.preprocess})` : ''}`, 'model')];
    for (const [key, label] of Object.entries(PREPROCESS_CHOICES)) options.push(new Option(label, key));
    this.preprocessSelect.replaceChildren(...options);
    this.preprocessSelect.value = current;
  }

  // ---- bookkeeping ------------------------------------------------------

  private showError(e: unknown): void {
    const shown = toShownError(e);
    // Work cut short by a backend switch is redone on the new backend; nothing to report.
    if (shown.code === 'E_CANCELLED') return;
    this.handle.errors.push(shown);
    this.messages.error(shown);
  }

  /** Runs an operation, counting it as pending (synchronously, so tests can wait right after triggering it). */
  private track(op: () => Promise<unknown>): void {
    this.pending++;
    document.body.dataset.state = 'busy';
    op()
      .catch((e: unknown) => this.showError(e))
      .finally(() => {
        if (--this.pending === 0) {
          document.body.dataset.state = 'ready';
          for (const resolve of this.idleWaiters.splice(0)) resolve();
        }
      });
  }

  private whenIdle(): Promise<void> {
    return this.pending === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

function isNpy(input: InputPayload): boolean {
  return input.kind === 'file' && input.name.toLowerCase().endsWith('.npy');
}

function toShownError(e: unknown): ShownError {
  if (e instanceof WorkerError) return { code: e.code, reason: e.reason, hint: e.hint };
  if (typeof e === 'object' && e !== null && 'reason' in e && 'code' in e) {
    const o = e as { code: unknown; reason: unknown; hint?: unknown };
    return { code: String(o.code), reason: String(o.reason), ...(o.hint ? { hint: String(o.hint) } : {}) };
  }
  return { code: 'E_INTERNAL', reason: e instanceof Error ? e.message : String(e) };
}

const app = new App();
window.vitkit = app.handle;
app.start();
