import './lambda-env.js';
import { describe, expect, it } from 'vitest';
import { evaluateRun } from '../../../lambdas/core/evaluation/evaluate.js';
import { InputValidationError } from '../../../lambdas/core/errors.js';
import type { Alias, ModelVersion } from '../../../lambdas/core/registry/records.js';
import { loadModelFile } from '../../../lambdas/core/serving/model-file.js';
import type { TrainStores } from '../../../lambdas/core/training/train-run.js';
import { createHandler as expireApproval } from '../../../lambdas/expire-approval/handler.js';
import { createHandler as gate } from '../../../lambdas/gate/handler.js';
import { createHandler as promote } from '../../../lambdas/promote/handler.js';
import { createHandler as recordFailure } from '../../../lambdas/record-failure/handler.js';
import { createHandler as register } from '../../../lambdas/register/handler.js';
import { createHandler as train } from '../../../lambdas/train/handler.js';
import { evaluateStores, MemoryAlerts, MemoryObjects, MemoryRuns, runContext } from '../fakes.js';
import { mixedDataset, mixedSpec, rejectedWith } from '../helpers.js';

const spec = mixedSpec('binary_classification', 'logistic_regression');
const table = mixedDataset('binary_classification');

function trainStores(objects = new MemoryObjects(), runs = new MemoryRuns()): TrainStores {
  return {
    datasets: { loadTable: async () => table },
    onnx: () => {
      throw new Error('no import here');
    },
    models: { put: (key, text) => objects.put('models', key, text) },
    runs,
  };
}

describe('the Train handler', () => {
  it('stores the artifact under the run and records a sha256 that the one verified loader accepts', async () => {
    const objects = new MemoryObjects();
    const runs = new MemoryRuns();
    const run = runContext(spec);
    const { artifact } = await train(trainStores(objects, runs))({ run });
    expect(artifact.uri).toBe(`s3://models/models/${spec.name}/runs/${run.runId}/model.json`);
    expect(runs.get(run.runId).artifact).toEqual(artifact);
    expect((await loadModelFile(objects, artifact)).kind).toBe('builtin');
  });

  it('refuses an event without a run, naming the field', async () => {
    expect((await rejectedWith(train(trainStores())({ spec }), InputValidationError)).field).toBe('run');
  });
});

describe('the Gate handler', () => {
  it('judges the evidence Evaluate wrote, stores the report and records the verdict on the run', async () => {
    const { stores, objects, runs } = evaluateStores(table);
    const run = runContext(spec);
    const { artifact } = await train(trainStores(objects))({ run });
    const evaluation = await evaluateRun(stores, { run, spec, artifact });
    const verdict = await gate({ reports: objects.reports(), runs })({ run, evaluation });
    expect(verdict.reportUri).toBe(`s3://reports/gates/${spec.name}/${run.runId}.json`);
    expect(await objects.json(verdict.reportUri)).toMatchObject({ runId: run.runId, heldOutUri: evaluation.heldOutUri, passed: verdict.passed, summary: verdict.summary });
    expect(runs.get(run.runId)).toMatchObject({ gateReportUri: verdict.reportUri, gatePassed: verdict.passed, gateSummary: verdict.summary });
    expect(verdict.champion).toBeNull();
  });

  it('refuses an evaluation without its evidence, naming the field', async () => {
    const objects = new MemoryObjects();
    const evaluation = { metrics: {}, latencyMsPerRow: 1, nonFinitePredictions: 0 };
    const error = await rejectedWith(gate({ reports: objects.reports(), runs: new MemoryRuns() })({ run: runContext(spec), evaluation }), InputValidationError);
    expect(error.field).toBe('evaluation.heldOutUri');
  });
});

/** The two registry calls of the release steps, over a map (the DynamoDB store makes each a conditional transaction). */
class ReleaseRegistryFake {
  readonly versions: ModelVersion[] = [];
  readonly aliases = new Map<string, Alias>();
  readonly decisions: unknown[] = [];

  async registerVersion(input: { version: Omit<ModelVersion, 'version' | 'createdAt' | 'status' | 'approval'> }) {
    const existing = this.versions.find((v) => v.runId === input.version.runId);
    if (existing) return { version: existing, created: false };
    const version = { ...input.version, version: this.versions.length + 1, status: 'REGISTERED', createdAt: '2024-01-02T00:00:00.000Z' } as ModelVersion;
    this.versions.push(version);
    return { version, created: true };
  }

  async findAlias(model: string, alias: string) {
    return this.aliases.get(`${model}/${alias}`);
  }

  async moveAlias(input: { model: string; alias: Alias['alias']; version: number; expectedVersion?: number | null; actor: string }) {
    const before = this.aliases.get(`${input.model}/${input.alias}`) ?? null;
    const alias: Alias = { model: input.model, alias: input.alias, version: input.version, weight: 1, updatedAt: '2024-01-02T00:00:00.000Z', updatedBy: input.actor };
    this.aliases.set(`${input.model}/${input.alias}`, alias);
    return { alias, before };
  }

