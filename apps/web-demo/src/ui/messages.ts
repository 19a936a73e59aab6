import { h } from './dom.js';

export interface ShownError {
  code: string;
  reason: string;
  hint?: string | undefined;
}

/** Most messages kept on screen; older ones go first. */
const MAX_MESSAGES = 3;

/**
 * Error banners: the reason in plain words and what to do about it. Each
 * is an alert (read out by screen readers) with a dismiss button.
 */
export class Messages {
  constructor(private readonly root: HTMLElement) {}

  error(e: ShownError): void {
    const close = h('button', { type: 'button', class: 'secondary', 'aria-label': 'Dismiss this message' }, 'Dismiss');
    const body = h('div', {}, h('p', { class: 'reason' }, capitalize(e.reason)));
    if (e.hint) body.append(h('p', { class: 'hint' }, capitalize(e.hint)));
    const box = h('div', { class: 'message', role: 'alert', 'data-code': e.code }, body, close);
    close.addEventListener('click', () => box.remove());
    this.root.prepend(box);
    while (this.root.children.length > MAX_MESSAGES) this.root.lastElementChild!.remove();
  }

  clear(): void {
    this.root.replaceChildren();
  }
}

/** Sentence case for reasons that start with a plain word; "model.safetensors: ..." stays as it is. */
function capitalize(s: string): string {
  return /^[a-z]+(\s|$)/.test(s) ? s.charAt(0).toUpperCase() + s.slice(1) : s;
}
