import { MlopsError } from '../errors.js';
import { featureMatrix, type ImportedArtifact, type OnnxScorer } from '../training/imported-model.js';
import type { ArtifactRef } from '../training/run.js';
import { loadModelFile, type ArtifactBytes, type ModelFile } from './model-file.js';
import { predictRows, toPrediction, validatePredictionRequest, validateRequestFor, type CheckedRequest, type FeatureRow, type Prediction } from './predict.js';
import { loggedInputs, type HandOffFailures, type PredictionLog, type RequestIndex } from './prediction-log.js';
import type { Arm, PredictionLogRecord, RequestIndexEntry } from './records.js';
import { chooseArms, MAX_ROUTING_KEY_LENGTH, routingCache, routingKeyHash, versionFiles, type RoutingSource, type RoutingState, type VersionSource } from './routing.js';

/**
 * The largest predict body, in bytes (4 MiB): 1,000 rows of about 4 KB each (a hundred-odd features).
 * API Gateway takes 10 MB, but Lambda takes at most 6 MB per synchronous invocation, and the event
 * carries the body JSON-escaped with the headers beside it: 4 MiB keeps an ordinary body well inside
 * that, so an oversized body gets the function's 413 REQUEST_TOO_LARGE, not a failed invocation.
 */
export const MAX_PREDICT_BODY_BYTES = 4 * 1024 * 1024;

/** What serving reads and where it hands its records off. */
export interface ServingStores {
  /** One read of a model's routing (spec and serving aliases), and version records. */
  readonly registry: RoutingSource & VersionSource;
  /** Model files by URI; their sha256 is checked on load. */
  readonly artifacts: ArtifactBytes;
  /** A scorer for an imported model's ONNX file. */
  onnx(manifest: ImportedArtifact): OnnxScorer;
  readonly log: PredictionLog;
  readonly requestIndex: RequestIndex;
  readonly failures: HandOffFailures;
}

/** A warm function's serving state: the stores and what it keeps between requests. */
export interface Server {
  readonly stores: ServingStores;
  /** A model's routing, at most the staleness bound old. */
  routing(model: string): Promise<RoutingState | undefined>;
  /** A version's model file (version records kept for good, files per sha256, failures for one window). */
  file(model: string, version: number): Promise<ModelFile>;
}

/** Builds a warm function's server: `stalenessMs` bounds how old a routing answer may be, and how long a version that failed to load is left alone. */
export function createServer(stores: ServingStores, options: { stalenessMs: number; now: () => number }): Server {
  const files = versionFiles(stores.registry, cachedModelFiles(stores.artifacts), { retryAfterMs: options.stalenessMs, now: options.now });
  return { stores, routing: routingCache(stores.registry, options), file: files };
}

/** A request the model cannot answer, with the code the caller sees. */
export interface ServeRefusal {
  readonly ok: false;
  readonly code: 'MODEL_NOT_FOUND' | 'NO_PRODUCTION_VERSION' | 'INVALID_REQUEST' | 'MODEL_UNAVAILABLE';
  readonly message: string;
  readonly fields?: { field: string; problem: string }[];
  /** The version and arm that could not answer, when one was chosen. */
  readonly version?: number;
  readonly arm?: Arm;
}

export interface ServeAnswer {
  readonly ok: true;
  readonly version: number;
  /** Who answered: production, or the canary for its share of the traffic. */
  readonly arm: 'production' | 'canary';
  readonly rows: FeatureRow[];
  readonly predictions: Prediction[];
  readonly latencyMs: number;
  /** Whether the request went into the prediction log (the spec's sampling). */
  readonly logged: boolean;
}

/** Model files are immutable per version, so a warm function keeps each one it has loaded (by sha256); concurrent loads of one file share a read. */
export function cachedModelFiles(artifacts: ArtifactBytes): (artifact: ArtifactRef) => Promise<ModelFile> {
  const files = new Map<string, Promise<ModelFile>>();
  return (artifact) => {
    const cached = files.get(artifact.sha256);
    if (cached) return cached;
    const file = loadModelFile(artifacts, artifact);
    files.set(artifact.sha256, file);
    // A failed load is not kept: the next caller reads again.
    file.catch(() => files.delete(artifact.sha256));
    return file;
  };
}

