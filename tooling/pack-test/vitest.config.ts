import { vitkitVitestConfig } from '@vitkit/vitest-config';

// One file at a time: each packs the packages and installs from npm, which 2 cores do better in turn.
export default vitkitVitestConfig({ test: { testTimeout: 600_000, hookTimeout: 600_000, fileParallelism: false } });
