#!/usr/bin/env node
// Runs turbo with only absolute PATH entries. turbo resolves the package
// manager through PATH and spawns it from each package's directory, so a
// relative entry such as ./node_modules/.bin (common in shell profiles)
// makes every task fail with "unable to spawn child process".
import { spawnSync } from 'node:child_process';
import { delimiter, isAbsolute } from 'node:path';

const PATH = (process.env.PATH ?? '').split(delimiter).filter((p) => p && isAbsolute(p)).join(delimiter);
const r = spawnSync('turbo', process.argv.slice(2), { stdio: 'inherit', env: { ...process.env, PATH } });
if (r.error) {
  console.error(`cannot run turbo: ${r.error.message} — run \`npx -y pnpm@10 install\` first`);
  process.exit(1);
}
process.exit(r.status ?? 1);
