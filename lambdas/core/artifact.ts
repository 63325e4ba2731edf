import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from './canonical-json.js';
import { FeatureSchema } from './model-spec.js';
import { InputValidationError, parseOrThrow } from './errors.js';

export const ARTIFACT_FORMAT = 'serverless-mlops/logistic-regression@1';

const finite = z.number().finite();

/**
 * A trained model as stored in S3: everything serving needs (features, scaling, coefficients,
 * labels) and nothing that varies between identical trainings, so its sha256 is reproducible.
 */
export const ModelArtifactSchema = z
  .object({
    format: z.literal(ARTIFACT_FORMAT),
    model: z.string(),
    task: z.literal('binary_classification'),
    target: z.string(),
    labels: z.object({ positive: z.string(), negative: z.string() }),
    features: z.array(FeatureSchema).min(1),
    standardization: z.object({ mean: z.array(finite), std: z.array(finite.positive()) }),
    weights: z.array(finite),
    bias: finite,
    training: z.object({
      algorithm: z.literal('logistic_regression'),
      params: z.record(z.string(), z.number()),
      seed: z.number().int(),
      rows: z.number().int().positive(),
      iterations: z.number().int().nonnegative(),
      converged: z.boolean(),
      finalLoss: z.number(),
    }),
  })
  .refine(
    (a) => a.weights.length === a.features.length && a.standardization.mean.length === a.features.length && a.standardization.std.length === a.features.length,
    { message: 'weights and standardization must have one entry per feature' },
  );
export type ModelArtifact = z.infer<typeof ModelArtifactSchema>;

export const serializeArtifact = (artifact: ModelArtifact): string => canonicalJson(artifact);

export function parseArtifact(text: string): ModelArtifact {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InputValidationError(`the model artifact is not JSON: ${(error as Error).message}`);
  }
  return parseOrThrow(ModelArtifactSchema, raw, 'model artifact');
}

export const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');
