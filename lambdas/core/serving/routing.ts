import { sha256Hex } from '../sha256.js';
import type { ModelSpec, PredictionLogging } from '../training/model-spec.js';
import type { ArtifactRef } from '../training/run.js';
import type { ModelFile } from './model-file.js';

/**
 * Where a model's traffic goes, held in memory by each warm predict function with a bounded
 * staleness: an alias move or a rollback takes effect within that bound, and the registry is read
 * at most once per model per bound (a warm function at any request rate).
 */

/** The default staleness bound, in milliseconds (an environment sets its own: ROUTING_STALENESS_MS). */
export const DEFAULT_ROUTING_STALENESS_MS = 2000;

/** A warm function remembers this many models' routing; past it the oldest entry is dropped (a caller cannot grow memory with made-up names). */
const MAX_CACHED_MODELS = 1000;

/** What routing needs of a model: its log policy, the shadow's share, and where its serving aliases point. */
export interface RoutingState {
  readonly model: string;
  readonly logging: PredictionLogging;
  /** Share of requests the shadow also scores (spec `rollout.shadowSample`). */
  readonly shadowSample: number;
  readonly production?: { readonly version: number };
  readonly canary?: { readonly version: number; readonly weight: number };
  readonly shadow?: { readonly version: number };
}

/** The registry's one read per model and window (RegistryStore.readRouting); undefined when there is no such model. */
export interface RoutingSource {
  readRouting(model: string): Promise<RoutingState | undefined>;
}

/** A routing state from the model's spec and its aliases as read. */
export function routingStateOf(
  model: string,
  spec: Pick<ModelSpec, 'logging' | 'rollout'>,
  aliases: { production?: { version: number }; canary?: { version: number; weight: number }; shadow?: { version: number } },
): RoutingState {
  return {
    model,
    logging: spec.logging,
    shadowSample: spec.rollout.shadowSample,
    ...(aliases.production ? { production: { version: aliases.production.version } } : {}),
    // A canary with no weight takes no traffic: leave it out rather than route nothing to it.
    ...(aliases.canary && aliases.canary.weight > 0 ? { canary: { version: aliases.canary.version, weight: aliases.canary.weight } } : {}),
    ...(aliases.shadow ? { shadow: { version: aliases.shadow.version } } : {}),
  };
}

type Entry<T> = { readonly value: Promise<T>; readonly readAt: number };

/**
 * A value per key read through `load` and trusted for `staleMs` from when its read started (so an
 * answer is never older than the bound). Concurrent misses share one read; a failed read is not
 * kept, so the next request tries again.
 */
export class StaleCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly load: (key: string) => Promise<T>,
    private readonly staleMs: number,
    private readonly now: () => number,
    private readonly maxEntries = MAX_CACHED_MODELS,
  ) {}

  get(key: string): Promise<T> {
    const at = this.now();
    const entry = this.entries.get(key);
    if (entry && at - entry.readAt < this.staleMs) return entry.value;
    const value = this.load(key);
    const fresh: Entry<T> = { value, readAt: at };
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, fresh);
    value.catch(() => {
      if (this.entries.get(key) === fresh) this.entries.delete(key);
    });
    return value;
  }
}

/** The routing states of the models a warm function serves, each at most `stalenessMs` old. */
export function routingCache(source: RoutingSource, options: { stalenessMs: number; now: () => number }): (model: string) => Promise<RoutingState | undefined> {
  const cache = new StaleCache((model) => source.readRouting(model), options.stalenessMs, options.now);
  return (model) => cache.get(model);
}

/** What a model version needs to be scored: the version record (its artifact never changes) and the model file. */
export interface VersionSource {
  getVersion(model: string, version: number): Promise<{ artifact: ArtifactRef }>;
}

/**
 * The model file of a version. Version records are immutable (their artifact never changes), so
 * they are kept for good; files are kept per sha256 by `modelFile`. A version that fails to load is
 * remembered as failed for `retryAfterMs`, then tried again: a broken artifact costs one attempt
 * per window, not one per request, and a fixed one serves again.
 */
export function versionFiles(
  source: VersionSource,
  modelFile: (artifact: ArtifactRef) => Promise<ModelFile>,
  options: { retryAfterMs: number; now: () => number },
): (model: string, version: number) => Promise<ModelFile> {
  const artifacts = new Map<string, Promise<ArtifactRef>>();
  const failed = new Map<string, { error: unknown; at: number }>();
  return async (model, version) => {
    const key = `${model}#${version}`;
    const failure = failed.get(key);
    if (failure && options.now() - failure.at < options.retryAfterMs) throw failure.error;
    try {
      let artifact = artifacts.get(key);
      if (!artifact) {
        artifact = source.getVersion(model, version).then((found) => found.artifact);
        artifacts.set(key, artifact);
        artifact.catch(() => artifacts.delete(key));
      }
      const file = await modelFile(await artifact);
      failed.delete(key);
      return file;
    } catch (error) {
      failed.set(key, { error, at: options.now() });
      throw error;
    }
  };
}

/** The header a caller sends to stay on one arm (a user or session id); the log keeps its hash, never the key. */
export const ROUTING_KEY_HEADER = 'x-mlops-routing-key';
/** Routing keys are short opaque strings: a user id, a session id. */
export const MAX_ROUTING_KEY_LENGTH = 256;
/** The headers every served answer carries: who answered. */
export const SERVED_BY_HEADERS = { model: 'x-mlops-model', version: 'x-mlops-version', arm: 'x-mlops-arm' } as const;

/**
 * A routing key's place in [0, 1), stable across requests, functions and deployments: the first
 * 52 bits of SHA-256 over the model and the key. The model is mixed in so one key's arm in one
 * model says nothing about its arm in another.
 */
export function routingPoint(model: string, key: string): number {
  return parseInt(memoizedSha256(`${model}\n${key}`).slice(0, 13), 16) / 2 ** 52;
}

/** The routing key as the log keeps it (never the key itself): its hex SHA-256. Erasing a subject's records goes by it. */
export const routingKeyHash = (key: string): string => memoizedSha256(key);

/** Callers send the same keys again and again: a warm function keeps the last hashes (bounded, so made-up keys cannot grow memory). */
const MAX_MEMOIZED_HASHES = 10_000;
const hashes = new Map<string, string>();
function memoizedSha256(text: string): string {
  let hash = hashes.get(text);
  if (hash === undefined) {
    if (hashes.size >= MAX_MEMOIZED_HASHES) hashes.clear();
    hash = sha256Hex(text);
    hashes.set(text, hash);
  }
  return hash;
}

export interface ArmChoice {
  /** Who answers the caller. */
  readonly answer: 'production' | 'canary';
  /** Whether the shadow scores this request too. */
  readonly shadow: boolean;
  /** Whether this request's records go into the prediction log (one decision for every arm). */
  readonly logged: boolean;
}

/**
 * Picks the arms of one request. With a routing key the canary takes the keys whose point is below
 * its weight, so a key stays on its arm, and raising the weight only adds keys to the canary;
 * without a key the point is random. The shadow's share and the log's sampling are per request.
 */
export function chooseArms(state: RoutingState, routingKey: string | undefined, random: () => number): ArmChoice {
  const point = routingKey === undefined ? random() : routingPoint(state.model, routingKey);
  return {
    answer: state.canary && point < state.canary.weight ? 'canary' : 'production',
    shadow: state.shadow !== undefined && random() < state.shadowSample,
    logged: random() < state.logging.sampleRate,
  };
}
