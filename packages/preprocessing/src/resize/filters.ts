/**
 * Resampling filters with Pillow's definitions (libImaging/Resample.c):
 * `support` is the half-width of the kernel at scale 1, and it widens by the
 * downscaling factor (antialiasing). Note Pillow's bicubic uses a = -0.5,
 * not the a = -0.75 of OpenCV and PyTorch's non-antialiased bicubic.
 */
export type Interpolation = 'nearest' | 'box' | 'bilinear' | 'hamming' | 'bicubic' | 'lanczos';

export const INTERPOLATIONS: readonly Interpolation[] = ['nearest', 'box', 'bilinear', 'hamming', 'bicubic', 'lanczos'];

export interface Filter {
  support: number;
  weight(x: number): number;
}

const BICUBIC_A = -0.5;

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

export const FILTERS: Record<Exclude<Interpolation, 'nearest'>, Filter> = {
  box: { support: 0.5, weight: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0) },
  bilinear: {
    support: 1,
    weight: (x) => {
      const ax = Math.abs(x);
      return ax < 1 ? 1 - ax : 0;
    },
  },
  hamming: {
    support: 1,
    weight: (x) => {
      const ax = Math.abs(x);
      if (ax === 0) return 1;
      if (ax >= 1) return 0;
      const px = ax * Math.PI;
      return (Math.sin(px) / px) * (0.54 + 0.46 * Math.cos(px));
    },
  },
  bicubic: {
    support: 2,
    weight: (x) => {
      const a = BICUBIC_A;
      const ax = Math.abs(x);
      if (ax < 1) return ((a + 2) * ax - (a + 3)) * ax * ax + 1;
      if (ax < 2) return (((ax - 5) * ax + 8) * ax - 4) * a;
      return 0;
    },
  },
  lanczos: { support: 3, weight: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

/** PIL's resample enum (Image.Resampling) as stored in HF preprocessor configs. */
export const PIL_RESAMPLE: Readonly<Record<number, Interpolation>> = {
  0: 'nearest',
  1: 'lanczos',
  2: 'bilinear',
  3: 'bicubic',
  4: 'box',
  5: 'hamming',
};

export function isInterpolation(v: unknown): v is Interpolation {
  return typeof v === 'string' && (INTERPOLATIONS as readonly string[]).includes(v);
}
