import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { parseModelSpec, type ModelSpec } from '../../lambdas/core/model-spec.js';

/** The credit-default spec exactly as it ships in config/models, as raw JSON. */
export function creditSpecJson(): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL('../../config/models/credit-default.json', import.meta.url), 'utf8')) as Record<string, unknown>;
}

/** The credit-default spec, parsed; `overrides` are merged at the top level before parsing. */
export function creditSpec(overrides: Record<string, unknown> = {}): ModelSpec {
  return parseModelSpec({ ...creditSpecJson(), ...overrides });
}

/** A spec with two numeric features x1, x2 and target `label`. */
export function smallSpec(overrides: Record<string, unknown> = {}): ModelSpec {
  return parseModelSpec({
    name: 'small-model',
    task: 'binary_classification',
    target: 'label',
    features: [
      { name: 'x1', type: 'numeric' },
      { name: 'x2', type: 'numeric' },
    ],
    training: { algorithm: 'logistic_regression', testFraction: 0.25 },
    gate: { minRows: 5 },
    ...overrides,
  });
}

/** The error `action` throws, checked to be an instance of `type`; fails when nothing is thrown. */
export function thrownBy<E extends Error>(action: () => unknown, type: abstract new (...args: never[]) => E): E {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as E;
  }
  throw new Error(`expected ${type.name} but nothing was thrown`);
}

/** The error `promise` rejects with, checked to be an instance of `type`; fails when it resolves. */
export async function rejectedWith<E extends Error>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as E;
  }
  throw new Error(`expected ${type.name} but the promise resolved`);
}
