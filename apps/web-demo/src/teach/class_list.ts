import { h } from '../ui/dom.js';
import type { TeachImage } from '../worker/train_data.js';
import { MAX_CLASSES } from '../worker/train_data.js';
import { droppedFolders, isImageFile } from './folders.js';

/** Thumbnails shown per class (the count says how many there are). */
const THUMBNAILS = 8;

interface ClassRow {
  root: HTMLLIElement;
  name: HTMLInputElement;
  images: TeachImage[];
  count: HTMLElement;
  thumbs: HTMLElement;
}

export interface ClassListEvents {
  /** Files that are not images were left out. */
  skipped(names: string[]): void;
  /** The webcam frame for a class (rejects when the camera is off). */
  capture(): Promise<Blob>;
  error(e: unknown): void;
}

/**
 * The editable list of classes: a name, images from files, a folder or the
 * webcam, thumbnails and a count per class. Folders dropped on the list
 * become classes (one per folder, named after it).
 */
export class ClassList {
  private readonly rows: ClassRow[] = [];

  constructor(
    private readonly list: HTMLOListElement,
    private readonly events: ClassListEvents,
  ) {
    list.addEventListener('dragover', (e) => {
      if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
    });
    list.addEventListener('drop', (e) => {
      const items = e.dataTransfer?.items;
      if (!items?.length) return;
      e.preventDefault();
      e.stopPropagation(); // not a model or an image for the classify page
      const row = this.rows.find((r) => r.root.contains(e.target as Node));
      void droppedFolders(items)
        .then((folders) => {
          for (const f of folders) {
            const target = row ?? (f.name ? this.add(f.name) : this.rows.find((r) => r.images.length === 0) ?? this.add(''));
            this.addFiles(target, f.files);
          }
        })
        .catch((err: unknown) => this.events.error(err));
    });
  }

  get classes(): { name: string; images: TeachImage[] }[] {
    return this.rows.map((r) => ({ name: r.name.value, images: [...r.images] }));
  }

  get size(): number {
    return this.rows.length;
  }

  /** Adds a class (up to MAX_CLASSES) and returns its row. */
  add(name: string): ClassRow {
    if (this.rows.length >= MAX_CLASSES) throw Object.assign(new Error('too many classes'), { code: 'E_TEACH_INPUT', reason: `Teach trains at most ${MAX_CLASSES} classes`, hint: 'remove a class first' });
    const n = this.rows.length + 1;
    const nameInput = h('input', { type: 'text', class: 'teach-class-name', 'aria-label': `Name of class ${n}`, placeholder: `class ${n}`, value: name });
    const files = h('input', { type: 'file', multiple: '', accept: 'image/*', class: 'teach-class-files', 'aria-label': `Add images to class ${n}` });
    const folder = h('input', { type: 'file', webkitdirectory: '', class: 'teach-class-folder', 'aria-label': `Add a folder of images to class ${n}` });
    const capture = h('button', { type: 'button', class: 'secondary teach-class-capture' }, 'Add webcam frame');
    const clear = h('button', { type: 'button', class: 'secondary' }, 'Clear');
    const remove = h('button', { type: 'button', class: 'secondary' }, 'Remove class');
    const count = h('span', { class: 'teach-class-count note' }, '0 images');
    const thumbs = h('div', { class: 'teach-thumbs' });
    const root = h(
      'li',
      { class: 'teach-class' },
      h('div', { class: 'row' }, nameInput, count),
      h('div', { class: 'row' }, h('label', { class: 'button secondary' }, 'Images…', files), h('label', { class: 'button secondary' }, 'Folder…', folder), capture, clear, remove),
      thumbs,
    );
    const row: ClassRow = { root, name: nameInput, images: [], count, thumbs };
    for (const input of [files, folder]) {
      input.addEventListener('change', () => {
        this.addFiles(row, [...(input.files ?? [])]);
        input.value = '';
      });
    }
    capture.addEventListener('click', () => {
      this.events
        .capture()
        .then((blob) => this.addFiles(row, [new File([blob], `webcam-${row.images.length + 1}.png`, { type: 'image/png' })]))
        .catch((e: unknown) => this.events.error(e));
    });
    clear.addEventListener('click', () => {
      row.images = [];
      this.render(row);
    });
    remove.addEventListener('click', () => {
      this.rows.splice(this.rows.indexOf(row), 1);
      root.remove();
    });
    this.rows.push(row);
    this.list.append(root);
    this.render(row);
    return row;
  }

  /** Adds files to the class at `index` (0-based); tests and drops use it. */
  addToClass(index: number, files: File[]): void {
    const row = this.rows[index];
    if (row) this.addFiles(row, files);
  }

  private addFiles(row: ClassRow, files: File[]): void {
    const images = files.filter(isImageFile);
    const skipped = files.filter((f) => !isImageFile(f)).map((f) => f.name);
    if (skipped.length) this.events.skipped(skipped);
    row.images.push(...images.map((f) => ({ blob: f, name: f.webkitRelativePath || f.name })));
    this.render(row);
  }

  private render(row: ClassRow): void {
    const n = row.images.length;
    row.count.textContent = `${n} image${n === 1 ? '' : 's'}`;
    for (const img of row.thumbs.querySelectorAll('img')) URL.revokeObjectURL(img.src);
    row.thumbs.replaceChildren(...row.images.slice(0, THUMBNAILS).map((i) => h('img', { src: URL.createObjectURL(i.blob), alt: i.name, width: '40', height: '40' })));
  }
}
