import { z } from 'zod';
import { fitGbdt, predictOutput as gbdtOutput, predictOutputRows as gbdtOutputRows, type BoostingLoss, type GbdtModel } from './trainers/gbdt.js';
import { fitLinear, predictLinear, type LinearModel } from './trainers/linear.js';
import { fitLogistic, predictProba, type LogisticModel } from './trainers/logistic.js';
import type { FitReport, Matrix } from './trainers/matrix.js';
import type { ModelSpec, Task } from './model-spec.js';

/** A fitted built-in model, tagged by kind, exactly as the artifact stores it. */
export type Estimator = { kind: 'logistic'; model: LogisticModel } | { kind: 'linear'; model: LinearModel } | { kind: 'gbdt'; model: GbdtModel };

const numbers = z.array(z.number());
/** The artifact's estimator, checked for shape when an artifact is read from S3. */
export const EstimatorSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('logistic'), model: z.object({ classes: z.number().int().min(2), coef: z.array(numbers), intercept: numbers }) }),
  z.object({ kind: z.literal('linear'), model: z.object({ coef: numbers, intercept: z.number() }) }),
  z.object({
    kind: z.literal('gbdt'),
    model: z.object({
      loss: z.enum(['squared_error', 'binary_logloss', 'multiclass_logloss']),
      classes: z.number().int().min(1),
      baseScore: numbers,
      binEdges: z.array(numbers),
      learningRate: z.number(),
      trees: z.array(z.array(z.object({ feature: numbers, threshold: numbers, left: numbers, right: numbers, value: numbers }))),
    }),
  }),
]);

/**
 * Fits the spec's algorithm on the transformed training matrix. `y` holds class indices for
 * classification (`classes` of them) and values for regression.
 */
export function fitEstimator(spec: ModelSpec, x: Matrix, y: Float64Array, classes: number): { estimator: Estimator; report: FitReport } {
  const { training } = spec;
  switch (training.algorithm) {
    case 'logistic_regression': {
      const { model, report } = fitLogistic(x, y, classes, training.params);
      return { estimator: { kind: 'logistic', model }, report };
    }
    case 'linear_regression': {
      const { model, report } = fitLinear(x, y, { alpha: 0 });
      return { estimator: { kind: 'linear', model }, report };
    }
    case 'ridge': {
      const { model, report } = fitLinear(x, y, { alpha: training.params.alpha });
      return { estimator: { kind: 'linear', model }, report };
    }
    case 'gradient_boosting': {
      const loss: BoostingLoss = spec.task === 'regression' ? 'squared_error' : classes === 2 ? 'binary_logloss' : 'multiclass_logloss';
      const { model, report } = fitGbdt(x, y, loss, loss === 'multiclass_logloss' ? classes : 1, training.params);
      return { estimator: { kind: 'gbdt', model }, report };
    }
  }
}

/**
 * What the estimator says for one transformed row: class probabilities (K of them, binary
 * included as [negative, positive]) for classification, `[value]` for regression. Evaluation and
 * serving both call this, so they cannot disagree.
 */
export function estimatorOutput(estimator: Estimator, task: Task, row: ArrayLike<number>): number[] {
  switch (estimator.kind) {
    case 'logistic':
      return predictProba(estimator.model, row);
    case 'linear':
      return [predictLinear(estimator.model, row)];
    case 'gbdt':
      return gbdtClassOutput(task, gbdtOutput(estimator.model, row));
  }
}

/** A boosted model's output as estimatorOutput gives it: a binary model's P(positive) as [negative, positive]. */
const gbdtClassOutput = (task: Task, out: number[]): number[] => (task === 'binary_classification' ? [1 - out[0]!, out[0]!] : out);

/**
 * estimatorOutput of many transformed rows (a request's), the same numbers row for row: a boosted
 * model walks its trees with all the rows together (predictOutputRows), which is faster.
 */
export function estimatorOutputs(estimator: Estimator, task: Task, rows: readonly ArrayLike<number>[]): number[][] {
  if (estimator.kind !== 'gbdt') return rows.map((row) => estimatorOutput(estimator, task, row));
  return gbdtOutputRows(estimator.model, rows).map((out) => gbdtClassOutput(task, out));
}
