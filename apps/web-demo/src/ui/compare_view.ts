import { colormap } from '../attention/colormap.js';
import type { CompareResult } from '../worker/protocol.js';
import { byId, h } from './dom.js';

/** An image of compare mode: its name and a URL to show it by (object URL or sample URL). */
export interface CompareImage {
  name: string;
  url: string;
}

/**
 * Compare mode's read-out: the cosine-similarity matrix as a heat grid with a thumbnail on each
 * row and column, and each image's nearest neighbour.
 */
export class CompareView {
  private readonly root = byId('compare', HTMLElement);
  private readonly status = byId('compare-status', HTMLParagraphElement);
  private readonly grid = byId('similarity', HTMLTableElement);
  private readonly neighbours = byId('neighbours', HTMLOListElement);
  private runs = 0;

  busy(text: string): void {
    this.root.hidden = false;
    this.status.textContent = text;
    this.root.setAttribute('aria-busy', 'true');
  }

  idle(text?: string): void {
    if (text !== undefined) this.status.textContent = text;
    this.root.removeAttribute('aria-busy');
  }

  show(result: CompareResult, images: readonly CompareImage[]): void {
    this.runs++;
    this.idle(`${result.names.length} images, ${result.embedding} (${result.dim} values), cosine similarity · ${result.latencyMs.toFixed(0)} ms on ${result.backend}`);
    const thumb = (i: number): HTMLElement => h('img', { src: images[i]?.url ?? '', alt: result.names[i] ?? '', title: result.names[i] ?? '', width: '40', height: '40' });
    // Colours span the off-diagonal range, so that small differences between similar images still show.
    const off = result.matrix.flatMap((row, i) => row.filter((_, j) => j !== i));
    const lo = Math.min(...off);
    const hi = Math.max(...off);
    const head = h('tr', {}, h('td', {}), ...result.names.map((_, j) => h('th', { scope: 'col' }, thumb(j))));
    const rows = result.matrix.map((row, i) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, thumb(i)),
        ...row.map((s, j) => {
          const t = i === j ? 1 : hi > lo ? (s - lo) / (hi - lo) : 1;
          const [r, g, b] = colormap(t);
          const nearest = result.neighbours[i]?.index === j;
          const cell = h('td', { style: `background: rgb(${r} ${g} ${b}); color: ${t > 0.55 ? '#111' : '#fff'}`, title: `${result.names[i]} vs ${result.names[j]}: ${s.toFixed(4)}` }, s.toFixed(2));
          if (nearest) cell.classList.add('nearest');
          return cell;
        }),
      ),
    );
    this.grid.replaceChildren(h('caption', {}, 'Cosine similarity (rows and columns in the order given; outlined: nearest neighbour of the row)'), h('thead', {}, head), h('tbody', {}, ...rows));
    this.neighbours.replaceChildren(
      ...result.neighbours.map((n, i) =>
        h('li', {}, thumb(i), `${result.names[i]} → `, thumb(n.index), `${result.names[n.index] ?? '—'} (${n.similarity.toFixed(3)})`),
      ),
    );
    // For tests and curious users: the exact numbers, machine-readable.
    this.root.dataset.run = String(this.runs);
    this.root.dataset.matrix = JSON.stringify(result.matrix);
  }
}
