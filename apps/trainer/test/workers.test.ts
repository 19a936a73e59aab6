import { describe, expect, it } from 'vitest';
import { AUTO_WORKERS_MAX, autoWorkerCount, planWorkers } from '../src/train/workers.js';
import { readTrainOptions } from '../src/train/options.js';

const whole = { freeze: 'none' as const, headWarmup: 0, batchSize: 128 };

describe('--workers auto', () => {
  it('is the default, and takes auto or a thread count', () => {
    expect(readTrainOptions({}).values.workers).toBe('auto');
    expect(readTrainOptions({ workers: 'auto' }).values.workers).toBe('auto');
    expect(readTrainOptions({ workers: '3' }).values.workers).toBe(3);
    expect(() => readTrainOptions({ workers: 'many' })).toThrow(/--workers must be an integer/);
  });

  it('asks for one thread per core, up to 4 and the batch size, when the whole model trains', () => {
    expect(autoWorkerCount(whole, 2)).toBe(2);
    expect(autoWorkerCount(whole, 1)).toBe(1);
    expect(autoWorkerCount(whole, 64)).toBe(AUTO_WORKERS_MAX);
    expect(autoWorkerCount({ ...whole, batchSize: 3 }, 8)).toBe(3);
    expect(autoWorkerCount({ ...whole, freeze: 'backbone' }, 8)).toBe(1);
    expect(autoWorkerCount({ ...whole, freeze: { blocks: 1 } }, 8)).toBe(1);
    expect(autoWorkerCount({ ...whole, headWarmup: 10 }, 8)).toBe(1);
  });

  it('falls back to one thread on other backends than wasm; an explicit count stays', () => {
    const auto = planWorkers('auto', whole);
    expect(auto.forBackend('wasm')).toBe(auto.planned);
    expect(auto.forBackend('tensorflow')).toBe(1);
    expect(auto.forBackend('cpu')).toBe(1);
    const three = planWorkers(3, whole);
    expect([three.planned, three.forBackend('cpu')]).toEqual([3, 3]);
  });
});
