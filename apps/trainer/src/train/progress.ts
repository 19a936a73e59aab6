// Training progress on the terminal: a live one-line bar on a TTY, plain
// log lines otherwise (CI logs, pipes, files).
import type { StepProgress, StepResult } from '@vitkit/training';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/**
 * Renders training steps. On a TTY the bar is redrawn in place (throttled to
 * ~10 Hz); `clear()` removes it before other output. Elsewhere one line is
 * printed per logged step.
 */
export class ProgressBar {
  private readonly out: ProgressStream;
  private readonly tty: boolean;
  private lastDraw = 0;
  private shown = false;

  constructor(out: ProgressStream, options: { tty?: boolean } = {}) {
    this.out = out;
    this.tty = options.tty ?? out.isTTY === true;
  }

  step(r: StepResult, p: StepProgress, epochs: { epoch: number; total: number }): void {
    const text = `step ${r.step}/${p.totalSteps} | epoch ${epochs.epoch}/${epochs.total} | loss ${r.loss.toFixed(4)} | ${p.imagesPerSecond.toFixed(0)} img/s | ETA ${formatDuration(p.etaSeconds)}`;
    if (!this.tty) {
      if (p.logged) this.out.write(`${text} | lr ${r.lr.toExponential(2)}\n`);
      return;
    }
    const now = Date.now();
    if (now - this.lastDraw < 100 && r.step !== p.totalSteps) return;
    this.lastDraw = now;
    const width = Math.max(10, Math.min(30, (this.out.columns ?? 100) - text.length - 12));
    const filled = Math.round((width * r.step) / p.totalSteps);
    const bar = `[${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? '>' : ''}${' '.repeat(width - filled)}]`;
    this.out.write(`\r\x1b[2K${bar} ${text}`);
    this.shown = true;
  }

  /** Removes the live bar so the next line starts clean. */
  clear(): void {
    if (this.tty && this.shown) this.out.write('\r\x1b[2K');
    this.shown = false;
  }

  /** Prints a whole line (clearing the bar first on a TTY). */
  line(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
  }
}
