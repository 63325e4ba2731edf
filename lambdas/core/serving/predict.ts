import { z } from 'zod';
import type { ModelArtifact } from '../training/artifact.js';
import { zodIssues } from '../errors.js';
import { estimatorOutput, estimatorOutputs } from '../training/estimator.js';
import type { Cell } from '../data/table-readers.js';
import { transformRow } from '../training/transforms.js';

/** The most rows one request may score: keeps a response well under API Gateway's 10 MB. */
export const MAX_INSTANCES = 1000;

export type FeatureRow = Record<string, number | string | null>;
/** Binary: the label, P(positive) and both probabilities; multiclass: the label and every probability; regression: the value. */
export type Prediction =
  | { readonly label: string; readonly probability: number; readonly probabilities: Record<string, number> }
  | { readonly label: string; readonly probabilities: Record<string, number> }
  | { readonly value: number };
export type CheckedRequest = { ok: true; rows: FeatureRow[] } | { ok: false; errors: { field: string; problem: string }[] };

/** What the request schema needs to know of a model: each feature's name, kind, and whether a missing value is imputed. */
export interface RequestFeature {
  readonly name: string;
  readonly type: 'numeric' | 'categorical';
  readonly nullable: boolean;
}
export const requestFeaturesOf = (artifact: ModelArtifact): RequestFeature[] =>
  artifact.features.map((f) => ({ name: f.name, type: f.type, nullable: f.type === 'categorical' || f.impute !== 'none' }));

const schemas = new WeakMap<object, z.ZodType>();

const describe = (input: unknown) => (input === null ? 'null' : Array.isArray(input) ? 'array' : typeof input);

/** The request body a model accepts, built from the features stored in its artifact. */
function requestSchema(key: object, features: readonly RequestFeature[]): z.ZodType {
  const cached = schemas.get(key);
  if (cached) return cached;
  const fields = features.map((feature) => {
    // A value the transforms would impute may be sent as null; a numeric feature without imputation may not.
    const nullable = feature.nullable;
    const base =
      feature.type === 'numeric'
        ? z.number({ error: (issue) => (issue.input === undefined ? 'required' : typeof issue.input === 'number' ? 'expected a finite number' : `expected a number, got ${describe(issue.input)}`) }).finite()
        : z.union([z.string(), z.number().finite()], { error: (issue) => (issue.input === undefined ? 'required' : `expected a string, got ${describe(issue.input)}`) });
    return [feature.name, nullable ? base.nullable() : base] as const;
  });
  const row = z.object(Object.fromEntries(fields)).strict();
  const schema = z.union([z.object({ inputs: row }).strict(), z.object({ instances: z.array(row).min(1).max(MAX_INSTANCES) }).strict()]);
  schemas.set(key, schema);
  return schema;
}

/**
 * Checks a prediction request against the model's features: `{ "inputs": { feature: value } }`
 * for one row or `{ "instances": [ ... ] }` for up to MAX_INSTANCES rows. Every problem is
 * reported with the field it concerns.
 */
export function validatePredictionRequest(artifact: ModelArtifact, body: unknown): CheckedRequest {
  return validateRequestFor(artifact, requestFeaturesOf(artifact), body);
}

/** The same check for any model described by its request features (an imported model's are numeric and required). */
export function validateRequestFor(key: object, features: readonly RequestFeature[], body: unknown): CheckedRequest {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return { ok: false, errors: [{ field: '(root)', problem: 'expected a JSON object with "inputs" or "instances"' }] };
  }
  const hasInputs = 'inputs' in body;
  const hasInstances = 'instances' in body;
  if (hasInputs === hasInstances) {
    return { ok: false, errors: [{ field: '(root)', problem: 'expected exactly one of "inputs" (one row) or "instances" (a list of rows)' }] };
  }
  const result = requestSchema(key, features).safeParse(body);
  if (result.success) {
    const data = result.data as { inputs?: FeatureRow; instances?: FeatureRow[] };
    return { ok: true, rows: data.instances ?? [data.inputs!] };
  }
  // Report only the branch the caller chose, so the errors speak about that shape.
  const issues = result.error.issues.flatMap((issue) => (issue.code === 'invalid_union' ? issue.errors.flat() : [issue]));
  const relevant = issues.filter((issue) => issue.path[0] === (hasInputs ? 'inputs' : 'instances') || (issue.path.length === 0 && issue.code !== 'unrecognized_keys'));
  const errors = zodIssues(new z.ZodError(relevant.length > 0 ? relevant : issues));
  return { ok: false, errors: errors.map((e) => (e.problem.startsWith('Unrecognized key') && e.field !== '(root)' ? { field: e.field, problem: `${e.problem}: not a feature of this model` } : e)) };
}

/** The estimator's raw output for one row of feature values: the one path evaluation and serving share. */
export function predictFeatures(artifact: ModelArtifact, value: (feature: string) => Cell | undefined, where?: string): number[] {
  return estimatorOutput(artifact.estimator, artifact.task, transformRow(artifact.transforms, value, where));
}

/** The answer for one row of estimator output: a class with its probabilities, or a value. */
export function toPrediction(task: ModelArtifact['task'], classes: readonly string[] | undefined, out: readonly number[]): Prediction {
  if (task === 'regression') return { value: out[0]! };
  // Plain loops: this runs once per served row, and callbacks and entry arrays are garbage there.
  let best = 0;
  for (let k = 1; k < out.length; k += 1) if (out[k]! > out[best]!) best = k;
  const probabilities: Record<string, number> = {};
  for (let k = 0; k < classes!.length; k += 1) {
    const label = classes![k]!;
    // Assigning "__proto__" would set the prototype; a class may be named so (Object.fromEntries did define it).
    if (label === '__proto__') Object.defineProperty(probabilities, label, { value: out[k], enumerable: true, writable: true, configurable: true });
    else probabilities[label] = out[k]!;
  }
  // Positive above one half, as the argmax the metrics use (a tie goes to the first class).
  if (task === 'binary_classification') return { label: out[1]! > 0.5 ? classes![1]! : classes![0]!, probability: out[1]!, probabilities };
  return { label: classes![best]!, probabilities };
}

/** Scores one validated row with the same code the evaluation used. */
export function predict(artifact: ModelArtifact, row: FeatureRow): Prediction {
  return toPrediction(artifact.task, artifact.classes, predictFeatures(artifact, (name) => row[name] ?? null, 'the request'));
}

/**
 * Scores a request's validated rows: the same predictions as `predict` row by row, but the
 * estimator sees all rows at once (a boosted model walks each tree with every row, about twice as
 * fast on 1,000 rows). A row the transforms refuse throws the error `predict` would, for the first such row.
 */
export function predictRows(artifact: ModelArtifact, rows: readonly FeatureRow[]): Prediction[] {
  const features = rows.map((row) => transformRow(artifact.transforms, (name) => row[name] ?? null, 'the request'));
  return estimatorOutputs(artifact.estimator, artifact.task, features).map((out) => toPrediction(artifact.task, artifact.classes, out));
}
