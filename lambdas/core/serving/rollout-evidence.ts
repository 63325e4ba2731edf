import type { z } from 'zod';
import { FeedbackRecordSchema, logPrefix, PredictionLogRecordSchema, type FeedbackRecord, type PredictionLogRecord } from './records.js';

/**
 * What a rollout check reads: the bake window of the prediction log for both arms, and the
 * feedback for those requests, from S3 (Firehose writes them as JSON Lines, partitioned by model,
 * version and date).
 *
 * The delivery buffer: on AWS, Firehose holds records up to its buffer interval (60-900 s) before
 * it writes an object, so the last `bufferSeconds` before now may not have landed yet. A check
 * therefore reads the window [since, now - bufferSeconds], and the state machine waits
 * bake + bufferSeconds before the first check of a step, so that window spans the whole bake.
 * The emulator writes at once (buffer 0 locally).
 */

export interface CheckWindow {
  from: string;
  to: string;
}

/** The window a check may trust: from the step's start to `bufferSeconds` before now (empty, never reversed, when too early). */
export function checkWindow(since: string, now: Date, bufferSeconds: number): CheckWindow {
  const from = Date.parse(since);
  const to = Math.max(from, now.getTime() - bufferSeconds * 1000);
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

/** The UTC days (yyyy-MM-dd) a window's records may be filed under: from its start to `until` (records land after they happen). */
export function windowDates(window: CheckWindow, until: Date): string[] {
  const dates: string[] = [];
  const day = new Date(`${window.from.slice(0, 10)}T00:00:00.000Z`);
  const last = until.toISOString().slice(0, 10);
  for (let guard = 0; guard < 400; guard += 1) {
    const date = day.toISOString().slice(0, 10);
    dates.push(date);
    if (date >= last) break;
    day.setUTCDate(day.getUTCDate() + 1);
  }
  return dates;
}

const inWindow = (at: string, window: CheckWindow) => {
  const time = Date.parse(at);
  return time >= Date.parse(window.from) && time <= Date.parse(window.to);
};

/**
 * Parses JSON Lines from a stream of byte chunks, one record at a time (a line may span chunks),
 * keeping the records `keep` accepts. A line that is not JSON, or not a record of `schema`, is
 * skipped and counted: one bad record never hides the rest.
 */
export async function readJsonLines<S extends z.ZodType>(
  chunks: AsyncIterable<Uint8Array>,
  schema: S,
  keep: (record: z.output<S>) => boolean,
  sink: (record: z.output<S>) => void,
): Promise<{ lines: number; bad: number }> {
  const decoder = new TextDecoder('utf-8');
  let pending = '';
  let lines = 0;
  let bad = 0;
  const take = (line: string) => {
    const text = line.trim();
    if (!text) return;
    lines += 1;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      bad += 1;
      return;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      bad += 1;
      return;
    }
    if (keep(parsed.data)) sink(parsed.data);
  };
  for await (const chunk of chunks) {
    pending += decoder.decode(chunk, { stream: true });
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      take(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
    }
  }
  take(pending + decoder.decode());
  return { lines, bad };
}

/** The prediction-logs bucket, as the check reads it (ObjectStore over one bucket implements it). */
export interface LogObjects {
  /** Keys under a prefix, with when each object was written (and its size, which the drift check's Athena switch reads). */
  list(prefix: string): Promise<{ key: string; lastModified?: Date | undefined; size?: number | undefined }[]>;
  stream(key: string): AsyncIterable<Uint8Array>;
}

export interface ArmEvidence {
  version: number;
  arm: 'production' | 'canary' | 'shadow';
  /** The arm's records in the window, inputs emptied (the check does not use them, and they may be large). */
  records: PredictionLogRecord[];
  /** Labels that arrived for these requests. */
  labels: FeedbackRecord[];
}

export interface ReadStats {
  objects: number;
  lines: number;
  badLines: number;
}

/** The objects of one kind, model and version filed under the window's dates; objects written before the window began cannot hold its records. */
export function logObjectsUnder(logs: LogObjects, model: string, version: number, window: CheckWindow, dates: readonly string[]) {
  const since = Date.parse(window.from);
  return async (kind: 'predictions' | 'feedback') =>
    (await Promise.all(dates.map((date) => logs.list(logPrefix(kind, model, version, date))))).flat().filter((object) => !object.lastModified || object.lastModified.getTime() >= since);
}

/**
 * Streams the window's prediction-log records of one version and arm (every arm when `arm` is
 * absent) to `sink`, object by object (partition by partition), one record at a time: memory stays
 * bounded by what the sink keeps.
 */
export async function streamArm(
  logs: LogObjects,
  model: string,
  side: { version: number; arm?: ArmEvidence['arm'] | undefined },
  window: CheckWindow,
  dates: readonly string[],
  stats: ReadStats,
  sink: (record: PredictionLogRecord) => void,
): Promise<void> {
  for (const object of await logObjectsUnder(logs, model, side.version, window, dates)('predictions')) {
    stats.objects += 1;
    const read = await readJsonLines(
      logs.stream(object.key),
      PredictionLogRecordSchema,
      (record) => record.model === model && record.version === side.version && (side.arm === undefined || record.arm === side.arm) && inWindow(record.at, window),
      sink,
    );
    stats.lines += read.lines;
    stats.badLines += read.bad;
  }
}

/**
 * Reads the window's records of one version and arm (and the feedback for them). Objects written
 * before the window began cannot hold its records and are not read.
 */
async function readArm(logs: LogObjects, model: string, side: { version: number; arm: ArmEvidence['arm'] }, window: CheckWindow, dates: string[], stats: ReadStats): Promise<ArmEvidence> {
  const evidence: ArmEvidence = { ...side, records: [], labels: [] };
  await streamArm(logs, model, side, window, dates, stats, (record) => evidence.records.push({ ...record, inputs: [] }));
  if (evidence.records.length === 0) return evidence;
  const objectsUnder = logObjectsUnder(logs, model, side.version, window, dates);
  const ids = new Set(evidence.records.map((record) => record.requestId));
  for (const object of await objectsUnder('feedback')) {
    stats.objects += 1;
    const read = await readJsonLines(
      logs.stream(object.key),
      FeedbackRecordSchema,
      (record) => record.model === model && ids.has(record.requestId),
      (record) => evidence.labels.push(record),
    );
    stats.lines += read.lines;
    stats.badLines += read.bad;
  }
  return evidence;
}

/**
 * Both arms of a check: production against the canary (different requests) or against the shadow
 * (the same requests, scored twice).
 */
export async function readArms(
  logs: LogObjects,
  input: { model: string; production: number; version: number; mode: 'canary' | 'shadow'; window: CheckWindow; now: Date },
): Promise<{ baseline: ArmEvidence; candidate: ArmEvidence; stats: ReadStats }> {
  const stats: ReadStats = { objects: 0, lines: 0, badLines: 0 };
  const dates = windowDates(input.window, input.now);
  const [baseline, candidate] = await Promise.all([
    readArm(logs, input.model, { version: input.production, arm: 'production' }, input.window, dates, stats),
    readArm(logs, input.model, { version: input.version, arm: input.mode }, input.window, dates, stats),
  ]);
  return { baseline, candidate, stats };
}
