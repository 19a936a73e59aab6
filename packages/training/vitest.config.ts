import { vitkitVitestConfig } from '@vitkit/vitest-config';

// Training runs in-process: the longest ("learns", 80 steps) took 47 s on a
// 2-core machine at load 10; the limits allow a machine three times slower
// under that load. A limit catches a hang, not a slow machine.
export default vitkitVitestConfig({ test: { testTimeout: 300_000, hookTimeout: 300_000 } });
