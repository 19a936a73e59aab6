// The progress display of `vit train`: a live bar on a TTY, plain lines elsewhere.
import { describe, expect, it } from 'vitest';
import { formatDuration, ProgressBar } from '../src/train/progress.js';
import { epochLine } from '../src/train/report.js';

const step = (n: number) => ({ step: n, loss: 1.23456, lr: 1e-3, gradNorm: 1, epoch: 0, epochEnded: false, epochLoss: 1.23456, images: 128 });
const progress = (logged: boolean) => ({ imagesPerSecond: 700.4, elapsedSeconds: 10, etaSeconds: 95, totalSteps: 100, logged });

describe('ProgressBar', () => {
  it('prints one plain line per logged step when not on a TTY', () => {
    const out: string[] = [];
    const bar = new ProgressBar({ write: (t: string) => out.push(t) }, { tty: false });
    bar.step(step(1), progress(true), { epoch: 1, total: 3 });
    bar.step(step(2), progress(false), { epoch: 1, total: 3 });
    expect(out).toEqual(['step 1/100 | epoch 1/3 | loss 1.2346 | 700 img/s | ETA 1m35s | lr 1.00e-3\n']);
  });

  it('redraws one line in place on a TTY and clears it before other output', () => {
    const out: string[] = [];
    const bar = new ProgressBar({ write: (t: string) => out.push(t), columns: 120 }, { tty: true });
    bar.step(step(50), progress(false), { epoch: 2, total: 3 });
    expect(out[0]!.startsWith('\r\x1b[2K[')).toBe(true);
    expect(out[0]!.slice(5)).toMatch(/^\[=+> +\] step 50\/100 \| epoch 2\/3 \| loss 1\.2346 \| 700 img\/s \| ETA 1m35s$/);
    bar.line('epoch 2/3: val accuracy 80.00%');
    expect(out.slice(1)).toEqual(['\r\x1b[2K', 'epoch 2/3: val accuracy 80.00%\n']);
  });

  it('formats durations', () => {
    expect(formatDuration(5)).toBe('5s');
    expect(formatDuration(125)).toBe('2m05s');
    expect(formatDuration(3 * 3600 + 60)).toBe('3h01m');
    expect(formatDuration(Number.NaN)).toBe('?');
  });
});

describe('epochLine', () => {
  const epoch = { type: 'epoch' as const, step: 60, epoch: 2, accuracy: 0.8, val_loss: 0.5, train_loss: 0.6, time_s: 75 };

  it("prints the epoch's training img/s from metrics.jsonl's record", () => {
    expect(epochLine({ ...epoch, img_per_s: 412.6 }, 3)).toBe('epoch 2/3: val accuracy 80.00% (val loss 0.5000, train loss 0.6000, 413 img/s) at 1m15s');
  });

  it('leaves img/s out for records written before it was measured', () => {
    expect(epochLine(epoch, 3)).toBe('epoch 2/3: val accuracy 80.00% (val loss 0.5000, train loss 0.6000) at 1m15s');
  });
});
