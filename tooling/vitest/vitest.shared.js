// Shared vitest settings for every @vitkit package.
// Tests run against the TypeScript sources of sibling packages (the
// "@vitkit/source" export condition), so one package's tests need no build.
import { defineConfig } from 'vitest/config';

const conditions = ['@vitkit/source', 'module', 'node', 'import', 'default'];

export function vitkitVitestConfig(overrides = {}) {
  return defineConfig({
    resolve: { conditions },
    ssr: { resolve: { conditions, externalConditions: ['node'] } },
    ...overrides,
    test: {
      environment: 'node',
      include: ['test/**/*.test.ts'],
      // A limit catches a hang, not a slow machine: the wasm leak tests (1,000
      // predictions) passed in ~20 s alone but timed out at 60 s with two CI
      // runs side by side on 2 cores; 300 s allows a machine 3x slower than that.
      testTimeout: 300_000,
      hookTimeout: 300_000,
      // tfjs backends are global state: one file at a time per worker keeps
      // tensor-count assertions meaningful.
      pool: 'forks',
      ...(overrides.test ?? {}),
    },
  });
}

export default vitkitVitestConfig();