  async recordDecision(input: unknown) {
    this.decisions.push(input);
    return true;
  }
}

const settings = { environment: 'local' as const, productionRequiresApproval: false, codeVersion: 'abc123' };
const gateState = { passed: true, reportUri: 's3://reports/gates/x.json', summary: 'all checks passed', champion: null };
const artifact = { uri: 's3://models/m.json', sha256: 'a'.repeat(64) };

describe('the Register and Promote handlers', () => {
  it('registers the version once per run, and Promote moves production with the run as actor', async () => {
    const registry = new ReleaseRegistryFake();
    const runs = new MemoryRuns();
    const run = runContext(spec);
    const state = { run, training: { artifact }, evaluation: { metrics: { accuracy: 0.9 } }, gate: gateState };
    const registration = await register({ registry, runs }, settings)(state);
    expect(registration).toEqual({ version: 1, created: true, needsApproval: false, judgedAgainst: null, release: true });
    expect(await register({ registry, runs }, settings)(state)).toMatchObject({ version: 1, created: false });
    expect(registry.versions[0]).toMatchObject({ runId: run.runId, artifact, codeVersion: 'abc123', createdBy: run.actor });
    expect(runs.get(run.runId).modelVersion).toBe(1);

    const moved = await promote({ registry, runs })({ run, registration });
    expect(moved).toMatchObject({ moved: true, production: { version: 1, updatedBy: run.actor }, before: null });
    expect(runs.get(run.runId).status).toBe('SUCCEEDED');
  });

  it('answers a promotion whose production moved meanwhile with the conflict, moving nothing', async () => {
    const registry = new ReleaseRegistryFake();
    const run = runContext(spec, { mode: 'promote', promotion: { version: 2, reason: 'ship it', expectedVersion: 5 } });
    const answer = await promote({ registry, runs: new MemoryRuns() })({ run, registration: { version: 2, judgedAgainst: 1 } });
    expect(answer).toMatchObject({ moved: false, error: 'CONFLICT' });
    expect(registry.aliases.size).toBe(0);
  });

  it('refuses a Register state without a passed gate and a Promote state without its registration, naming the fields', async () => {
    const stores = { registry: new ReleaseRegistryFake(), runs: new MemoryRuns() };
    const failedGate = { run: runContext(spec), training: { artifact }, evaluation: { metrics: {} }, gate: { ...gateState, passed: false } };
    expect((await rejectedWith(register(stores, settings)(failedGate), InputValidationError)).field).toBe('gate.passed');
    expect((await rejectedWith(promote(stores)({ run: runContext(spec) }), InputValidationError)).field).toBe('registration');
  });
});

describe('the RecordFailure handler', () => {
  it('marks the run FAILED with the Lambda error message as its reason, and alerts', async () => {
    const runs = new MemoryRuns();
    const alerts = new MemoryAlerts();
    const run = runContext(spec);
    const cause = JSON.stringify({ errorType: 'DataValidationError', errorMessage: 'data validation failed: 1 of 9 checks failed', trace: ['x'] });
    const answer = await recordFailure({ runs, alerts }, 'local')({ run, failure: { step: 'ValidateData', error: 'DataValidationError', cause } });
    expect(answer).toEqual({ recorded: true, alerted: true });
    expect(runs.get(run.runId)).toMatchObject({ status: 'FAILED', failure: { step: 'ValidateData', error: 'DataValidationError', reason: 'data validation failed: 1 of 9 checks failed' } });
    expect(alerts.sent[0]!.alert).toMatchObject({ kind: 'training-run-failed', model: spec.name, runId: run.runId });
    expect(alerts.sent[0]!.subject).toBe(`[mlops local] ${spec.name}: training failed at ValidateData`);
  });

  it('alerts for a StartRun failure that has no run yet, and refuses an event without the failure', async () => {
    const runs = new MemoryRuns();
    const alerts = new MemoryAlerts();
    expect(await recordFailure({ runs, alerts }, 'local')({ model: 'credit-default', failure: { step: 'StartRun', error: 'NotFoundError' } })).toEqual({ recorded: false, alerted: true });
    expect(runs.runs.size).toBe(0);
    expect((await rejectedWith(recordFailure({ runs, alerts }, 'local')({ model: 'x' }), InputValidationError)).field).toBe('failure');
  });
});

describe('the ExpireApproval handler', () => {
  it('closes the request of the run\'s version, and refuses a state without the registration', async () => {
    const calls: unknown[] = [];
    const handler = expireApproval({ expireApproval: async (input) => (calls.push(input), { expired: true }) });
    const run = runContext(spec);
    expect(await handler({ run, registration: { version: 7 } })).toEqual({ expired: true });
    expect(calls).toEqual([{ model: spec.name, version: 7, runId: run.runId }]);
    expect((await rejectedWith(handler({ run, registration: { version: 0 } }), InputValidationError)).field).toBe('registration.version');
  });
});