/** Checks the request against the model's features and scores it: built-in models in-process, imported ones with their ONNX scorer. */
export async function scoreBody(stores: Pick<ServingStores, 'onnx'>, file: ModelFile, body: unknown): Promise<{ checked: CheckedRequest; predictions: Prediction[] }> {
  if (file.kind === 'builtin') {
    const checked = validatePredictionRequest(file.artifact, body);
    return { checked, predictions: checked.ok ? predictRows(file.artifact, checked.rows) : [] };
  }
  const { manifest } = file;
  const checked = validateRequestFor(manifest, manifest.features.map((name) => ({ name, type: 'numeric' as const, nullable: false })), body);
  if (!checked.ok) return { checked, predictions: [] };
  const rows = featureMatrix(manifest.features, (row, feature) => checked.rows[row]![feature], checked.rows.map((_, i) => i), (row) => `instance ${row + 1}`);
  const { scores } = await stores.onnx(manifest)(rows, checked.rows.length, manifest.features.length, manifest.classes?.length ?? 1);
  return { checked, predictions: scores.map((out) => toPrediction(manifest.task, manifest.classes, out)) };
}

/** One arm's try at a request: its predictions, or why it could not answer. */
type Attempt =
  | { ok: true; version: number; rows: FeatureRow[]; predictions: Prediction[]; ms: number }
  | { ok: false; version: number; ms: number; code: 'INVALID_REQUEST' | 'MODEL_UNAVAILABLE' | 'SCORING_FAILED'; message: string; fields?: { field: string; problem: string }[] };

async function attempt(server: Server, model: string, version: number, body: unknown, elapsedMs: () => number): Promise<Attempt> {
  const started = elapsedMs();
  const ms = () => Math.round((elapsedMs() - started) * 1000) / 1000;
  let file: ModelFile;
  try {
    file = await server.file(model, version);
  } catch (error) {
    const why = error instanceof MlopsError ? `${error.code}: ${error.message}` : (error as Error).message;
    return { ok: false, version, ms: ms(), code: 'MODEL_UNAVAILABLE', message: `version ${version} of ${model} could not be loaded (${why})` };
  }
  try {
    const { checked, predictions } = await scoreBody(server.stores, file, body);
    if (!checked.ok) {
      const summary = checked.errors.map((e) => `${e.field}: ${e.problem}`).join('; ');
      return { ok: false, version, ms: ms(), code: 'INVALID_REQUEST', message: `the request does not match model ${model}'s features: ${summary}`, fields: checked.errors };
    }
    return { ok: true, version, rows: checked.rows, predictions, ms: ms() };
  } catch (error) {
    return { ok: false, version, ms: ms(), code: 'SCORING_FAILED', message: `version ${version} of ${model} failed to score the request (${(error as Error).message})` };
  }
}

/** Resolves once the current turn's synchronous work is done: a shadow whose model is warm scores after the answer, one that loads overlaps it. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface ServeInput {
  readonly model: string;
  readonly body: unknown;
  readonly requestId: string;
  /** The caller's routing key (header `x-mlops-routing-key`); without one the arm is random. */
  readonly routingKey?: string | undefined;
  readonly now: () => Date;
  /** Milliseconds since the request arrived (a monotonic clock). */
  readonly elapsedMs: () => number;
  /** Uniform in [0, 1): arm choice without a key, shadow share, log sampling. */
  readonly random: () => number;
}

/**
 * Serves one prediction request. Routing comes from the server's cache (at most the staleness bound
 * old); production answers unless the request's point falls on the canary. A canary or shadow that
 * cannot load or score never fails the request: production answers and the failure is logged as an
 * error record of that arm. A production version that cannot load answers MODEL_UNAVAILABLE. The
 * shadow scores the same body and is logged, never returned. Every arm's records go to the log in
 * one hand-off (when the request is sampled), and the request index gets one entry per answer; both
 * are awaited before the answer (a Lambda is frozen once it has answered), and a failure of either
 * is counted, never the caller's.
 */
