#!/usr/bin/env node
// `pnpm publish -r --dry-run` for every public package, as `changeset publish`
// would publish them, failing on any warning (a missing file, a bad field, a
// workspace: range left in). Needs built packages (`pnpm -r build`) and no
// login: npm's "you must be logged in" notice is answered with a placeholder
// token in a throwaway npmrc (a dry run never sends it anywhere).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const problems = [];
for (const dir of readdirSync(join(root, 'packages'))) {
  const pkgDir = join(root, 'packages', dir);
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  if (pkg.private) continue;
  if (!existsSync(join(pkgDir, 'dist', 'index.js'))) problems.push(`${pkg.name}: not built (no dist/index.js)`);
  for (const field of ['license', 'repository', 'engines', 'keywords', 'publishConfig']) {
    if (pkg[field] === undefined) problems.push(`${pkg.name}: no "${field}" in package.json`);
  }
  if (!existsSync(join(pkgDir, 'LICENSE'))) problems.push(`${pkg.name}: no LICENSE file`);
  // publishConfig.exports replaces exports when packing: it must be exports without the workspace-only source condition.
  const withoutSource = (e) =>
    typeof e === 'string' ? e : Object.fromEntries(Object.entries(e).filter(([k]) => k !== '@vitkit/source').map(([k, v]) => [k, withoutSource(v)]));
  if (JSON.stringify(pkg.publishConfig?.exports) !== JSON.stringify(withoutSource(pkg.exports))) {
    problems.push(`${pkg.name}: publishConfig.exports must equal exports without the @vitkit/source condition`);
  }
}

/**
 * The environment without the npm_config_* variables that `npm test` / pnpm
 * export to their scripts: npm, run by pnpm publish, warns about each of them
 * ("Unknown env config"), which is not a problem of the packages.
 */
function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_/i.test(k)));
}

const home = mkdtempSync(join(tmpdir(), 'vitkit-publish-'));
const npmrc = join(home, '.npmrc');
writeFileSync(npmrc, '//registry.npmjs.org/:_authToken=dry-run-placeholder\n');
const r = spawnSync('npx', ['-y', 'pnpm@10', 'publish', '-r', '--dry-run', '--no-git-checks', '--filter', './packages/*'], {
  cwd: root,
  encoding: 'utf8',
  env: { ...cleanEnv(), npm_config_userconfig: npmrc },
});
rmSync(home, { recursive: true, force: true });
const output = `${r.stdout}\n${r.stderr}`;
const published = [...output.matchAll(/^\+ (@vitkit\/\S+)$/gm)].map((m) => m[1]);
for (const line of output.split('\n')) if (/\bwarn(ing)?\b/i.test(line) || /\bERR/.test(line)) problems.push(line.trim());
if (r.status !== 0) problems.push(`pnpm publish --dry-run exited ${r.status ?? r.signal}`);
if (published.length === 0) problems.push('nothing would be published');
if (problems.length) {
  console.error(output);
  console.error(`publish dry run: ${problems.length} problem(s)\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`publish dry run: ${published.length} packages would publish without warnings: ${published.join(', ')}`);
