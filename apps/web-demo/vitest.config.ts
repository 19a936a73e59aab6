import { vitkitVitestConfig } from '@vitkit/vitest-config';

// The browser tests build the app and drive Chromium, so they get long
// timeouts; they share one browser, so files run one after another.
export default vitkitVitestConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 240_000,
    fileParallelism: false,
  },
});
