import type { z } from 'zod';
import type { AuditAnswerSchema, DecisionAnswer, GateReportAnswer, ModelDetail, PromoteAnswer, RollbackAnswer, RolloutStatus } from '../../../lambdas/contract/registry.js';
import type { DriftCheckAnswer, DriftCheckList } from '../../../lambdas/contract/drift.js';
import type { ComparisonSchema, ReportAnswerSchema, RunDetail, RunListAnswerSchema } from '../../../lambdas/contract/runs.js';
import type { DatasetLineage, ModelSummary, VersionLineage } from '../../../lambdas/core/registry/records.js';
import type { DatasetSummary, DatasetVersion } from '../../../lambdas/core/data/dataset-version.js';
import type { DatasetProfile } from '../../../lambdas/core/data/profile.js';

/**
 * The console's only way out: the local server's /api relay (lib/client/console-server.ts), which
 * signs each call with the user's credentials. The page holds the session token the server put in
 * it, never a credential. Answers are typed with the contract's types (type imports only: the
 * schemas and the modules they pull in stay out of the browser bundle; the server parses nothing,
 * it relays the API's own answers).
 */

/** An error answer of the API (or the relay), with its code and message: shown as they are. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const meta = (name: string) => document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? '';
const SESSION = () => meta('mlops-session');
export const ENVIRONMENT = () => meta('mlops-environment');

export async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const response = await fetch(`/api${path}`, {
    method,
    headers: { 'x-mlops-session': SESSION(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    credentials: 'same-origin',
  });
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // Not JSON: the message is the text.
  }
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error;
    throw new ApiError(error?.code ?? `HTTP_${response.status}`, error?.message ?? (text.slice(0, 300) || response.statusText), response.status, error?.field);
  }
  return parsed as T;
}

const m = (model: string) => `/models/${encodeURIComponent(model)}`;
const e = encodeURIComponent;

export type RunList = z.output<typeof RunListAnswerSchema>;
export type RunRecord = RunList['runs'][number];
export type Comparison = z.output<typeof ComparisonSchema>;
export type ReportAnswer = z.output<typeof ReportAnswerSchema>;
export type AuditEvent = z.output<typeof AuditAnswerSchema>['events'][number];
export interface RunFilter {
  model: string;
  status?: string;
  since?: string;
  until?: string;
  limit?: number;
}

/** The management API's routes the console reads and acts through (lambdas/contract/routes.ts). */
export const api = {
  models: async () => (await request<{ models: ModelSummary[] }>('GET', '/models')).models,
  model: (model: string) => request<ModelDetail>('GET', m(model)),
  audit: async (model: string) => (await request<{ events: AuditEvent[] }>('GET', `${m(model)}/audit`)).events,
  gateReport: (model: string, version: string | number) => request<GateReportAnswer>('GET', `${m(model)}/versions/${e(String(version))}/gate-report`),
  versionLineage: (model: string, version: string | number) => request<VersionLineage>('GET', `${m(model)}/versions/${e(String(version))}/lineage`),
  runs: async (filter: RunFilter) => {
    const query = new URLSearchParams({ model: filter.model });
    for (const key of ['status', 'since', 'until'] as const) if (filter[key]) query.set(key, filter[key]!);
    if (filter.limit) query.set('limit', String(filter.limit));
    return (await request<RunList>('GET', `/runs?${query}`)).runs;
  },
  run: (runId: string) => request<RunDetail>('GET', `/runs/${e(runId)}`),
  runReport: (runId: string, kind: 'validation' | 'gate') => request<ReportAnswer>('GET', `/runs/${e(runId)}/reports/${kind}`),
  compare: (runIds: string[]) => request<Comparison>('POST', '/runs/compare', { runIds }),
  datasets: async () => (await request<{ datasets: DatasetSummary[] }>('GET', '/datasets')).datasets,
  datasetVersions: async (name: string) => (await request<{ versions: DatasetVersion[] }>('GET', `/datasets/${e(name)}/versions`)).versions,
  dataset: (name: string, version: string) => request<DatasetVersion>('GET', `/datasets/${e(name)}/versions/${e(version)}`),
  profile: async (name: string, version: string) => (await request<{ profile: DatasetProfile }>('GET', `/datasets/${e(name)}/versions/${e(version)}/profile`)).profile,
  datasetLineage: (name: string, version: string) => request<DatasetLineage>('GET', `/datasets/${e(name)}/versions/${e(version)}/lineage`),
  driftChecks: (model: string, limit = 20) => request<DriftCheckList>('GET', `${m(model)}/drift-checks?limit=${limit}`),
  driftCheck: (model: string, checkId: string) => request<DriftCheckAnswer>('GET', `${m(model)}/drift-checks/${e(checkId)}`),
  rollout: (model: string) => request<RolloutStatus>('GET', `${m(model)}/rollout`),
  approve: (model: string, version: number, reason: string) => request<DecisionAnswer>('POST', `${m(model)}/versions/${version}/approve`, { reason }),
  reject: (model: string, version: number, reason: string) => request<DecisionAnswer>('POST', `${m(model)}/versions/${version}/reject`, { reason }),
  promote: (model: string, version: number, alias: string, reason: string) => request<PromoteAnswer>('POST', `${m(model)}/aliases/${e(alias)}`, { version, reason }),
  rollback: (model: string, reason: string) => request<RollbackAnswer>('POST', `${m(model)}/rollback`, { reason }),
};
