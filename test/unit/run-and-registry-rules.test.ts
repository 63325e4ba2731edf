import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../lambdas/core/canonical-json.js';
import { auditSk, runsByModelSk, versionSk } from '../../lambdas/core/registry/keys.js';
import { failureReason, TrainingRequestSchema } from '../../lambdas/core/training/run.js';
import { formatS3Uri, parseS3Uri } from '../../lambdas/core/s3-uri.js';

describe('registry keys', () => {
  it('orders version keys numerically when sorted as strings', () => {
    const keys = [10, 2, 100, 1, 99].map(versionSk).sort();
    expect(keys).toEqual(['VERSION#000001', 'VERSION#000002', 'VERSION#000010', 'VERSION#000099', 'VERSION#000100']);
  });

  it('orders runs of a model by start time, and audit events by time', () => {
    const later = runsByModelSk('2026-01-02T00:00:00.000Z', 'a');
    const earlier = runsByModelSk('2026-01-01T23:59:59.999Z', 'z');
    expect([later, earlier].sort()).toEqual([earlier, later]);
    expect(auditSk('2026-01-01T00:00:00.000Z', 'e1') < auditSk('2026-01-01T00:00:00.001Z', 'e0')).toBe(true);
  });
});

describe('training request', () => {
  it('defaults the trigger, actor, params and mode', () => {
    expect(TrainingRequestSchema.parse({ model: 'credit', dataset: { name: 'loans' } })).toEqual({
      model: 'credit',
      dataset: { name: 'loans' },
      trigger: 'manual',
      actor: 'unknown',
      params: {},
      mode: 'train',
      release: true,
    });
  });

  it('rejects a bad model name, a version that is not a sha256 and unknown keys', () => {
    const issues = (value: unknown) => TrainingRequestSchema.safeParse(value).error?.issues.map((i) => i.path.join('.'));
    expect(issues({ model: 'Credit Model', dataset: { name: 'loans' } })).toEqual(['model']);
    expect(issues({ model: 'credit', dataset: { name: 'loans', version: 'v1' } })).toEqual(['dataset.version']);
    expect(issues({ model: 'credit', dataset: { name: 'loans' }, priority: 1 })).toEqual(['']);
  });
});

describe('failure reasons', () => {
  it('keeps the message of a Lambda error cause and drops its trace', () => {
    const cause = JSON.stringify({ errorType: 'DataValidationError', errorMessage: 'data validation failed: target_classes', trace: ['at x'] });
    expect(failureReason(cause, 'DataValidationError')).toBe('data validation failed: target_classes');
  });

  it('keeps a plain-text cause and falls back to the error name', () => {
    expect(failureReason('gate failed: accuracy 0.51 < 0.75', 'GateFailedError')).toBe('gate failed: accuracy 0.51 < 0.75');
    expect(failureReason(undefined, 'States.Timeout')).toBe('States.Timeout');
  });
});

describe('canonical JSON', () => {
  it('gives the same text for objects that differ only in key order, at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [2, { e: 0, f: 1 }] }, b: 1 }));
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
  });
});

describe('S3 URIs', () => {
  it('round-trips bucket and key, keeping slashes in the key', () => {
    expect(parseS3Uri(formatS3Uri('models', 'a/b/c.json'))).toEqual({ bucket: 'models', key: 'a/b/c.json' });
  });

  it('fails for anything that is not s3://bucket/key', () => {
    expect(() => parseS3Uri('https://example.com/x')).toThrow(/not an s3:\/\/bucket\/key URI/);
    expect(() => parseS3Uri('s3://bucket-only')).toThrow(/not an s3/);
  });
});
