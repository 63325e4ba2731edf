import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { CLI_BUILD_OPTIONS } from '../../scripts/build-cli.js';

/** The packages an output loads before its first line runs: its static imports, followed through the chunks. */
function staticPackages(metafile: Metafile, entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const walk = (output: string) => {
    if (seen.has(output)) return;
    seen.add(output);
    for (const imported of metafile.outputs[output]!.imports) {
      if (imported.kind !== 'import-statement') continue;
      if (imported.external) packages.add(imported.path);
      else walk(imported.path);
    }
  };
  walk(entry);
  return packages;
}

describe('the mlops bin as the package ships it', () => {
  it('starts with commander alone: --help loads no CDK, no AWS SDK, no zod; the rest comes with the command that needs it', async () => {
    const { metafile } = await build({ ...CLI_BUILD_OPTIONS, write: false, metafile: true, logLevel: 'silent' });
    const entry = Object.keys(metafile.outputs).find((path) => path.endsWith('/mlops.js'))!;
    const atStart = [...staticPackages(metafile, entry)].filter((name) => !name.startsWith('node:'));
    expect(atStart).toEqual(['commander']);

    // Everything the CLI may ever load: the API's client; never the CDK, the table, bucket and state
    // machine clients, or the readers of data and model files (the API reads those).
    const everything = new Set(Object.values(metafile.outputs).flatMap((output) => output.imports.filter((i) => i.external).map((i) => i.path)));
    const forbidden = /^(aws-cdk-lib|constructs|aws-cdk|@aws-sdk\/(client-dynamodb|lib-dynamodb|client-sfn|client-s3)|hyparquet|onnxruntime-node)(\/|$)/;
    expect([...everything].filter((name) => forbidden.test(name))).toEqual([]);
    expect(everything).toContain('@smithy/signature-v4');
  });
});
