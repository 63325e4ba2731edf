import { describe, expect, it } from 'vitest';
import { Template } from 'aws-cdk-lib/assertions';
import { ConfigError, parseEnvironments } from '../../lib/config.js';
import { ENVIRONMENTS, stateMachineDefinition, synthPlatform } from './helpers.js';

/** Each function's logical id and its environment variables. */
function functionEnvironments(template: Template): [string, Record<string, unknown>][] {
  return Object.entries(template.findResources('AWS::Lambda::Function')).map(([id, fn]) => [id, (fn.Properties.Environment?.Variables ?? {}) as Record<string, unknown>]);
}

describe('the fault switch', () => {
  it('is on in local, for Register and Promote only', () => {
    const { template } = synthPlatform('local');
    const switched = functionEnvironments(template).filter(([, env]) => env.FAULT_INJECTION === 'on').map(([id]) => id);
    expect(switched).toHaveLength(2);
    expect(switched.some((id) => id.includes('RegisterHandler'))).toBe(true);
    expect(switched.some((id) => id.includes('PromoteHandler'))).toBe(true);
    // An injected timeout is short there; elsewhere the two keep the platform's 30 s.
    const timeouts = template.findResources('AWS::Lambda::Function');
    for (const id of switched) expect(timeouts[id]!.Properties.Timeout).toBe(12);
    const prod = synthPlatform('prod').template.findResources('AWS::Lambda::Function');
    const prodTimeouts = Object.entries(prod).filter(([id]) => /^TrainingPipeline(Register|Promote)Handler/.test(id)).map(([, fn]) => fn.Properties.Timeout);
    expect(prodTimeouts).toEqual([30, 30]);
  });

  it.each(['dev', 'staging', 'prod'] as const)('is absent from every function of the %s template', (name) => {
    const { template } = synthPlatform(name);
    expect(functionEnvironments(template).filter(([, env]) => 'FAULT_INJECTION' in env)).toEqual([]);
    expect(JSON.stringify(template.toJSON())).not.toContain('FAULT_INJECTION');
  });

  it('stays absent outside local even when a config object carries it (the stack checks the environment too)', () => {
    const { template } = synthPlatform('prod', { faultInjection: true });
    expect(JSON.stringify(template.toJSON())).not.toContain('FAULT_INJECTION');
  });

  it('fails when cdk.json sets it for an environment other than local, naming the field', () => {
    const raw = { ...ENVIRONMENTS, staging: { ...ENVIRONMENTS.staging, faultInjection: true } };
    expect(() => parseEnvironments(raw)).toThrow(ConfigError);
    expect(() => parseEnvironments(raw)).toThrow(/environments\.staging\.faultInjection: only the local environment may inject faults/);
    expect(ENVIRONMENTS.local?.faultInjection).toBe(true);
    expect(ENVIRONMENTS.prod?.faultInjection).toBe(false);
  });

  it('leaves the faults it provokes to the steps\' own Retry (transient) and Catch (permanent)', () => {
    const { template } = synthPlatform('local');
    const states = stateMachineDefinition(template).States as Record<string, { Retry?: { ErrorEquals: string[] }[]; Catch?: { ErrorEquals: string[]; Next: string }[] }>;
    for (const step of ['Register', 'Promote']) {
      expect(states[step]!.Retry!.flatMap((r) => r.ErrorEquals)).toEqual(expect.arrayContaining(['ThrottlingException', 'Sandbox.Timedout']));
      expect(states[step]!.Catch!.find((c) => c.ErrorEquals.includes('States.ALL'))?.Next).toBe(`${step}Failed`);
    }
    // A long step is not retried after a timeout: it would most likely time out again.
    expect(states.Train!.Retry!.flatMap((r) => r.ErrorEquals)).not.toContain('Sandbox.Timedout');
  });
});
