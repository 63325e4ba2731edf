import { describe, expect, it } from 'vitest';
import { DriftAccumulator, EXACT_COUNTS_LIMIT } from '../../lambdas/core/monitoring/drift.js';
import { wassersteinDistance } from '../../lambdas/core/monitoring/distance.js';

// The accumulator's per-value shortcuts (counts by slot, new categories decided once per distinct
// value, one property lookup per column) must count exactly what the plain definitions count.

describe('DriftAccumulator fast paths', () => {
  const features = [
    { name: 'plan', type: 'categorical' as const },
    { name: 'x', type: 'numeric' as const },
  ];

  it('counts new categories per row, before and after the exact counts are dropped', () => {
    const reference = new DriftAccumulator({ features, task: 'regression' });
    reference.addRows([{ plan: 'a', x: 1 }, { plan: 'b', x: 2 }]);
    const current = new DriftAccumulator({ features, task: 'regression', reference: reference.summary() });
    const values = ['a', 'new-1', 'b', 'new-1', 'new-2'];
    for (const plan of values) current.addRow({ plan, x: 1 });
    // Past EXACT_COUNTS_LIMIT distinct values the counts go; the new-category rows are still exact.
    for (let i = 0; i < EXACT_COUNTS_LIMIT; i += 1) current.addRow({ plan: `many-${i}`, x: 1 });
    for (const plan of values) current.addRow({ plan, x: 1 });
    const plan = current.summary().columns[0]!;
    expect(plan.counts).toBeNull();
    expect(plan.againstReference?.newCategoryRows).toBe(2 * 3 + EXACT_COUNTS_LIMIT);
    expect(plan.againstReference?.newCategories).toEqual(['new-1', 'new-2', 'many-0', 'many-1', 'many-2']);
  });

  it('keeps exact counts in order of first appearance', () => {
    const side = new DriftAccumulator({ features, task: 'regression' });
    for (const plan of ['b', 'a', 'b', 'c', 'b', 'a']) side.addRow({ plan, x: 0 });
    expect(side.summary().columns[0]!.counts).toEqual([
      ['b', 3],
      ['a', 2],
      ['c', 1],
    ]);
  });

  it('reads a feature named like an inherited property only from the row itself', () => {
    const inherited = [
      { name: 'constructor', type: 'categorical' as const },
      { name: 'toString', type: 'numeric' as const },
    ];
    const side = new DriftAccumulator({ features: inherited, task: 'regression' });
    side.addRow({});
    side.addRow(JSON.parse('{"constructor": "c", "toString": 3}'));
    const [constructor, toString] = side.summary().columns;
    expect(constructor).toMatchObject({ rows: 2, missing: 1, absent: 1, wrongType: 0, counts: [['c', 1]] });
    expect(toString).toMatchObject({ rows: 2, missing: 1, absent: 1, wrongType: 0, counts: [[3, 1]] });
  });

  it('Wasserstein over the merged sorted samples equals the textbook sum over the pooled sorted values', () => {
    const u = [3, -0, 0, 1.5, 7, 7, 2];
    const v = [0, 2, 2, 9, -1];
    const pooled = [...u, ...v].sort((a, b) => a - b);
    const cdf = (side: number[], x: number) => side.filter((s) => s <= x).length / side.length;
    let expected = 0;
    for (let k = 0; k < pooled.length - 1; k += 1) expected += Math.abs(cdf(u, pooled[k]!) - cdf(v, pooled[k]!)) * (pooled[k + 1]! - pooled[k]!);
    expect(wassersteinDistance(u, v)).toBe(expected);
  });
});
