import './lambda-env.js';
import { describe, expect, it } from 'vitest';
import type { RegistrationJob } from '../../../lambdas/core/data/dataset-api.js';
import { DatasetProfileSchema } from '../../../lambdas/core/data/profile.js';
import { DataValidationError, InputValidationError } from '../../../lambdas/core/errors.js';
import { sha256Hex } from '../../../lambdas/core/sha256.js';
import { createHandler as registerDataset } from '../../../lambdas/register-dataset/handler.js';
import { createHandler as validateData } from '../../../lambdas/validate-data/handler.js';
import { MemoryObjects, MemoryRegistry, MemoryRuns, MemoryTracking, modelVersion, registrationStores, runContext } from '../fakes.js';
import { mixedDataset, mixedSpec, rejectedWith } from '../helpers.js';
import type { ValidationReport } from '../../../lambdas/core/data/validation.js';

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
    const handler = validateData({ objects, reports: objects.reports(), registry: new MemoryRegistry(), datasets: tracking, runs }, () => NOW);
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
    const error = await rejectedWith(validateData({ objects, reports: objects.reports(), registry: new MemoryRegistry(), datasets: tracking, runs }, () => NOW)({ run }), DataValidationError);
    expect(error.message).toContain('dataset_readable');
    const quarantined = await tracking.getDatasetVersion('loans', job.sha256);
    expect(quarantined.quarantinedFor).toEqual([
      { model: spec.name, gate: 'data-validation', reason: runs.get(run.runId).validationSummary, reportUri: runs.get(run.runId).validationReportUri, runId: run.runId, at: NOW.toISOString() },
    ]);
  });

  describe('missing values against the reference', () => {
    // The spec sets no missing-value limit: imputed features only warn on the absolute rule.
    const lenient = mixedSpec('binary_classification', 'logistic_regression', { dataset: 'loans' });
    /** The same table with income missing in 30% of rows (10% before). */
    const worse = [table.header, ...table.rows.map((row, i) => (i % 10 < 3 ? [row[0]!, '', ...row.slice(2)] : row))].map((row) => row.join(',')).join('\n') + '\n';
    const artifact = { uri: 's3://models/a.json', sha256: 'a'.repeat(64), bytes: 1 };

    async function twoVersions() {
      const { job, objects, tracking } = await registered();
      const handler = registerDataset(registrationStores(objects, tracking), { maxBytes: 1_000_000, clock: () => NOW });
      const second = uploaded(objects, worse);
      await handler(second);
      return { objects, tracking, before: job.sha256, after: second.sha256 };
    }
    const ref = (version: string) => ({ name: 'loans', version, uri: `s3://datasets/datasets/loans/${version}.csv` });
    const validate = async (objects: MemoryObjects, tracking: MemoryTracking, registry: MemoryRegistry, dataset: string) => {
      const runs = new MemoryRuns();
      const run = runContext(lenient, { dataset: ref(dataset) });
      const handler = validateData({ objects, reports: objects.reports(), registry, datasets: tracking, runs }, () => NOW);
      const outcome = await handler({ run }).then(
        (answer) => ({ passed: true as const, reportUri: answer.reportUri }),
        (error: unknown) => ({ passed: false as const, error, reportUri: runs.get(run.runId).validationReportUri! }),
      );
      return { ...outcome, report: (await objects.json(outcome.reportUri)) as ValidationReport };
    };

    it('blocks a rise against the dataset the production version was trained on, over the newest version, and quarantines', async () => {
      const { objects, tracking, before, after } = await twoVersions();
      const registry = new MemoryRegistry()
        .addVersion(modelVersion(lenient, 2, artifact, { dataset: ref(before) }))
        .addVersion(modelVersion(lenient, 3, artifact, { dataset: ref(after) }))
        .pointAlias(lenient.name, 'production', 2);
      const outcome = await validate(objects, tracking, registry, after);
      expect(outcome.passed).toBe(false);
      expect((outcome as { error: Error }).error).toBeInstanceOf(DataValidationError);
      expect(outcome.report.reference).toEqual({ alias: 'production', version: 2, dataset: { name: 'loans', version: before } });
      const rise = outcome.report.checks.find((c) => c.name === 'missing_rate_increase' && c.column === 'income')!;
      expect(rise).toMatchObject({ passed: false, severity: 'block', rule: 'validation.maxMissingRateIncrease' });
      expect(rise.rates!.change!).toBeGreaterThan(0.2);
      expect(rise.rates!.lowerBound!).toBeGreaterThan(0.05);
      expect(outcome.report.checks.find((c) => c.name === 'missing_values' && c.column === 'income')).toMatchObject({ passed: false, severity: 'warn' });
      expect((await tracking.getDatasetVersion('loans', after)).quarantinedFor.map((q) => q.model)).toEqual([lenient.name]);
    });

    it('without a production version takes the newest version\'s dataset; the same dataset passes', async () => {
      const { objects, tracking, before, after } = await twoVersions();
      const registry = new MemoryRegistry().addVersion(modelVersion(lenient, 1, artifact, { dataset: ref(after) })).addVersion(modelVersion(lenient, 4, artifact, { dataset: ref(before) }));
      expect((await validate(objects, tracking, registry, after)).report).toMatchObject({ passed: false, reference: { alias: 'latest', version: 4 } });
      const same = await validate(objects, tracking, registry, before);
      expect(same.passed).toBe(true);
      expect(same.report.checks.filter((c) => c.name === 'missing_rate_increase').every((c) => c.passed)).toBe(true);
    });

    it('a model never trained has no reference: 30% missing income trains, with a warning', async () => {
      const { objects, tracking, after } = await twoVersions();
      const outcome = await validate(objects, tracking, new MemoryRegistry(), after);
      expect(outcome.passed).toBe(true);
      expect(outcome.report.reference).toBeUndefined();
      expect(outcome.report.checks.some((c) => c.name === 'missing_rate_increase')).toBe(false);
      expect(outcome.report.summary).toMatch(/^all \d+ blocking checks passed; warnings: .*missing_values\[income\] \(45 of 120 missing \(37\.50%\); at most 5\.00% allowed by default/);
    });

    it('reports a reference whose dataset is not registered, and judges by the absolute rule', async () => {
      const { objects, tracking, after } = await twoVersions();
      const registry = new MemoryRegistry().addVersion(modelVersion(lenient, 1, artifact, { dataset: ref('e'.repeat(64)) }));
      const outcome = await validate(objects, tracking, registry, after);
      expect(outcome.passed).toBe(true);
      expect(outcome.report.referenceProblem).toMatch(/^the reference dataset loans@e{64} \(version 1 of mixed-model\) is not registered/);
    });
  });

  it('refuses a state without the run, naming the field', async () => {
    const objects = new MemoryObjects();
    const handler = validateData({ objects, reports: objects.reports(), registry: new MemoryRegistry(), datasets: new MemoryTracking(), runs: new MemoryRuns() });
    expect((await rejectedWith(handler({ spec }), InputValidationError)).field).toBe('run');
  });
});
