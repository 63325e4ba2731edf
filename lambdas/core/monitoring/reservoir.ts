import { createRng } from '../random.js';

/**
 * A seeded uniform sample of a stream (Vitter's algorithm R): after n values, each is kept with
 * probability capacity / n, in at most `capacity` slots. Same seed and same order of values, same
 * sample: a check over a window read partition by partition in a fixed order is reproducible.
 */
export class Reservoir<T> {
  private readonly kept: T[] = [];
  private readonly random: () => number;
  private count = 0;

  constructor(
    readonly capacity: number,
    seed: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`a reservoir holds at least one value, got capacity ${capacity}`);
    this.random = createRng(seed);
  }

  /** Values offered so far (kept or not). */
  get seen(): number {
    return this.count;
  }

  add(value: T): void {
    this.count += 1;
    if (this.kept.length < this.capacity) {
      this.kept.push(value);
      return;
    }
    const slot = Math.floor(this.random() * this.count);
    if (slot < this.capacity) this.kept[slot] = value;
  }

  /** The sample (all values while fewer than `capacity` were offered). */
  values(): T[] {
    return [...this.kept];
  }
}

/** A per-name seed from one seed, so adding a feature does not change the others' samples (FNV-1a of the name). */
export function seedFor(seed: number, name: string): number {
  let hash = 0x811c9dc5 ^ (seed >>> 0);
  for (let i = 0; i < name.length; i += 1) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}