export async function servePrediction(server: Server, input: ServeInput): Promise<ServeAnswer | ServeRefusal> {
  const { model, body, requestId, routingKey, elapsedMs } = input;
  if (routingKey !== undefined && routingKey.length > MAX_ROUTING_KEY_LENGTH) {
    const problem = `a routing key is at most ${MAX_ROUTING_KEY_LENGTH} characters; got ${routingKey.length}`;
    return { ok: false, code: 'INVALID_REQUEST', message: problem, fields: [{ field: 'x-mlops-routing-key', problem }] };
  }
  const at = input.now().toISOString();
  const state = await server.routing(model);
  if (!state) return { ok: false, code: 'MODEL_NOT_FOUND', message: `no model named "${model}"` };
  if (!state.production) return { ok: false, code: 'NO_PRODUCTION_VERSION', message: `model "${model}" has no production version yet` };

  const choice = chooseArms(state, routingKey, input.random);
  const shadow = choice.shadow && state.shadow ? nextTurn().then(() => attempt(server, model, state.shadow!.version, body, elapsedMs)) : undefined;

  let canaryFailure: Attempt | undefined;
  let answered: (Attempt & { ok: true }) | undefined;
  let arm: 'production' | 'canary' = 'production';
  if (choice.answer === 'canary' && state.canary) {
    const canary = await attempt(server, model, state.canary.version, body, elapsedMs);
    if (canary.ok) [answered, arm] = [canary, 'canary'];
    else canaryFailure = canary;
  }
  const production = answered ? undefined : await attempt(server, model, state.production.version, body, elapsedMs);
  if (production?.ok) answered = production;
  const latencyMs = Math.round(elapsedMs() * 1000) / 1000;

  const base = { requestId, at, model, ...(routingKey === undefined ? {} : { routingKeyHash: routingKeyHash(routingKey) }) };
  if (!answered) {
    // Production could not answer: the caller's mistake (nothing is logged), or production is broken (its error is logged, 503).
    // The shadow is awaited either way: work left running would resume in a later invocation.
    const shadowDone = await shadow;
    const failure = production as Attempt & { ok: false };
    if (failure.code === 'INVALID_REQUEST') return { ok: false, code: 'INVALID_REQUEST', message: failure.message, ...(failure.fields ? { fields: failure.fields } : {}) };
    if (choice.logged) {
      const errors = [failure, canaryFailure, shadowDone].flatMap((a, i) =>
        a && !a.ok && a.code !== 'INVALID_REQUEST' ? [errorRecord(base, a, (['production', 'canary', 'shadow'] as const)[i]!, [])] : [],
      );
      await handOff(server.stores, model, () => server.stores.log.send(errors), 'prediction-log');
    }
    return { ok: false, code: 'MODEL_UNAVAILABLE', message: `${failure.message}; try again shortly`, version: failure.version, arm: 'production' };
  }

  const entry: RequestIndexEntry = { requestId, model, version: answered.version, arm, rows: answered.rows.length, at, logged: choice.logged };
  // The index write goes out while the shadow finishes; the log waits for the shadow's record (one batch per request).
  const handOffs = [handOff(server.stores, model, () => server.stores.requestIndex.record(entry), 'request-index')];
  const shadowDone = await shadow;
  if (choice.logged) {
    const inputs = loggedInputs(answered.rows, state.logging);
    const records: PredictionLogRecord[] = [{ ...base, version: answered.version, arm, inputs, outputs: answered.predictions, latencyMs }];
    if (canaryFailure && !canaryFailure.ok) records.push(errorRecord(base, canaryFailure, 'canary', inputs));
    if (shadowDone) records.push(shadowDone.ok ? { ...base, version: shadowDone.version, arm: 'shadow', inputs, outputs: shadowDone.predictions, latencyMs: shadowDone.ms } : errorRecord(base, shadowDone, 'shadow', inputs));
    handOffs.push(handOff(server.stores, model, () => server.stores.log.send(records), 'prediction-log'));
  }
  await Promise.all(handOffs);
  return { ok: true, version: answered.version, arm, rows: answered.rows, predictions: answered.predictions, latencyMs, logged: choice.logged };
}

/** An arm that could not answer, as the rollout reads it: no outputs, the error's code and message. */
function errorRecord(
  base: Pick<PredictionLogRecord, 'requestId' | 'at' | 'model' | 'routingKeyHash'>,
  failure: Attempt & { ok: false },
  arm: Arm,
  inputs: PredictionLogRecord['inputs'],
): PredictionLogRecord {
  return { ...base, version: failure.version, arm, inputs, outputs: [], latencyMs: failure.ms, error: { code: failure.code, message: failure.message } };
}

/** Runs a hand-off; a failure is counted and reported, never thrown. */
async function handOff(stores: Pick<ServingStores, 'failures'>, model: string, send: () => Promise<void>, what: 'prediction-log' | 'request-index'): Promise<void> {
  try {
    await send();
  } catch (error) {
    stores.failures.failed(what, model, error);
  }
}
