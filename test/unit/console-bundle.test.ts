import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONSOLE_BUILD_OPTIONS, CONSOLE_SOURCE_DIR } from '../../scripts/build-cli.js';

describe('the console bundle (npm run build:cli)', () => {
  it('is self-contained for the browser: the views load first, the charts with the first chart, and the page names only its own files', async () => {
    const { metafile, outputFiles } = await build({ ...CONSOLE_BUILD_OPTIONS, write: false, metafile: true, sourcemap: false, logLevel: 'silent' });
    const outputs = Object.entries(metafile.outputs);
    // Everything is bundled: no import of a package or a URL is left for the browser to fetch.
    expect(outputs.flatMap(([, output]) => output.imports.filter((i) => i.external).map((i) => i.path))).toEqual([]);
    const [mainPath, main] = outputs.find(([path]) => path.endsWith('/main.js'))!;
    const chartChunk = outputs.find(([, output]) => Object.keys(output.inputs).some((input) => input.includes('node_modules/vega-lite/')))!;
    expect(chartChunk[0]).not.toBe(mainPath);
    expect(main.imports.find((i) => i.path === chartChunk[0])?.kind).toBe('dynamic-import');
    expect(main.bytes).toBeLessThan(150_000);
    expect(Object.keys(main.inputs).some((input) => input.includes('node_modules/preact/'))).toBe(true);
    expect(outputFiles.some((file) => file.path.endsWith('/style.css'))).toBe(true);

    const page = readFileSync(join(CONSOLE_SOURCE_DIR, 'index.html'), 'utf8');
    expect([...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])).toEqual(['/style.css', '/main.js']);
    expect(page).toContain('content="__MLOPS_SESSION__"');
    expect(page).not.toMatch(/<script>|\son\w+=/);
  });
});
