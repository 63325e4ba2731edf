import { createRng } from '../lambdas/core/random.js';

/** A standard normal draw from two uniforms (Box-Muller). */
function normal(rng: () => number): number {
  const u = Math.max(rng(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

const round = (value: number, digits: number) => Number(value.toFixed(digits));

/**
 * A synthetic credit-default table: applicants with age, income, debt ratio, open credit lines
 * and late payments, and whether they defaulted. Default risk rises with debt and late payments
 * and falls with income and age, through a logistic link, so a linear model can learn it well
 * but not perfectly (about 0.85 accuracy). Deterministic for a given seed.
 */
export function makeCreditDataset(rows: number, seed: number): string {
  const rng = createRng(seed);
  const lines = ['age,income,debt_ratio,credit_lines,late_payments,defaulted'];
  for (let i = 0; i < rows; i += 1) {
    const age = Math.round(Math.min(80, Math.max(18, 42 + 12 * normal(rng))));
    const income = Math.round(Math.max(8000, Math.exp(10.8 + 0.45 * normal(rng))) / 100) * 100;
    const debtRatio = round(Math.min(1.5, Math.max(0, 0.35 + 0.18 * normal(rng))), 3);
    const creditLines = Math.max(0, Math.round(4 + 2.5 * normal(rng)));
    const latePayments = Math.min(12, Math.floor(-Math.log(Math.max(rng(), 1e-12)) * 1.2));
    const risk =
      -0.6 + 9 * (debtRatio - 0.35) + 1.4 * (latePayments - 1.2) - 2.5 * (Math.log(income) - 10.8) - 0.05 * (age - 42) + 0.08 * (creditLines - 4);
    const defaulted = rng() < 1 / (1 + Math.exp(-risk)) ? 1 : 0;
    lines.push([age, income, debtRatio, creditLines, latePayments, defaulted].join(','));
  }
  return `${lines.join('\n')}\n`;
}

// `npx tsx scripts/make-demo-dataset.ts [rows] [seed] > data.csv`
if (process.argv[1]?.endsWith('make-demo-dataset.ts')) {
  process.stdout.write(makeCreditDataset(Number(process.argv[2] ?? 2000), Number(process.argv[3] ?? 7)));
}
