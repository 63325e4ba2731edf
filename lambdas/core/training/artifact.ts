import { z } from 'zod';
import { canonicalJson } from '../canonical-json.js';
import { EstimatorSchema } from './estimator.js';
import { ALGORITHMS, FeatureSchema, TASKS, type Algorithm } from './model-spec.js';
import { FittedTransformsSchema } from './transforms.js';

export const ARTIFACT_FORMAT = 'serverless-mlops/model@2';

const finite = z.number().finite();


/**
 * A trained model as stored in S3: everything serving needs (features, fitted transforms, the
 * estimator, class labels) and nothing that varies between identical trainings, so its sha256
 * is reproducible.
 */
export const ModelArtifactSchema = z
  .object({
    format: z.literal(ARTIFACT_FORMAT),
    model: z.string(),
    task: z.enum(TASKS),
    target: z.string(),
    /** Classification: the label of each class index (binary: [negative, positive]). */
    classes: z.array(z.string()).min(2).optional(),
    features: z.array(FeatureSchema).min(1),
    transforms: FittedTransformsSchema,
    estimator: EstimatorSchema,
    training: z.object({
      algorithm: z.enum(ALGORITHMS as [Algorithm, ...Algorithm[]]),
      params: z.record(z.string(), z.unknown()),
      seed: z.number().int(),
      rows: z.number().int().positive(),
      iterations: z.number().int().nonnegative(),
      converged: z.boolean(),
      finalLoss: z.number().optional(),
    }),
  })
  .refine((a) => (a.task === 'regression') === (a.classes === undefined), { message: 'classification artifacts carry their classes; regression ones do not', path: ['classes'] })
  .refine((a) => estimatorWidth(a.estimator) === null || estimatorWidth(a.estimator) === a.transforms.outputNames.length, {
    message: 'the estimator takes a different number of inputs than the transforms produce',
    path: ['estimator'],
  });

/** How many inputs a linear estimator takes (trees take any row as wide as their features). */
function estimatorWidth(estimator: z.infer<typeof EstimatorSchema>): number | null {
  if (estimator.kind === 'linear') return estimator.model.coef.length;
  if (estimator.kind === 'logistic') {
    const widths = new Set(estimator.model.coef.map((row) => row.length));
    return widths.size === 1 ? [...widths][0]! : -1;
  }
  return estimator.model.binEdges.length;
}
export type ModelArtifact = z.infer<typeof ModelArtifactSchema>;

export const serializeArtifact = (artifact: ModelArtifact): string => canonicalJson(artifact);

