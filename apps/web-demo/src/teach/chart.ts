import type { TeachStep } from '../worker/train_protocol.js';

/**
 * The live training chart: the loss of every step (left axis, from 0 to the
 * largest loss so far) and the validation accuracy after each epoch (right
 * axis, 0–100%), drawn on a canvas as steps come in.
 */
export class TrainingChart {
  private steps: TeachStep[] = [];

  constructor(private readonly canvas: HTMLCanvasElement) {}

  reset(): void {
    this.steps = [];
    this.draw();
  }

  add(step: TeachStep): void {
    this.steps.push(step);
    this.draw();
  }

  private draw(): void {
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const { width, height } = this.canvas;
    const pad = { left: 40, right: 44, top: 12, bottom: 24 };
    const w = width - pad.left - pad.right;
    const hgt = height - pad.top - pad.bottom;
    ctx.clearRect(0, 0, width, height);
    ctx.font = '11px system-ui, sans-serif';
    ctx.strokeStyle = '#8884';
    ctx.strokeRect(pad.left, pad.top, w, hgt);
    const total = this.steps[0]?.totalSteps ?? 1;
    const maxLoss = Math.max(1e-6, ...this.steps.map((s) => s.loss));
    const x = (step: number): number => pad.left + (w * step) / total;
    const yLoss = (v: number): number => pad.top + hgt * (1 - v / maxLoss);
    const yAcc = (v: number): number => pad.top + hgt * (1 - v);
    ctx.fillStyle = '#2563eb';
    ctx.fillText(`loss ${maxLoss.toFixed(2)}`, 2, pad.top + 8);
    ctx.fillText('0', pad.left - 12, pad.top + hgt);
    ctx.fillStyle = '#16a34a';
    ctx.fillText('acc 100%', width - pad.right + 2, pad.top + 8);
    ctx.fillStyle = '#888';
    ctx.fillText(`step ${this.steps.at(-1)?.step ?? 0} / ${total}`, pad.left, height - 6);
    this.line(ctx, '#2563eb', this.steps.map((s) => [x(s.step), yLoss(s.loss)]));
    const acc = this.steps.filter((s) => s.validation).map((s) => [x(s.step), yAcc(s.validation!.accuracy)] as [number, number]);
    this.line(ctx, '#16a34a', acc);
    ctx.fillStyle = '#16a34a';
    for (const [px, py] of acc) ctx.fillRect(px - 2, py - 2, 4, 4);
  }

  private line(ctx: CanvasRenderingContext2D, color: string, points: [number, number][]): void {
    if (points.length === 0) return;
    ctx.strokeStyle = color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    points.forEach(([px, py], i) => (i === 0 ? ctx.moveTo(px, py) : ctx.lineTo(px, py)));
    ctx.stroke();
  }
}
