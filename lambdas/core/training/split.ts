import { createRng, shuffledIndices } from '../random.js';

export interface Split {
  readonly train: number[];
  readonly test: number[];
}

/**
 * A seeded, stratified train/test split: each class sends the same fraction of its rows to the
 * test side, so a rare class is never missing from it. Indices come back in ascending order,
 * which keeps training independent of the shuffle beyond which rows were chosen.
 */
export function stratifiedSplit(labels: readonly number[], testFraction: number, seed: number): Split {
  const rng = createRng(seed);
  const train: number[] = [];
  const test: number[] = [];
  const classes = [...new Set(labels)].sort((a, b) => a - b);
  for (const label of classes) {
    const members = labels.flatMap((value, index) => (value === label ? [index] : []));
    const order = shuffledIndices(members.length, rng);
    const testCount = Math.min(members.length - 1, Math.max(1, Math.round(members.length * testFraction)));
    order.forEach((position, rank) => (rank < testCount ? test : train).push(members[position]!));
  }
  return { train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b) };
}
