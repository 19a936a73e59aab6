import type { MetricsRecord } from './metrics.js';

/** One curve of a chart: points (x, y) and a colour. */
interface Series {
  label: string;
  color: string;
  points: [number, number][];
}

const W = 420;
const H = 260;
const M = { left: 52, right: 14, top: 28, bottom: 38 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Round tick values covering [lo, hi]. */
function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1000 || a < 0.01 ? v.toExponential(0) : String(Number(v.toPrecision(3)));
}

/** One line chart as an SVG <g> at (x0, y0). */
function chart(x0: number, y0: number, title: string, xLabel: string, series: Series[], yRange?: [number, number]): string {
  const all = series.flatMap((s) => s.points);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const parts: string[] = [`<g transform="translate(${x0},${y0})">`, `<text x="${W / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`];
  if (all.length === 0) {
    parts.push(`<text x="${W / 2}" y="${H / 2}" text-anchor="middle" font-size="12" fill="#888">no data yet</text></g>`);
    return parts.join('');
  }
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const xLo = Math.min(...xs);
  const xHi = Math.max(...xs) === xLo ? xLo + 1 : Math.max(...xs);
  let [yLo, yHi] = yRange ?? [Math.min(...ys), Math.max(...ys)];
  if (yHi === yLo) {
    yLo -= 0.5;
    yHi += 0.5;
  }
  const sx = (x: number): number => M.left + ((x - xLo) / (xHi - xLo)) * pw;
  const sy = (y: number): number => M.top + (1 - (y - yLo) / (yHi - yLo)) * ph;
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#bbb"/>`);
  for (const t of ticks(yLo, yHi)) {
    parts.push(`<line x1="${M.left}" x2="${M.left + pw}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>`);
    parts.push(`<text x="${M.left - 4}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end" font-size="10">${fmt(t)}</text>`);
  }
  for (const t of ticks(xLo, xHi)) {
    parts.push(`<text x="${sx(t).toFixed(1)}" y="${M.top + ph + 14}" text-anchor="middle" font-size="10">${fmt(t)}</text>`);
  }
  parts.push(`<text x="${M.left + pw / 2}" y="${H - 6}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>`);
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="1.5"/>`);
    if (s.points.length <= 60) for (const p of s.points) parts.push(`<circle cx="${sx(p[0]).toFixed(1)}" cy="${sy(p[1]).toFixed(1)}" r="2" fill="${s.color}"/>`);
    parts.push(`<text x="${M.left + 8}" y="${M.top + 14 + 13 * i}" font-size="11" fill="${s.color}">${esc(s.label)}</text>`);
  });
  parts.push('</g>');
  return parts.join('');
}

/**
 * An SVG with two charts side by side: training loss per logged step (and
 * validation loss per epoch), and validation accuracy per epoch (with the
 * final test accuracy as a point when known; the weight average's too, for
 * runs that keep one).
 */
export function renderTrainingPlot(records: readonly MetricsRecord[], title = 'training'): string {
  const steps = records.filter((r): r is Extract<MetricsRecord, { type: 'step' }> => r.type === 'step');
  const epochs = records.filter((r): r is Extract<MetricsRecord, { type: 'epoch' }> => r.type === 'epoch');
  const test = records.filter((r): r is Extract<MetricsRecord, { type: 'test' }> => r.type === 'test').at(-1);
  const loss = chart(0, 24, 'loss', 'step', [
    { label: 'train loss', color: '#1f77b4', points: steps.map((r) => [r.step, r.loss]) },
    { label: 'val loss', color: '#ff7f0e', points: epochs.map((r) => [r.step, r.val_loss]) },
  ]);
  const accSeries: Series[] = [{ label: 'val accuracy', color: '#2ca02c', points: epochs.map((r) => [r.step, r.accuracy]) }];
  const emaEpochs = epochs.filter((r) => r.ema_accuracy !== undefined);
  if (emaEpochs.length) accSeries.push({ label: 'val accuracy (EMA weights)', color: '#9467bd', points: emaEpochs.map((r) => [r.step, r.ema_accuracy!]) });
  if (test) accSeries.push({ label: `test accuracy ${(test.accuracy * 100).toFixed(2)}%`, color: '#d62728', points: [[test.step, test.accuracy]] });
  if (test?.ema_accuracy !== undefined) {
    accSeries.push({ label: `test accuracy (EMA) ${(test.ema_accuracy * 100).toFixed(2)}%`, color: '#8c564b', points: [[test.step, test.ema_accuracy]] });
  }
  const lo = Math.min(1, ...accSeries.flatMap((s) => s.points.map((p) => p[1])));
  const acc = chart(W, 24, 'accuracy', 'step', accSeries, [Math.max(0, Math.floor(lo * 10) / 10), 1]);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${2 * W}" height="${H + 24}" viewBox="0 0 ${2 * W} ${H + 24}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="16" font-size="12" fill="#555">${esc(title)}</text>`,
    loss,
    acc,
    '</svg>',
    '',
  ].join('\n');
}
