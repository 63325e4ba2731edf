import type { ModelSpec } from './model-spec.js';
import type { DatasetSchema } from '../data/profile.js';
import type { RunRecord } from './run.js';

export interface ComparedValue {
  readonly name: string;
  readonly a: unknown;
  readonly b: unknown;
  readonly differs: boolean;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function sideBySide(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): ComparedValue[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort().map((name) => ({ name, a: a[name] ?? null, b: b[name] ?? null, differs: !same(a[name], b[name]) }));
}

/** What a run was made from, as the comparisons show it. */
const lineageOf = (r: RunRecord) => ({ model: r.model, dataset: `${r.dataset.name}@${r.dataset.version}`, specHash: r.specHash, codeVersion: r.codeVersion, algorithm: r.algorithm, seed: r.seed, status: r.status });

/** Two runs side by side (`mlops runs compare`): lineage, parameters and metrics, each row marked when it differs. */
export function compareRuns(a: RunRecord, b: RunRecord) {
  const lineage = sideBySide(lineageOf(a), lineageOf(b));
  const metrics = sideBySide(a.metrics ?? {}, b.metrics ?? {}).map((row) => ({
    ...row,
    // b - a, for numbers: positive means b is higher.
    delta: typeof row.a === 'number' && typeof row.b === 'number' ? row.b - row.a : null,
  }));
  return { runs: [a.runId, b.runId] as const, lineage, parameters: sideBySide(a.parameters, b.parameters), metrics };
}

export interface ComparedValues {
  readonly name: string;
  /** One value per run, in the order the runs were given; null where a run has none. */
  readonly values: unknown[];
  readonly differs: boolean;
}

function acrossRuns(records: readonly Readonly<Record<string, unknown>>[]): ComparedValues[] {
  const names = [...new Set(records.flatMap((record) => Object.keys(record)))].sort();
  return names.map((name) => {
    const values = records.map((record) => record[name] ?? null);
    return { name, values, differs: values.some((value) => !same(value, values[0])) };
  });
}

/**
 * Any number of runs side by side (`POST /runs/compare` with more than two): each row holds one
 * value per run and is marked when they differ; a numeric metric's row also names the run with the
 * highest and the lowest value (null when the runs do not all have it).
 */
export function compareManyRuns(records: readonly RunRecord[]) {
  const metrics = acrossRuns(records.map((r) => r.metrics ?? {})).map((row) => {
    const numbers = row.values.every((value): value is number => typeof value === 'number') ? (row.values as number[]) : null;
    const at = (pick: (a: number, b: number) => boolean) => (numbers ? records[numbers.reduce((best, value, i) => (pick(value, numbers[best]!) ? i : best), 0)]!.runId : null);
    return { ...row, highest: at((a, b) => a > b), lowest: at((a, b) => a < b) };
  });
  return { runs: records.map((r) => r.runId), lineage: acrossRuns(records.map(lineageOf)), parameters: acrossRuns(records.map((r) => r.parameters)), metrics };
}

/**
 * Whether a reproduction matched its original exactly: the same artifact bytes (sha256) and the
 * same metrics, value for value. Built-in trainers are deterministic, so anything else is a finding.
 */
export function reproductionVerdict(original: RunRecord, reproduced: RunRecord) {
  const artifactMatches = original.artifact !== undefined && original.artifact.sha256 === reproduced.artifact?.sha256;
  const metrics = sideBySide(original.metrics ?? {}, reproduced.metrics ?? {}).map(({ name, a, b, differs }) => ({ name, recorded: a, reproduced: b, matches: !differs }));
  return {
    run: original.runId,
    reproducedBy: reproduced.runId,
    matches: artifactMatches && metrics.every((m) => m.matches) && reproduced.status === 'SUCCEEDED',
    artifact: { recorded: original.artifact?.sha256 ?? null, reproduced: reproduced.artifact?.sha256 ?? null, matches: artifactMatches },
    metrics,
  };
}

/**
 * Checks a spec against a dataset version's schema before any run starts: the target and every
 * feature must be columns, and numeric features (and a regression target) numeric columns.
 */
export function specSchemaProblems(spec: ModelSpec, schema: DatasetSchema): { field: string; problem: string }[] {
  const columns = new Map(schema.columns.map((column) => [column.name, column]));
  const problems: { field: string; problem: string }[] = [];
  if (!columns.has(spec.target)) problems.push({ field: 'target', problem: `"${spec.target}" is not a column of the dataset (columns: ${[...columns.keys()].join(', ')})` });
  else if (spec.task === 'regression' && columns.get(spec.target)!.type !== 'numeric') problems.push({ field: 'target', problem: `regression needs a numeric target; "${spec.target}" is text` });
  spec.features.forEach((feature, index) => {
    const column = columns.get(feature.name);
    if (!column) problems.push({ field: `features.${index}.name`, problem: `the dataset has no column "${feature.name}"` });
    else if (feature.type === 'numeric' && column.type !== 'numeric') problems.push({ field: `features.${index}.type`, problem: `"${feature.name}" is numeric in the spec but text in the dataset` });
  });
  if (spec.training.timeColumn !== undefined && !columns.has(spec.training.timeColumn)) {
    problems.push({ field: 'training.timeColumn', problem: `the dataset has no column "${spec.training.timeColumn}"` });
  }
  return problems;
}
