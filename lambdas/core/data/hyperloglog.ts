/**
 * HyperLogLog (Flajolet, Fusy, Gandouet and Meunier, 2007): the number of distinct items in a
 * stream, from 2^precision one-byte registers, with a relative standard error of
 * 1.04 / sqrt(2^precision). The duplicate-row check falls back to it when a file has more rows
 * than its exact table holds (see RowFingerprints): 16 KiB at the default precision of 14, a
 * standard error of 0.81%, whatever the row count.
 *
 * Items are 64-bit fingerprints given as two 32-bit halves; they are mixed (murmur3's fmix32)
 * before use, so any fingerprint with distinct halves will do. With 64-bit inputs there are
 * no hash collisions to correct for at any count a file reaches; small counts use linear
 * counting (the paper's small-range correction). Written here, as the profile's other
 * sketches are, because it works on the fingerprints the exact table already computes instead
 * of hashing the rows again as the npm packages do.
 */
export const HLL_PRECISION = 14;

const fmix32 = (value: number): number => {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
};

export class HyperLogLog {
  private readonly registers: Uint8Array;

  constructor(readonly precision = HLL_PRECISION) {
    if (!Number.isInteger(precision) || precision < 7 || precision > 18) throw new Error(`HyperLogLog precision must be an integer from 7 to 18, got ${precision}`);
    this.registers = new Uint8Array(1 << precision);
  }

  get registerCount(): number {
    return this.registers.length;
  }

  /** Relative standard error of `estimate()` (1.04 / sqrt(registers)). */
  get standardError(): number {
    return 1.04 / Math.sqrt(this.registers.length);
  }

  /** Adds a 64-bit item (its two 32-bit halves). */
  add(hi: number, lo: number): void {
    const a = fmix32(hi ^ Math.imul(lo, 0x9e3779b1));
    const b = fmix32(lo ^ Math.imul(a, 0xcc9e2d51));
    const p = this.precision;
    const index = a >>> (32 - p);
    // The rank of the first 1 bit in the 64 - p bits after the index: a's low bits, then b's.
    const rest = a << p;
    const rank = rest !== 0 ? Math.clz32(rest) + 1 : 32 - p + Math.clz32(b) + 1;
    if (rank > this.registers[index]!) this.registers[index] = rank;
  }

  /** The estimated number of distinct items added. */
  estimate(): number {
    const m = this.registers.length;
    let sum = 0;
    let zeros = 0;
    for (let i = 0; i < m; i += 1) {
      const rank = this.registers[i]!;
      sum += 2 ** -rank;
      if (rank === 0) zeros += 1;
    }
    const alpha = 0.7213 / (1 + 1.079 / m);
    const raw = (alpha * m * m) / sum;
    return raw <= 2.5 * m && zeros > 0 ? m * Math.log(m / zeros) : raw;
  }
}
