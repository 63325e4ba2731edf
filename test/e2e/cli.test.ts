import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PlatformClient } from '../../lib/client/platform-client.js';
import { creditSpec, goodCsv, mlops, mlopsWith, platformClient, trainingExecutions, uniqueName } from './fixtures.js';


describe('the mlops CLI against the deployed local stack', () => {
  let platform: PlatformClient;
  const folder = mkdtempSync(join(tmpdir(), 'mlops-cli-'));
  const datasetName = uniqueName('cli-applications');
  const model = uniqueName('cli-credit');

  beforeAll(async () => {
    platform = platformClient();
    writeFileSync(join(folder, 'data.csv'), goodCsv());
    writeFileSync(join(folder, 'spec.json'), JSON.stringify(creditSpec(model, datasetName)));
  });

  it('registers the same bytes once, creates a model, and trains it with --wait', async () => {
    const first = await mlops('dataset', 'register', join(folder, 'data.csv'), '--name', datasetName);
    const again = await mlops('dataset', 'register', join(folder, 'data.csv'), '--name', datasetName);
    expect(first).toMatchObject({ code: 0, json: { created: true, dataset: { name: datasetName, rowCount: 800 } } });
    expect(again).toMatchObject({ code: 0, json: { created: false } });
    expect((again.json.dataset as { version: string }).version).toBe((first.json.dataset as { version: string }).version);

    expect(await mlops('models', 'create', '--spec', join(folder, 'spec.json'))).toMatchObject({ code: 0, json: { model, created: true, spec: { name: model } } });

    const trained = await mlops('train', model, '--dataset', datasetName, '--wait');
    expect(trained.code).toBe(0);
    expect(trained.json).toMatchObject({ status: 'SUCCEEDED', run: { model, status: 'SUCCEEDED', modelVersion: 1 } });
    const runId = (trained.json.run as { runId: string }).runId;
    expect(await mlops('runs', 'show', runId)).toMatchObject({ code: 0, json: { runId, gatePassed: true } });

    const predicted = await mlops('predict', model, '--input', JSON.stringify({ inputs: { age: 50, income: 90000, debt_ratio: 0.1, credit_lines: 5, late_payments: 0 } }));
    expect(predicted).toMatchObject({ code: 0, json: { status: 200, body: { model, version: 1 } } });
  });

  it('finds the API through MLOPS_API_URL and MLOPS_SERVING_URL, without reading any stack', async () => {
    // --env dev: the emulator has no Mlops-dev stack, so a stack lookup would fail with STACK_NOT_FOUND.
    const configured = { ...process.env, MLOPS_API_URL: platform.endpoints.managementUrl, MLOPS_SERVING_URL: platform.endpoints.servingUrl };
    const listed = await mlopsWith(configured, '--env', 'dev', 'models', 'list');
    expect(listed.code).toBe(0);
    expect(listed.json.models).toContainEqual(expect.objectContaining({ name: model, latestVersion: 1 }));
    const predicted = await mlopsWith(configured, '--env', 'dev', 'predict', model, '--input', JSON.stringify({ inputs: { age: 50, income: 90000, debt_ratio: 0.1, credit_lines: 5, late_payments: 0 } }));
    expect(predicted).toMatchObject({ code: 0, json: { status: 200, body: { model, version: 1 } } });

    const { MLOPS_API_URL: _url, ...withoutUrl } = configured;
    expect(await mlopsWith({ ...withoutUrl, MLOPS_CONFIG: join(folder, 'none.json') }, '--env', 'dev', 'models', 'list')).toMatchObject({ code: 1, json: { error: { code: 'INVALID_CONFIG' } } });
    expect(await mlopsWith(withoutUrl, '--env', 'dev', 'models', 'list')).toMatchObject({ code: 1, json: { error: { code: 'STACK_NOT_FOUND' } } });
  });

  it('refuses to start a run for a model or dataset that does not exist, starting no execution', async () => {
    const executions = () => trainingExecutions();
    const before = await executions();

    const noModel = await mlops('train', 'no-such-model', '--dataset', datasetName);
    const noDataset = await mlops('train', model, '--dataset', 'no-such-dataset');
    const badRef = await mlops('train', model, '--dataset', `${datasetName}@v2`);

    expect(noModel).toMatchObject({ code: 1, json: { error: { code: 'NOT_FOUND', message: expect.stringMatching(/no-such-model/) } } });
    expect(noDataset).toMatchObject({ code: 1, json: { error: { code: 'NOT_FOUND', message: expect.stringMatching(/no-such-dataset/) } } });
    expect(badRef).toMatchObject({ code: 1, json: { error: { code: 'INVALID_INPUT', field: 'dataset.version' } } });
    expect(await executions()).toBe(before);
  });

  it('reports a rejected prediction request with its status and exit code 1', async () => {
    const rejected = await mlops('predict', model, '--input', JSON.stringify({ inputs: { age: 'forty' } }));
    expect(rejected.code).toBe(1);
    expect(rejected.json).toMatchObject({ status: 400, body: { error: { code: 'INVALID_REQUEST' } } });
  });

  it('registers with a declared schema and a target, lists, shows and validates datasets, with --json contracts', async () => {
    const name = uniqueName('cli-declared');
    writeFileSync(
      join(folder, 'schema.yaml'),
      [
        'target: defaulted',
        'allowExtraColumns: true',
        'columns:',
        '  - { name: age, type: numeric, nullable: false, min: 18, max: 100 }',
        '  - { name: defaulted, type: string, categories: ["0", "1"] }',
      ].join('\n'),
    );

    const registered = await mlops('dataset', 'register', join(folder, 'data.csv'), '--name', name, '--schema', join(folder, 'schema.yaml'), '--target', 'defaulted');

    expect(registered).toMatchObject({ code: 0, json: { created: true, dataset: { name, format: 'csv', rowCount: 800, schema: { source: 'declared', target: 'defaulted' } } } });
    const version = (registered.json.dataset as { version: string }).version;
    const columns = (registered.json.dataset as { schema: { columns: { name: string; type: string }[] } }).schema.columns;
    expect(columns.find((c) => c.name === 'defaulted')).toMatchObject({ type: 'string', categories: ['0', '1'] });
    expect(columns.find((c) => c.name === 'income')).toMatchObject({ type: 'numeric' });

    const listed = await mlops('dataset', 'list');
    expect((listed.json.datasets as { name: string; versionCount: number }[]).find((d) => d.name === name)).toMatchObject({ versionCount: 1, latestVersion: version });
    expect(await mlops('dataset', 'list', name)).toMatchObject({ code: 0, json: { name, versions: [{ version }] } });
    const shown = await mlops('dataset', 'show', `${name}@${version}`, '--profile');
    expect(shown).toMatchObject({ code: 0, json: { dataset: { version }, profile: { rows: 800, target: { column: 'defaulted', kind: 'classes' } } } });

    // The data validation gate on its own: passes for the model it fits, fails (exit 1) for one whose columns it lacks.
    const validated = await mlops('dataset', 'validate', name, '--model', model);
    expect(validated).toMatchObject({ code: 0, json: { passed: true, dataset: { name, version }, reportUri: expect.stringMatching(/^s3:\/\//) } });
    const other = uniqueName('cli-other');
    writeFileSync(join(folder, 'other.json'), JSON.stringify({ ...creditSpec(other, name), features: [{ name: 'tenure_months', type: 'numeric' }] }));
    expect((await mlops('models', 'create', '--spec', join(folder, 'other.json'))).code).toBe(0);
    const failed = await mlops('dataset', 'validate', name, '--model', other);
    expect(failed).toMatchObject({ code: 1, json: { passed: false, summary: expect.stringMatching(/required_columns \(missing column: tenure_months\)/) } });
    expect((await platform.getDatasetVersion(name, version)).quarantined).toBe(false);
  });

  it('answers bad dataset input with a coded error and exit code 1, registering nothing', async () => {
    const name = uniqueName('cli-bad');
    writeFileSync(join(folder, 'broken-schema.yaml'), 'columns: [ { name: age, type: numeric\n');
    writeFileSync(join(folder, 'wrong-schema.yaml'), 'columns:\n  - { name: age, type: integer }\n');
    writeFileSync(join(folder, 'ragged.csv'), 'a,b\n1,2\n3\n');
    writeFileSync(join(folder, 'notes.txt'), 'a,b\n1,2\n');

    const unparsable = await mlops('dataset', 'register', join(folder, 'data.csv'), '--name', name, '--schema', join(folder, 'broken-schema.yaml'));
    const invalid = await mlops('dataset', 'register', join(folder, 'data.csv'), '--name', name, '--schema', join(folder, 'wrong-schema.yaml'));
    const ragged = await mlops('dataset', 'register', join(folder, 'ragged.csv'), '--name', name);
    const unknownFormat = await mlops('dataset', 'register', join(folder, 'notes.txt'), '--name', name);
    const missingVersion = await mlops('dataset', 'show', `${name}@${'0'.repeat(64)}`);

    expect(unparsable).toMatchObject({ code: 1, json: { error: { code: 'INVALID_INPUT', field: 'schema', message: expect.stringMatching(/broken-schema\.yaml does not parse/) } } });
    expect(invalid).toMatchObject({ code: 1, json: { error: { code: 'INVALID_INPUT', message: expect.stringMatching(/columns\.0\.type/) } } });
    expect(ragged).toMatchObject({ code: 1, json: { error: { code: 'DATA_VALIDATION_FAILED', message: 'line 3 has 1 fields, the header has 2' } } });
    expect(unknownFormat).toMatchObject({ code: 1, json: { error: { code: 'INVALID_INPUT', field: 'format' } } });
    expect(missingVersion).toMatchObject({ code: 1, json: { error: { code: 'NOT_FOUND' } } });
    expect((await mlops('dataset', 'list', name)).json).toEqual({ name, versions: [] });
  });
});
