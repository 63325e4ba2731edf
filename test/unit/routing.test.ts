import { describe, expect, it } from 'vitest';
import { chooseArms, routingPoint, routingStateOf, StaleCache, type RoutingState } from '../../lambdas/core/serving/routing.js';
import { mixedSpec } from './helpers.js';

const spec = mixedSpec('binary_classification', 'logistic_regression');

describe('StaleCache', () => {
  it('shares one read among concurrent misses, keeps it for the window, and drops a failed read at once', async () => {
    let now = 0;
    let reads = 0;
    let fail = true;
    const cache = new StaleCache(async (key) => {
      reads += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (fail) throw new Error(`registry down for ${key}`);
      return `${key}@${now}`;
    }, 1000, () => now);

    await expect(Promise.all([cache.get('m'), cache.get('m')])).rejects.toThrow(/registry down/);
    expect(reads).toBe(1);
    // A failure is not kept: the very next request reads again.
    fail = false;
    expect(await Promise.all([cache.get('m'), cache.get('m')])).toEqual(['m@0', 'm@0']);
    expect(reads).toBe(2);
    now = 999;
    expect(await cache.get('m')).toBe('m@0');
    now = 1000;
    expect(await cache.get('m')).toBe('m@1000');
    expect(reads).toBe(3);
  });

  it('forgets the oldest model past its size, so made-up names cannot grow memory', async () => {
    let reads = 0;
    const cache = new StaleCache(async (key) => (reads += 1, key), 1000, () => 0, 2);
    await cache.get('a');
    await cache.get('b');
    await cache.get('c');
    await cache.get('b');
    expect(reads).toBe(3);
    await cache.get('a');
    expect(reads).toBe(4);
  });
});

describe('arm choice', () => {
  const state = (weight: number): RoutingState => routingStateOf('m', spec, { production: { version: 1 }, canary: { version: 2, weight } });

  it('puts a key on the canary exactly when its point is below the weight, so raising the weight only adds keys', () => {
    const keys = Array.from({ length: 2000 }, (_, i) => `key-${i}`);
    // A random source that would always pick production: a keyed choice must not use it for the arm.
    const random = () => 0.99;
    for (const key of keys) {
      const point = routingPoint('m', key);
      expect(point).toBeGreaterThanOrEqual(0);
      expect(point).toBeLessThan(1);
      for (const weight of [0.05, 0.2, 0.5, 0.99]) expect(chooseArms(state(weight), key, random).answer).toBe(point < weight ? 'canary' : 'production');
    }
    // Mixing the model in: one key's point differs between models.
    expect(keys.filter((key) => routingPoint('m', key) === routingPoint('other', key))).toEqual([]);
  });

  it('routes nothing to a canary without weight, and leaves out a shadow the state does not have', () => {
    const none = routingStateOf('m', spec, { production: { version: 1 }, canary: { version: 2, weight: 0 } });
    expect(none.canary).toBeUndefined();
    expect(chooseArms(none, undefined, () => 0)).toEqual({ answer: 'production', shadow: false, logged: true });
  });
});
