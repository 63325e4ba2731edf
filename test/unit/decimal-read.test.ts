import { describe, expect, it } from 'vitest';
import { scanDataset } from '../../lambdas/core/data/dataset-scan.js';
import { decimalQuotient } from '../../lambdas/core/data/profile.js';
import { FrequencySketch, NumericSummary } from '../../lambdas/core/data/sketches.js';
import { createRng } from '../../lambdas/core/random.js';

const POWERS = Array.from({ length: 23 }, (_, k) => 10 ** k);

/** Decimal text of `digits` random digits with the point `fraction` digits from the end (16 to 18 digits: past 2^53 as an integer). */
function randomDecimal(rng: () => number, digits: number, fraction: number): { text: string; all: string } {
  let all = String(1 + Math.floor(rng() * 9));
  while (all.length < digits) all += String(Math.floor(rng() * 10));
  const text = fraction === 0 ? all : fraction >= digits ? `0.${all.padStart(fraction, '0')}` : `${all.slice(0, digits - fraction)}.${all.slice(digits - fraction)}`;
  return { text, all };
}

describe('reading long plain decimals', () => {
  it('decimalQuotient gives the double Number() reads, or NaN (then Number() is used)', () => {
    // Arrange
    const rng = createRng(16);
    let decided = 0;
    // Act / Assess
    for (let n = 0; n < 200_000; n += 1) {
      const digits = 16 + Math.floor(rng() * 3);
      const fraction = Math.floor(rng() * 23);
      const { text, all } = randomDecimal(rng, digits, fraction);
      if (BigInt(all) < 2n ** 53n) continue;
      const q = decimalQuotient(Number(all.slice(0, -9)), 1e9, Number(all.slice(-9)), POWERS[fraction]!);
      if (Number.isNaN(q)) continue;
      decided += 1;
      if (q !== Number(text)) expect.fail(`${text}: ${q}, Number() reads ${Number(text)}`);
    }
    expect(decided).toBeGreaterThan(100_000);
  });

  it('leaves exact ties between two doubles to Number()', () => {
    // 2^53 + 1 and 2^53 + 3 lie halfway between doubles.
    expect(decimalQuotient(9_007_199, 1e9, 254_740_993, 1)).toBeNaN();
    expect(decimalQuotient(9_007_199, 1e9, 254_740_995, 1)).toBeNaN();
    expect(decimalQuotient(123_456_789, 1e9, 12_345_678, 1)).toBe(123456789012345678);
  });

  it('profiles columns of 17-digit decimals to the same summary as Number() values', async () => {
    // Arrange: a float64 export's full-precision values, some negative, some integers past 2^53.
    const rng = createRng(7);
    const values: string[] = [];
    for (let i = 0; i < 5_000; i += 1) {
      const kind = i % 4;
      if (kind === 0) values.push(String(rng()));
      else if (kind === 1) values.push(String(-rng() * 1000));
      else if (kind === 2) values.push(randomDecimal(rng, 17, Math.floor(rng() * 18)).text);
      else values.push(randomDecimal(rng, 18, 0).text);
    }
    const expected = new NumericSummary();
    for (const text of values) expected.add(Number(text));
    const content = `x\n${values.join('\n')}\n`;
    // Act
    const scan = await scanDataset({ format: 'csv', chunks: (async function* () { yield new Uint8Array(Buffer.from(content)); })() });
    // Assess
    expect(scan.profile.columns[0]!.numeric).toEqual(expected.toJSON());
  });

  it('counts rows as duplicates only when the numbers are spelled the same', async () => {
    // Arrange: the same values spelled differently, then each spelling again; and long decimals past the 18 digits the fingerprint reads as integers.
    const spellings = ['1', '1.0', '01', '1.', '-0', '0', '0.5', '.5', '123456789012345678', '1234567890123456789', '12345678.9012345678', '1e3', ' 1'];
    const content = `x,y\n${[...spellings, ...spellings].map((x) => `${x},a`).join('\n')}\n1,b\n`;
    // Act
    const scan = await scanDataset({ format: 'csv', chunks: (async function* () { yield new Uint8Array(Buffer.from(content)); })() });
    // Assess
    expect(scan.profile.duplicateRows).toBe(spellings.length);
  });

  it('counts rows as duplicates only when their text values are spelled the same, also past the frequency sketch', async () => {
    // Arrange: values with and without edge spaces, an empty one, and 3,000 distinct values (past the sketch's 1,000), each written twice.
    const values = ['north', ' north', 'north ', '', 'south', 'South', ...Array.from({ length: 3_000 }, (_, i) => `v${i}`)];
    const content = `x,y\n${[...values, ...values].map((x) => `${x},1`).join('\n')}\nnorth,2\n`;
    // Act
    const scan = await scanDataset({ format: 'csv', chunks: (async function* () { yield new Uint8Array(Buffer.from(content)); })() });
    // Assess
    expect(scan.profile.duplicateRows).toBe(values.length);
    const expected = new FrequencySketch();
    for (const x of [...values, ...values, 'north']) if (x.trim() !== '') expected.add(x.trim());
    expect(scan.profile.columns[0]!.frequencies).toEqual(expected.toJSON());
  });
});
