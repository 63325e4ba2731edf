import { z } from 'zod';
import type { ModelArtifact } from './artifact.js';
import { zodIssues } from './errors.js';
import { predictProbability } from './logistic-regression.js';

/** The most rows one request may score: keeps a response well under API Gateway's 10 MB. */
export const MAX_INSTANCES = 1000;

export type FeatureRow = Record<string, number>;
export interface Prediction {
  readonly label: string;
  readonly probability: number;
}
export type CheckedRequest = { ok: true; rows: FeatureRow[] } | { ok: false; errors: { field: string; problem: string }[] };

const schemas = new WeakMap<ModelArtifact, z.ZodType>();

/** The request body a model accepts, built from the features stored in its artifact. */
function requestSchema(artifact: ModelArtifact): z.ZodType {
  const cached = schemas.get(artifact);
  if (cached) return cached;
  const row = z
    .object(Object.fromEntries(artifact.features.map((feature) => [feature.name, z.number({ error: (issue) => (issue.input === undefined ? 'required' : typeof issue.input === 'number' ? 'expected a finite number' : `expected a number, got ${issue.input === null ? 'null' : typeof issue.input}`) }).finite()])))
    .strict();
  const schema = z.union([
    z.object({ inputs: row }).strict(),
    z.object({ instances: z.array(row).min(1).max(MAX_INSTANCES) }).strict(),
  ]);
  schemas.set(artifact, schema);
  return schema;
}

/**
 * Checks a prediction request against the model's features: `{ "inputs": { feature: number } }`
 * for one row or `{ "instances": [ ... ] }` for up to MAX_INSTANCES rows. Every problem is
 * reported with the field it concerns.
 */
export function validatePredictionRequest(artifact: ModelArtifact, body: unknown): CheckedRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, errors: [{ field: '(root)', problem: 'expected a JSON object with "inputs" or "instances"' }] };
  }
  const hasInputs = 'inputs' in body;
  const hasInstances = 'instances' in body;
  if (hasInputs === hasInstances) {
    return { ok: false, errors: [{ field: '(root)', problem: 'expected exactly one of "inputs" (one row) or "instances" (a list of rows)' }] };
  }
  // Validate only the branch the caller chose, so the errors speak about that shape.
  const schema = requestSchema(artifact);
  const result = schema.safeParse(body);
  if (result.success) {
    const data = result.data as { inputs?: FeatureRow; instances?: FeatureRow[] };
    return { ok: true, rows: data.instances ?? [data.inputs!] };
  }
  const issues = result.error.issues.flatMap((issue) => (issue.code === 'invalid_union' ? issue.errors.flat() : [issue]));
  const relevant = issues.filter((issue) => issue.path[0] === (hasInputs ? 'inputs' : 'instances') || (issue.path.length === 0 && issue.code !== 'unrecognized_keys'));
  const errors = zodIssues(new z.ZodError(relevant.length > 0 ? relevant : issues));
  return { ok: false, errors: errors.map((e) => (e.problem.startsWith('Unrecognized key') && e.field !== '(root)' ? { field: e.field, problem: `${e.problem}: not a feature of this model` } : e)) };
}

/** Scores one validated row with the same code the evaluation used. */
export function predict(artifact: ModelArtifact, row: FeatureRow): Prediction {
  const probability = predictProbability(
    { standardization: artifact.standardization, weights: artifact.weights, bias: artifact.bias },
    artifact.features.map((feature) => row[feature.name]!),
  );
  return { label: probability >= 0.5 ? artifact.labels.positive : artifact.labels.negative, probability };
}
