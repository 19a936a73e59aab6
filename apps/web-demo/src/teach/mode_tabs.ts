import { byId } from '../ui/dom.js';

/** The page's two modes: classify (the three panels) and Teach (its own panel). `?mode=teach` opens Teach. */
export function wireModeTabs(initial: string | null): void {
  const tabs = { classify: byId('mode-classify', HTMLButtonElement), teach: byId('mode-teach', HTMLButtonElement) };
  const show = (mode: 'classify' | 'teach'): void => {
    for (const [name, tab] of Object.entries(tabs)) tab.setAttribute('aria-selected', String(name === mode));
    byId('classify-panels', HTMLElement).hidden = mode !== 'classify';
    byId('teach-panel', HTMLElement).hidden = mode !== 'teach';
    document.body.dataset.mode = mode;
  };
  tabs.classify.addEventListener('click', () => show('classify'));
  tabs.teach.addEventListener('click', () => show('teach'));
  show(initial === 'teach' ? 'teach' : 'classify');
}
