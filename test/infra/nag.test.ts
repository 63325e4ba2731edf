import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_NAMES } from '../../lib/config.js';
import { synthPlatform } from './helpers.js';

// The platform passes the AwsSolutions and Serverless packs in every environment; every accepted
// finding is acknowledged, with its reason, in lib/nag-acknowledgements.ts.
describe('cdk-nag', () => {
  for (const environment of ENVIRONMENT_NAMES) {
    for (const Pack of [AwsSolutionsChecks, ServerlessChecks]) {
      it(`${environment}: has no unacknowledged ${Pack.name} finding`, () => {
        const { stack } = synthPlatform(environment);
        const report = new Pack(stack).validateScope(stack);
        const findings = report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath ?? r.resourceLogicalId).join(', ')}`);
        expect(findings).toEqual([]);
        expect(report.success).toBe(true);
      });
    }
  }

  it('reports a finding when a control is missing (the check can fail)', async () => {
    const { Stack } = await import('aws-cdk-lib');
    const s3 = await import('aws-cdk-lib/aws-s3');
    const stack = new Stack();
    new s3.Bucket(stack, 'Plain');
    const report = new AwsSolutionsChecks(stack).validateScope(stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
  });

  it('carries a reason with every acknowledgement', () => {
    const { stack } = synthPlatform('prod');
    const acknowledgements = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    expect(acknowledgements.length).toBeGreaterThan(0);
    for (const [id, reason] of acknowledgements) expect(reason.length, id).toBeGreaterThan(40);
  });
});
