import { describe, expect, it } from 'vitest';
import { GateReportAnswerSchema, PromoteAnswerSchema, PutModelAnswerSchema } from '../../lambdas/contract/registry.js';
import { StoredGateReportSchema } from '../../lambdas/core/evaluation/gate-report.js';
import { evaluateReleaseGate } from '../../lambdas/core/evaluation/gate.js';
import { championMetrics, GatePolicySchema } from '../../lambdas/core/training/model-spec.js';
import { smallSpec } from './helpers.js';

/** A report as the Gate step stores it: JSON, so a non-finite metric becomes null. */
function storedReport(metrics: Record<string, number>) {
  const spec = smallSpec();
  const report = evaluateReleaseGate({
    metrics,
    policy: GatePolicySchema.parse({ minRows: 5, minAccuracy: 0.7 }),
    rows: 40,
    nonFinitePredictions: 0,
    championMetrics: championMetrics(spec),
  });
  return JSON.parse(JSON.stringify({ runId: 'r-1', model: 'small-model', heldOutUri: 's3://reports/h.json', ...report })) as unknown;
}

describe('the registry API answers, parsed with the contract schemas', () => {
  it('reads back a stored gate report, a failed one with a non-finite metric included', () => {
    const passed = StoredGateReportSchema.parse(storedReport({ accuracy: 0.9, rows: 40 }));
    expect(passed).toMatchObject({ runId: 'r-1', passed: true, champion: null });
    expect(passed.checks.map((c) => c.name)).toContain('metrics_finite');
    expect(passed.checks.length).toBeGreaterThan(2);

    const failed = StoredGateReportSchema.parse(storedReport({ accuracy: Number.NaN, rows: 40 }));
    expect(failed.passed).toBe(false);
    expect(failed.checks.find((c) => c.name === 'metrics_finite')).toMatchObject({ status: 'fail' });

    const answer = GateReportAnswerSchema.parse({ model: 'small-model', version: 3, runId: 'r-1', uri: 's3://reports/gates/small-model/r-1.json', report: storedReport({ accuracy: 0.9, rows: 40 }) });
    expect(answer.report.summary).toBe(passed.summary);
  });

  it('refuses answers that do not have the contract shape', () => {
    expect(StoredGateReportSchema.safeParse({ runId: 'r', model: 'm', passed: 'yes', checks: [] }).success).toBe(false);
    expect(PromoteAnswerSchema.safeParse({ status: 'DONE' }).success).toBe(false);
    expect(PutModelAnswerSchema.safeParse({ model: 'm', created: true, spec: { name: 'm' } }).success).toBe(false);
  });

  it('keeps both promote answers apart by status', () => {
    const alias = { model: 'credit-risk', alias: 'canary', version: 2, weight: 0.1, updatedAt: 't', updatedBy: 'a' };
    expect(PromoteAnswerSchema.parse({ status: 'MOVED', alias, before: null })).toMatchObject({ status: 'MOVED', alias: { version: 2 } });
    expect(PromoteAnswerSchema.parse({ status: 'RUNNING', runId: 'r', executionArn: 'arn', version: 2, expectedVersion: null })).toMatchObject({ status: 'RUNNING' });
  });
});
