import { cropPlan, resizedSize, type CropPlan } from './geometry.js';
import type { Interpolation } from './resize/filters.js';
import type { PreprocessSpec } from './spec.js';
import { validateSpec } from './validate.js';

/**
 * The concrete steps a spec takes for one image size. Both the typed-array
 * and the tfjs pipeline execute the same plan, so they agree on geometry.
 */
export interface Plan {
  resize?: { width: number; height: number; interpolation: Interpolation };
  crop?: CropPlan & { fill: [number, number, number] };
  outWidth: number;
  outHeight: number;
}

export function planFor(spec: PreprocessSpec, width: number, height: number): Plan {
  validateSpec(spec);
  let w = width;
  let h = height;
  const plan: Plan = { outWidth: w, outHeight: h };
  if (spec.resize) {
    [w, h] = resizedSize(spec.resize, w, h);
    if (w !== width || h !== height) plan.resize = { width: w, height: h, interpolation: spec.resize.interpolation };
  }
  if (spec.crop) {
    const c = cropPlan(spec.crop, w, h);
    const identity = c.left === 0 && c.top === 0 && c.width === w && c.height === h && c.pad.every((p) => p === 0);
    if (!identity) plan.crop = { ...c, fill: spec.crop.fill ?? [0, 0, 0] };
    [w, h] = [c.width, c.height];
  }
  plan.outWidth = w;
  plan.outHeight = h;
  return plan;
}
