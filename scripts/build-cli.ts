// `npm run build:cli` (and `prepare`): compiles the mlops CLI to plain ES modules in dist/cli/, the
// package's `mlops` bin, so it runs with Node alone: no tsx, no devDependencies. Dependencies stay
// imports of the installed packages. Each command's code is its own chunk, loaded when the command
// runs, so `mlops --help` loads commander and the command list only (test/unit/cli-start-up.test.ts).
import { build, type BuildOptions } from 'esbuild';
import { copyFileSync, rmSync } from 'node:fs';
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

/** The web console (`mlops ui`): one browser bundle with its UI layer and charts, served offline by the CLI. */
export const CONSOLE_SOURCE_DIR = join(ROOT, 'lib', 'client', 'console');
export const CONSOLE_OUT_DIR = join(CLI_OUT_DIR, 'console');

export const CONSOLE_BUILD_OPTIONS = {
  entryPoints: [join(CONSOLE_SOURCE_DIR, 'main.ts'), join(CONSOLE_SOURCE_DIR, 'style.css')],
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  // The charts (Vega, about 1 MB) are their own chunk, loaded with the first chart.
  splitting: true,
  minify: true,
  sourcemap: true,
  outdir: CONSOLE_OUT_DIR,
  entryNames: '[name]',
  chunkNames: 'chunks/[name]-[hash]',
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'linked',
  logLevel: 'warning',
} satisfies BuildOptions;

/** The console's bundle and its page (the server fills in the session token). */
export async function buildConsole(): Promise<void> {
  rmSync(CONSOLE_OUT_DIR, { recursive: true, force: true });
  await build(CONSOLE_BUILD_OPTIONS);
  copyFileSync(join(CONSOLE_SOURCE_DIR, 'index.html'), join(CONSOLE_OUT_DIR, 'index.html'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  rmSync(CLI_OUT_DIR, { recursive: true, force: true });
  await Promise.all([build(CLI_BUILD_OPTIONS), buildConsole()]);
}
