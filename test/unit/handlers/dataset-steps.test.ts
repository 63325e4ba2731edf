import './lambda-env.js';
import { describe, expect, it } from 'vitest';
import type { RegistrationJob } from '../../../lambdas/core/data/dataset-api.js';
import { DatasetProfileSchema } from '../../../lambdas/core/data/profile.js';
import { DataValidationError, InputValidationError } from '../../../lambdas/core/errors.js';
import { sha256Hex } from '../../../lambdas/core/sha256.js';
import { createHandler as registerDataset } from '../../../lambdas/register-dataset/handler.js';
import { createHandler as validateData } from '../../../lambdas/validate-data/handler.js';
import { MemoryObjects, MemoryRuns, MemoryTracking, registrationStores, runContext } from '../fakes.js';
import { mixedDataset, mixedSpec, rejectedWith } from '../helpers.js';

const spec = mixedSpec('binary_classification', 'logistic_regression', { dataset: 'loans', validation: { maxMissingRate: 0.2 } });
const table = mixedDataset('binary_classification', 120);
const csv = [table.header, ...table.rows].map((row) => row.join(',')).join('\n') + '\n';
const NOW = new Date('2024-03-01T12:00:00.000Z');

/** An upload waiting in the datasets bucket, and its registration job. */
function uploaded(objects: MemoryObjects, body: string, job: Partial<RegistrationJob> = {}): RegistrationJob {
  const sha256 = sha256Hex(new TextEncoder().encode(body));
  const uploadUri = objects.store(`s3://datasets/uploads/loans/${sha256}-0001`, body).uri;
  return { name: 'loans', uploadUri, sha256, bytes: body.length, format: 'csv', owner: 'arn:aws:iam::000000000000:user/alice', source: 'upload', ...job };
}

async function registered(objects = new MemoryObjects(), tracking = new MemoryTracking()) {
  const job = uploaded(objects, csv);
  const answer = await registerDataset(registrationStores(objects, tracking), { maxBytes: 1_000_000, clock: () => NOW })(job);
  return { job, answer, objects, tracking };
}

describe('the RegisterDataset handler', () => {
  it('stores the file under its content address with its profile, records the version and clears the upload', async () => {
    const { job, answer, objects, tracking } = await registered();
    expect(answer).toEqual({ status: 'REGISTERED', name: 'loans', version: job.sha256, created: true });
    const version = await tracking.getDatasetVersion('loans', job.sha256);
    expect(version).toMatchObject({ uri: `s3://datasets/datasets/loans/${job.sha256}.csv`, rowCount: 120, bytes: csv.length, arrivedAt: NOW.toISOString(), quarantinedFor: [] });
    expect(version.schema.columns.map((c) => c.name)).toEqual(table.header);
    expect(DatasetProfileSchema.safeParse(await objects.json(version.profileUri)).success).toBe(true);
    expect(await objects.size(job.uploadUri)).toBeUndefined();
  });

  it('answers the same bytes again with the existing version, writing nothing new', async () => {
    const { objects, tracking, job } = await registered();
    const again = uploaded(objects, csv);
    const answer = await registerDataset(registrationStores(objects, tracking), { maxBytes: 1_000_000 })(again);
    expect(answer).toEqual({ status: 'REGISTERED', name: 'loans', version: job.sha256, created: false });
    expect(tracking.datasets).toHaveLength(1);
    expect(await objects.size(again.uploadUri)).toBeUndefined();
  });

  it('rejects bytes that are not the announced sha256 with the code and field, records nothing and deletes the upload', async () => {
    const objects = new MemoryObjects();
    const tracking = new MemoryTracking();
    const job = { ...uploaded(objects, csv), sha256: 'f'.repeat(64) };
    const answer = await registerDataset(registrationStores(objects, tracking), { maxBytes: 1_000_000 })(job);
    expect(answer).toMatchObject({ status: 'REJECTED', error: { code: 'DATA_VALIDATION_FAILED', field: 'sha256' } });
    expect(tracking.datasets).toHaveLength(0);
    expect(await objects.size(job.uploadUri)).toBeUndefined();
  });

  it('rejects a file over the size limit, and refuses a job without its owner, naming the field', async () => {
    const objects = new MemoryObjects();
    const handler = registerDataset(registrationStores(objects, new MemoryTracking()), { maxBytes: 100 });
    expect(await handler(uploaded(objects, csv))).toMatchObject({ status: 'REJECTED', error: { code: 'DATA_VALIDATION_FAILED' } });
    const { owner: _owner, ...withoutOwner } = uploaded(objects, csv);
    expect((await rejectedWith(handler(withoutOwner), InputValidationError)).field).toBe('owner');
  });
});

describe('the ValidateData handler', () => {
  it('judges the registered version for the run\'s model, stores the report and records it on the run', async () => {
    const { job, objects, tracking } = await registered();
    const runs = new MemoryRuns();
    const run = runContext(spec, { dataset: { name: 'loans', version: job.sha256, uri: `s3://datasets/datasets/loans/${job.sha256}.csv` } });
    const handler = validateData({ objects, reports: objects.reports(), datasets: tracking, runs }, () => NOW);
    const answer = await handler({ run });
    expect(answer).toMatchObject({ passed: true, rowCount: 120, reportUri: `s3://reports/validation/${spec.name}/${run.runId}.json` });
    expect(await objects.json(answer.reportUri)).toMatchObject({ runId: run.runId, model: spec.name, passed: true, dataset: { name: 'loans', version: job.sha256 } });
    expect(runs.get(run.runId)).toEqual({ validationReportUri: answer.reportUri, validationSummary: answer.summary });
  });

  it('quarantines the version for this model only when the data object changed, and fails the step', async () => {
    const { job, objects, tracking } = await registered();
    const runs = new MemoryRuns();
    const version = await tracking.getDatasetVersion('loans', job.sha256);
    objects.objects.set(version.uri, new TextEncoder().encode('age\n1\n'));
    const run = runContext(spec, { dataset: { name: 'loans', version: job.sha256, uri: version.uri } });
    const error = await rejectedWith(validateData({ objects, reports: objects.reports(), datasets: tracking, runs }, () => NOW)({ run }), DataValidationError);
    expect(error.message).toContain('dataset_readable');
    const quarantined = await tracking.getDatasetVersion('loans', job.sha256);
    expect(quarantined.quarantinedFor).toEqual([
      { model: spec.name, gate: 'data-validation', reason: runs.get(run.runId).validationSummary, reportUri: runs.get(run.runId).validationReportUri, runId: run.runId, at: NOW.toISOString() },
    ]);
  });

  it('refuses a state without the run, naming the field', async () => {
    const objects = new MemoryObjects();
    const handler = validateData({ objects, reports: objects.reports(), datasets: new MemoryTracking(), runs: new MemoryRuns() });
    expect((await rejectedWith(handler({ spec }), InputValidationError)).field).toBe('run');
  });
});
