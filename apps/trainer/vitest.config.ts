import { vitkitVitestConfig } from '@vitkit/vitest-config';

// The tests spawn the CLI (a few training steps, an eval) and check what it
// prints and writes. The slowest (--ema: six child processes) took 40 s on a
// 2-core machine at load 10; the limits allow a machine three times slower
// under that load. A limit catches a hang, not a slow machine.
export default vitkitVitestConfig({ test: { testTimeout: 600_000, hookTimeout: 600_000 } });
