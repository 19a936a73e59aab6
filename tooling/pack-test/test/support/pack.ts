// Packs the library packages as npm would publish them and lays out scratch
// projects that install them from those tarballs (never the registry).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(fileURLToPath(new URL('../../../..', import.meta.url)));
const packagesDir = join(root, 'packages');

/** The @vitkit packages `name` needs at run time, itself included. */
export function closure(name: string): string[] {
  const seen = new Set<string>();
  const visit = (n: string) => {
    if (seen.has(n)) return;
    seen.add(n);
    const pkg = JSON.parse(readFileSync(join(packagesDir, n.replace('@vitkit/', ''), 'package.json'), 'utf8'));
    for (const dep of Object.keys(pkg.dependencies ?? {})) if (dep.startsWith('@vitkit/')) visit(dep);
  };
  visit(name);
  return [...seen];
}

/** Packs `names` (default: every library package) into a fresh folder; returns that folder and name -> tarball. */
export function packAll(names?: string[]): { work: string; tarballs: Map<string, string> } {
  const work = mkdtempSync(join(tmpdir(), 'vitkit-pack-'));
  const tarballs = new Map<string, string>();
  for (const dir of readdirSync(packagesDir)) {
    const pkg = JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8'));
    if (names && !names.includes(pkg.name)) continue;
    if (!existsSync(join(packagesDir, dir, 'dist', 'index.js'))) {
      throw new Error(`${pkg.name} is not built: run \`npx -y pnpm@10 -r build\` (turbo builds it before this test)`);
    }
    const out = execFileSync('npx', ['-y', 'pnpm@10', 'pack', '--pack-destination', work], {
      cwd: join(packagesDir, dir),
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    })
      .trim()
      .split('\n');
    tarballs.set(pkg.name, resolve(work, out[out.length - 1]!.trim()));
  }
  return { work, tarballs };
}

/**
 * A scratch project in `work` that installs `pkg` (and the @vitkit packages
 * it needs) from tarballs, with `dependencies` (the @vitkit ones as `file:`
 * tarballs, with the packages they need) and `devDependencies` from npm.
 */
export function scratchProject(
  work: string,
  tarballs: Map<string, string>,
  pkg: string,
  files: Record<string, string>,
  extra: { dependencies?: Record<string, string>; devDependencies?: Record<string, string> } = {},
): string {
  const dir = mkdtempSync(join(work, 'app-'));
  const deps: Record<string, string> = {
    '@tensorflow/tfjs-core': '4.22.0',
    '@tensorflow/tfjs-backend-wasm': '4.22.0',
    ...extra.dependencies,
    [pkg]: `file:${tarballs.get(pkg)}`,
  };
  // Every transitive @vitkit dependency comes from its tarball, never the registry.
  const vitkit = [pkg, ...Object.keys(extra.dependencies ?? {}).filter((n) => n.startsWith('@vitkit/'))];
  const overrides = Object.fromEntries(vitkit.flatMap(closure).map((n) => [n, `file:${tarballs.get(n)}`]));
  const manifest = { name: 'scratch', private: true, type: 'module', dependencies: deps, devDependencies: extra.devDependencies ?? {}, overrides };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, stdio: 'pipe' });
  return dir;
}

/** The code block that follows `<!-- pack-test: name -->` in the root README. */
export function readmeSnippet(name: string): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const m = new RegExp(`<!-- pack-test: ${name} -->\\s*\`\`\`\\w*\\n([\\s\\S]*?)\\n\`\`\``).exec(readme);
  if (!m) throw new Error(`README.md has no code block marked <!-- pack-test: ${name} -->`);
  return m[1]!;
}
