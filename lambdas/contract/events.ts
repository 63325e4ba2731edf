/**
 * The registry's events: what the platform publishes to its EventBridge bus for every registry
 * change, and what `GET /events` answers (`mlops events tail`). The schema is versioned and
 * documented in docs/DELIVERY.md ("Registry events"); consumers match on `source` and
 * `detail-type` and drop duplicates by `detail.eventId` (delivery is at least once).
 * Version 1 only ever grows by optional fields; a breaking change gets `schemaVersion: 2`.
 */
import { z } from 'zod';
import { ENVIRONMENT_NAMES } from '../core/environments.js';
import { ALIASES } from '../core/registry/keys.js';
import { AUDIT_ACTIONS } from '../core/registry/records.js';
import { MODEL_NAME } from '../core/training/run.js';

/** The `source` of every registry event. */
export const REGISTRY_EVENT_SOURCE = 'serverless-mlops.registry';
export const REGISTRY_EVENT_SCHEMA_VERSION = 1;

/** A drift check's verdict; every other event type is the audit action of the change it reports. */
export const DRIFT_CHECKED = 'drift.checked';
export const REGISTRY_EVENT_TYPES = [...AUDIT_ACTIONS, DRIFT_CHECKED] as const;
export type RegistryEventType = (typeof REGISTRY_EVENT_TYPES)[number];

/** The `detail` of a registry event. Its `detail-type` equals `type`. */
export const RegistryEventDetailSchema = z.object({
  schemaVersion: z.literal(REGISTRY_EVENT_SCHEMA_VERSION),
  /** The audit event's id (a drift verdict: the check's id): unique per change, the key to drop duplicates by. */
  eventId: z.string().min(1),
  type: z.enum(REGISTRY_EVENT_TYPES),
  /** When the change committed (ISO 8601). */
  at: z.string(),
  /** The environment whose registry changed (the stack's `Mlops-<environment>`). */
  environment: z.enum(ENVIRONMENT_NAMES),
  model: MODEL_NAME,
  /** The version the change is about; null for model-level changes. */
  version: z.number().int().positive().nullable(),
  /** The alias that moved, was rolled back or stepped (canary, shadow); null when none did. */
  alias: z.enum(ALIASES).nullable(),
  /** The state before and after the change, as the audit log holds it (an alias, a rollout phase, a verdict). */
  before: z.unknown(),
  after: z.unknown(),
  /** The IAM identity (or `system:*` actor) that made the change. */
  actor: z.string(),
  reason: z.string(),
  /** True when before/after were left out because the event would pass EventBridge's 256 KB limit. */
  truncated: z.boolean().optional(),
});
export type RegistryEventDetail = z.infer<typeof RegistryEventDetailSchema>;

/**
 * `GET /events?model=&after=&limit=`: events in commit order (oldest first) after the cursor;
 * `cursor` is what the next call passes as `after` (unchanged when nothing new came).
 */
export const EventsAnswerSchema = z.object({ events: z.array(RegistryEventDetailSchema), cursor: z.string() });
export type EventsAnswer = z.infer<typeof EventsAnswerSchema>;

/** Which registry events a subscription (a rule on the bus, a webhook) receives. */
export interface RegistryEventFilter {
  /** The `detail-type`s. */
  readonly types: readonly RegistryEventType[];
  /** Only these models' events. @default every model's */
  readonly models?: readonly string[];
  /** Only events about this alias (e.g. production for promotions and rollbacks). @default any */
  readonly alias?: (typeof ALIASES)[number];
}

/** The EventBridge event pattern of a filter: what a rule on the platform's bus matches. */
export function registryEventPattern(filter: RegistryEventFilter): Record<string, unknown> {
  const detail = {
    ...(filter.models?.length ? { model: [...filter.models] } : {}),
    ...(filter.alias ? { alias: [filter.alias] } : {}),
  };
  return { source: [REGISTRY_EVENT_SOURCE], 'detail-type': [...filter.types], ...(Object.keys(detail).length ? { detail } : {}) };
}
