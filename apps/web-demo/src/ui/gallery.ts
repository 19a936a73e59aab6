import { h } from './dom.js';

export interface Sample {
  file: string;
  label: number;
  className: string;
}

/** Reads the sample list that ships with the page (public/samples/samples.json). */
export async function loadSamples(base: string): Promise<Sample[]> {
  const res = await fetch(new URL('samples.json', base));
  if (!res.ok) throw new Error(`samples.json: HTTP ${res.status}`);
  const json = (await res.json()) as { samples: Sample[] };
  return json.samples;
}

/** The sample buttons; `onPick` gets the sample and its image URL (called synchronously on click). */
export function renderGallery(list: HTMLUListElement, samples: Sample[], base: string, onPick: (sample: Sample, url: string) => void): void {
  const buttons: HTMLButtonElement[] = [];
  for (const sample of samples) {
    const url = new URL(sample.file, base).href;
    const img = h('img', { src: url, alt: '', width: '28', height: '28' });
    const button = h('button', { type: 'button', 'aria-pressed': 'false', 'data-label': String(sample.label), 'aria-label': `Classify sample: ${sample.className}` }, img, sample.className);
    button.addEventListener('click', () => {
      for (const b of buttons) b.setAttribute('aria-pressed', String(b === button));
      onPick(sample, url);
    });
    buttons.push(button);
    list.append(h('li', {}, button));
  }
}

/** Clears the gallery's selection (another input was chosen). */
export function clearGallerySelection(list: HTMLUListElement): void {
  for (const b of list.querySelectorAll('button')) b.setAttribute('aria-pressed', 'false');
}
