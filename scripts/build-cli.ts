// `npm run build:cli` (and `prepare`): compiles the mlops CLI to plain ES modules in dist/cli/, the
// package's `mlops` bin, so it runs with Node alone: no tsx, no devDependencies. Dependencies stay
// imports of the installed packages. Each command's code is its own chunk, loaded when the command
// runs, so `mlops --help` loads commander and the command list only (test/unit/cli-start-up.test.ts).
import { build, type BuildOptions } from 'esbuild';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI_OUT_DIR = join(ROOT, 'dist', 'cli');

export const CLI_BUILD_OPTIONS = {
  entryPoints: [join(ROOT, 'bin', 'mlops.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  // The oldest Node the package supports (package.json engines).
  target: 'node20',
  packages: 'external',
  splitting: true,
  outdir: CLI_OUT_DIR,
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
} satisfies BuildOptions;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  rmSync(CLI_OUT_DIR, { recursive: true, force: true });
  await build(CLI_BUILD_OPTIONS);
}
