import { describe, expect, it } from 'vitest';
import { parseSteps } from '../../lib/client/actions/rollout.js';
import { formatRolloutAbort, formatRolloutStatus } from '../../lib/client/render/rollout.js';
import type { RolloutStatus } from '../../lambdas/contract/registry.js';
import { RolloutPolicySchema } from '../../lambdas/core/training/model-spec.js';

const code = (fn: () => unknown) => {
  try {
    fn();
    return 'NO ERROR';
  } catch (error) {
    return `${(error as { code: string }).code} ${(error as { field: string }).field}`;
  }
};

describe('mlops rollout arguments and output', () => {
  it('parses --steps as increasing weights ending with 1, and refuses anything else naming the option', () => {
    expect(parseSteps('0.05,0.25,1')).toEqual([0.05, 0.25, 1]);
    expect(parseSteps(' 0.5 , 1')).toEqual([0.5, 1]);
    expect(parseSteps('1')).toEqual([1]);
    for (const bad of ['0.5', '0.5,0.2,1', '0,1', 'a,1', '0.5,,1', '1.5', '']) expect(code(() => parseSteps(bad)), bad).toBe('INVALID_INPUT steps');
  });

  it('shows the phase, the last check with each signal and its evidence, and the decisions', () => {
    const status: RolloutStatus = {
      rollout: {
        model: 'credit',
        rolloutId: 'credit-r1-rollout',
        version: 3,
        production: 2,
        executionArn: 'arn:aws:states:us-east-1:000000000000:execution:rollout:credit-r1-rollout',
        state: 'ROLLED_BACK',
        phase: 'canary',
        stepIndex: 0,
        weight: 0,
        since: '2026-12-06T10:00:00.000Z',
        extensions: 0,
        policy: RolloutPolicySchema.parse({ steps: [0.5, 1], bake: '20s' }),
        gateRunId: 'g',
        promoteRunId: 'p',
        startedAt: '2026-12-06T09:59:00.000Z',
        startedBy: 'arn:aws:iam::000000000000:user/alice',
        reason: 'r',
        updatedAt: '2026-12-06T10:00:21.000Z',
        outcome: 'Rolling back: predictionShift 0.39 above 0.1',
        lastCheck: {
          at: '2026-12-06T10:00:21.000Z',
          mode: 'canary',
          decision: 'rollback',
          reason: 'Rolling back: predictionShift 0.39 above 0.1',
          reportUri: 's3://reports/rollouts/credit/credit-r1-rollout/check.json',
          window: { from: '2026-12-06T10:00:00.000Z', to: '2026-12-06T10:00:21.000Z' },
          signals: [
            { name: 'errorRate', value: 0, threshold: 0.01, ok: true },
            { name: 'predictionShift', value: 0.39, threshold: 0.1, ok: false },
          ],
        },
      },
      execution: { status: 'SUCCEEDED' },
      stepsDone: 0,
      decisions: [],
    };
    const text = formatRolloutStatus(status);
    expect(text).toContain('state ROLLED_BACK, phase canary at 0 (step 1 of 1)');
    expect(text).toContain('FAIL predictionShift 0.39 (limit 0.1)');
    expect(text).toContain('evidence s3://reports/rollouts/credit/credit-r1-rollout/check.json');
    expect(formatRolloutAbort({ status: 'ABORTED', rollout: status.rollout, cleared: ['canary'] })).toContain('production stays at v2');
  });
});
