import { vitkitVitestConfig } from '@vitkit/vitest-config';

export default vitkitVitestConfig({ test: { testTimeout: 600_000, hookTimeout: 600_000 } });
