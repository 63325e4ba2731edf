import { z } from 'zod';
import { parseDecimal } from '../data/profile.js';
import { labelText } from '../data/table.js';
import { InputValidationError, MlopsError, NotFoundError, zodIssues } from '../errors.js';
import { isClassification, type Task } from '../training/model-spec.js';
import type { ArtifactRef } from '../training/run.js';
import type { ModelFile } from './model-file.js';
import { MAX_INSTANCES } from './predict.js';
import type { FeedbackRecord, RequestIndexEntry } from './records.js';

/**
 * Ground truth from callers: `POST /models/{model}/feedback` with one label
 * `{ requestId, row?, label }` or a batch `{ labels: [ ...up to 1,000 of those ] }`. Each label is
 * checked against the request index (was this id issued for this model, and is it still known?),
 * against the request (row within its rows) and against the model that answered it (a class of
 * that version, or a finite number for regression). Accepted labels become FeedbackRecords on the
 * feedback stream (Firehose, next to the prediction log); every other label is reported, never
 * dropped in silence.
 */

/** The most labels one request may carry: a batch's answer lists every refused one, and 1,000 keeps it small. */
export const MAX_FEEDBACK_LABELS = 1000;
/**
 * The largest body the feedback route reads. 1,000 labels of the longest request id (128) and
 * class label (256) are under 450 KB; anything bigger is not a feedback request.
 */
export const MAX_FEEDBACK_BODY_BYTES = 1024 * 1024;
/** How many label marks are written at once: DynamoDB has no conditional batch write. */
const MARK_CONCURRENCY = 25;

/** Request ids as serving issues them (API Gateway's UUIDs): no `#`, which separates the parts of a label mark's key. */
export const REQUEST_ID = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'must be a request id as the predict route answered it (letters, digits, ".", "_", ":", "-"; at most 128)');

/** One label: `row` indexes an `instances` request (0, the default, for an `inputs` one). */
export const FeedbackLabelSchema = z
  .object({
    requestId: REQUEST_ID,
    row: z.number().int().min(0).max(MAX_INSTANCES - 1).optional(),
    /** A class label (text; numbers and booleans are read as text, as the trainer reads a target) or a regression value. */
    label: z.union([z.string().min(1).max(256), z.number().finite(), z.boolean()], { error: 'expected a class label (text) or a finite number' }),
  })
  .strict();
export type FeedbackLabel = z.infer<typeof FeedbackLabelSchema>;

/** The batch form; its items are checked one by one, so one bad label does not hide the others. */
const FeedbackBatchSchema = z
  .object({ labels: z.array(z.unknown()).min(1, 'send at least one label').max(MAX_FEEDBACK_LABELS, `at most ${MAX_FEEDBACK_LABELS} labels per request; send more in several requests`) })
  .strict();

/** A label's place: which request, which row, and its position in the body. */
export const LabelRefSchema = z.object({ index: z.number().int().min(0), requestId: z.string(), row: z.number().int().min(0) });
export type LabelRef = z.infer<typeof LabelRefSchema>;
export const InvalidLabelSchema = z.object({ index: z.number().int().min(0), field: z.string(), problem: z.string() });
export type InvalidLabel = z.infer<typeof InvalidLabelSchema>;

/** The answer of the feedback route (200; a 400 carries the same fields beside its `error`). */
export const FeedbackAnswerSchema = z.object({
  model: z.string(),
  accepted: z.number().int().min(0),
  unknown: z.array(LabelRefSchema),
  duplicates: z.array(LabelRefSchema),
  invalid: z.array(InvalidLabelSchema),
  counts: z.object({
    received: z.number().int().min(0),
    accepted: z.number().int().min(0),
    unknown: z.number().int().min(0),
    duplicates: z.number().int().min(0),
    invalid: z.number().int().min(0),
  }),
});
export type FeedbackAnswer = z.infer<typeof FeedbackAnswerSchema>;

/**
 * The labels of a body, each parsed or refused with its index: a body that is not one of the two
 * forms (not an object, an unknown field beside `labels`, more than 1,000 labels) is refused whole.
 */
export function parseFeedbackBody(body: unknown): { labels: { index: number; label: FeedbackLabel }[]; invalid: InvalidLabel[]; received: number } {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InputValidationError('expected a JSON object: { "requestId", "row"?, "label" } or { "labels": [ ... ] }', { field: '(root)' });
  }
  let items: unknown[] = [body];
  if (Object.hasOwn(body, 'labels')) {
    const batch = FeedbackBatchSchema.safeParse(body);
    if (!batch.success) {
      const [first] = zodIssues(batch.error);
      throw new InputValidationError(`invalid feedback batch: ${first!.field}: ${first!.problem}`, { field: first!.field });
    }
    items = batch.data.labels;
  }
  const labels: { index: number; label: FeedbackLabel }[] = [];
  const invalid: InvalidLabel[] = [];
  items.forEach((item, index) => {
    const parsed = FeedbackLabelSchema.safeParse(item);
    if (parsed.success) labels.push({ index, label: parsed.data });
    else invalid.push(...zodIssues(parsed.error).map(({ field, problem }) => ({ index, field, problem })));
  });
  return { labels, invalid, received: items.length };
}

/** What a label is checked against: the task, and for classification the classes of the version that answered. */
export interface LabelDomain {
  readonly task: Task;
  readonly classes?: readonly string[];
  readonly version: number;
}

/**
 * A label as the monitoring join compares it: a class as text, exactly as the trainer reads a
 * target cell (numbers and booleans as their text, surrounding spaces trimmed), or a regression
 * value as a number (decimal text is read as the trainer reads it).
 */
export function normalizeLabel(label: FeedbackLabel['label'], domain: LabelDomain): { ok: true; value: string | number } | { ok: false; problem: string } {
  if (!isClassification(domain.task)) {
    const value = typeof label === 'number' ? label : typeof label === 'string' ? parseDecimal(label) : NaN;
    return Number.isFinite(value) ? { ok: true, value } : { ok: false, problem: 'a regression label is a finite number' };
  }
  const text = labelText(typeof label === 'boolean' ? String(label) : label);
  if (domain.classes?.includes(text)) return { ok: true, value: text };
  const known = domain.classes ?? [];
  const shown = known.slice(0, 10).map((c) => JSON.stringify(c)).join(', ') + (known.length > 10 ? ', ...' : '');
  return { ok: false, problem: `${JSON.stringify(text.slice(0, 64))} is not a class of version ${domain.version} (classes: ${shown})` };
}

/** An issued request as the index knows it, with the time (epoch seconds) DynamoDB's TTL removes it. */
export type IndexedRequest = RequestIndexEntry & { readonly expiresAt: number };

/** A (request, row) pair: the unit a label is deduplicated by. */
export interface LabelKey {
  readonly requestId: string;
  readonly row: number;
}
export const labelKeyText = (key: LabelKey) => `${key.requestId}#${key.row}`;

/** What the feedback flow reads and writes. */
export interface FeedbackStores {
  readonly registry: {
    findModel(model: string): Promise<{ spec: { task: Task } } | undefined>;
    getVersion(model: string, version: number): Promise<{ artifact: ArtifactRef }>;
  };
  /** A version's model file (for its classes); a warm function keeps them per sha256. */
  modelFile(artifact: ArtifactRef): Promise<ModelFile>;
  readonly requestIndex: {
    /** The index entries of these ids; an id absent from the map was never issued or is gone. */
    findRequests(requestIds: readonly string[]): Promise<Map<string, IndexedRequest>>;
    /** Whether each of these pairs was labelled before, in their order. */
    labelled(keys: readonly LabelKey[]): Promise<boolean[]>;
    /** Marks a pair as labelled unless it is already: false when it was (a concurrent sender won). */
    markLabelled(key: LabelKey, expiresAt: number): Promise<boolean>;
  };
  /** The feedback stream (Firehose to the prediction-logs bucket). Throws when a record was not taken. */
  readonly feedback: { send(records: readonly FeedbackRecord[]): Promise<void> };
}

export interface FeedbackOutcome {
  readonly answer: FeedbackAnswer;
  /** Set when nothing of the body is stored (no label accepted now or before): the request is refused with this. */
  readonly refusal?: { code: string; message: string; field: string };
  /** Labels stored whose mark could not be written: a resend would store them again (the join keeps the first). */
  readonly unmarked: number;
}

/**
 * Records a body of feedback for `model`, sent by `actor`:
 * 1. parse the body; labels of the wrong shape are `invalid`;
 * 2. look up every request id in the index, and every (request, row) pair among the labelled
 *    ones (two batched reads): an id not issued for this model, or past its TTL, is `unknown`
 *    (sampling is irrelevant: the index holds every answered request);
 * 3. check the row against the request's rows and the label against the answering version;
 * 4. a pair labelled before, or twice in this body, is a `duplicate` (the first one in the body counts);
 * 5. send the accepted records to the feedback stream, THEN mark each pair with a conditional put.
 *
 * Why send first, mark second: a mark written before a failed send would turn every retry of that
 * label into a "duplicate" although nothing was stored, losing it for good. Sending first can at
 * worst store a label twice (a crash between send and mark, then a resend; or two senders racing
 * past step 4), which the monitoring join removes by keeping the first record per (requestId, row).
 * A sender that loses the race for the mark is told its label is a duplicate.
 */
export async function recordFeedback(stores: FeedbackStores, input: { model: string; body: unknown; actor: string; now: Date }): Promise<FeedbackOutcome> {
  const { model, actor, now } = input;
  const found = await stores.registry.findModel(model);
  if (!found) throw new NotFoundError(`no model named "${model}"`, { field: 'model' });
  const { labels, invalid, received } = parseFeedbackBody(input.body);

  const keys = labels.map(({ label }) => ({ requestId: label.requestId, row: label.row ?? 0 }));
  const unique = uniqueKeys(keys);
  const [requests, marked] = await Promise.all([
    stores.requestIndex.findRequests([...new Set(keys.map((key) => key.requestId))]),
    stores.requestIndex.labelled(unique),
  ]);
  const labelledBefore = new Set(unique.filter((_, i) => marked[i]).map(labelKeyText));

  const nowSeconds = Math.floor(now.getTime() / 1000);
  const domains = versionDomains(stores, model, found.spec.task);
  const unknown: LabelRef[] = [];
  const duplicates: LabelRef[] = [];
  const accepted: { ref: LabelRef; record: FeedbackRecord; expiresAt: number }[] = [];
  const inBody = new Set<string>();
  for (const [i, { index, label }] of labels.entries()) {
    const key = keys[i]!;
    const ref = { index, ...key };
    const entry = requests.get(key.requestId);
    // DynamoDB deletes expired items only eventually (within days): past its TTL an id is unknown already.
    if (!entry || entry.model !== model || entry.expiresAt <= nowSeconds) {
      unknown.push(ref);
      continue;
    }
    if (key.row >= entry.rows) {
      invalid.push({ index, field: 'row', problem: `request ${key.requestId} has ${entry.rows} row(s): row must be below ${entry.rows}` });
      continue;
    }
    const checked = normalizeLabel(label.label, await domains(entry.version));
    if (!checked.ok) {
      invalid.push({ index, field: 'label', problem: checked.problem });
      continue;
    }
    const text = labelKeyText(key);
    if (labelledBefore.has(text) || inBody.has(text)) {
      duplicates.push(ref);
      continue;
    }
    inBody.add(text);
    accepted.push({
      ref,
      expiresAt: entry.expiresAt,
      record: { requestId: key.requestId, row: key.row, model, version: entry.version, arm: entry.arm, label: checked.value, at: now.toISOString(), actor },
    });
  }

  if (accepted.length > 0) {
    try {
      await stores.feedback.send(accepted.map((a) => a.record));
    } catch (error) {
      throw new MlopsError('FEEDBACK_NOT_STORED', 'the labels could not be stored (feedback stream unavailable); nothing was recorded as labelled: send the same request again', { field: 'labels', cause: error });
    }
  }
  let unmarked = 0;
  const lost = new Set<number>();
  await eachLimited(accepted, MARK_CONCURRENCY, async ({ ref, expiresAt }, i) => {
    try {
      if (!(await stores.requestIndex.markLabelled(ref, expiresAt))) lost.add(i);
    } catch {
      // Stored but unmarked: a resend would be accepted again and stored twice, which the join drops.
      unmarked += 1;
    }
  });
  for (const i of lost) duplicates.push(accepted[i]!.ref);
  const acceptedCount = accepted.length - lost.size;

  invalid.sort((a, b) => a.index - b.index);
  duplicates.sort((a, b) => a.index - b.index);
  const answer: FeedbackAnswer = {
    model,
    accepted: acceptedCount,
    unknown,
    duplicates,
    invalid,
    counts: { received, accepted: acceptedCount, unknown: unknown.length, duplicates: duplicates.length, invalid: new Set(invalid.map((p) => p.index)).size },
  };
  return { answer, unmarked, ...(acceptedCount === 0 && duplicates.length === 0 ? { refusal: refusalOf(answer) } : {}) };
}

/**
 * Nothing of the body is stored, now or before: the caller must fix it (400). A body whose good
 * labels are all stored (accepted now, or duplicates of stored ones) is answered 200 with the report,
 * so a resent request that was stored already succeeds.
 */
function refusalOf(answer: FeedbackAnswer): { code: string; message: string; field: string } {
  const first = answer.invalid[0];
  if (first) {
    const where = answer.counts.received > 1 ? `labels.${first.index}.${first.field}` : first.field;
    return { code: 'INVALID_INPUT', message: `no label accepted: ${answer.counts.invalid} invalid, ${answer.counts.unknown} unknown; first: ${where}: ${first.problem}`, field: where };
  }
  const ref = answer.unknown[0]!;
  return {
    code: 'UNKNOWN_REQUEST_ID',
    message: `no label accepted: ${answer.counts.unknown} unknown request id(s), first ${ref.requestId}: not issued for model ${answer.model}, or older than the request index keeps ids`,
    field: answer.counts.received > 1 ? `labels.${ref.index}.requestId` : 'requestId',
  };
}

function uniqueKeys(keys: readonly LabelKey[]): LabelKey[] {
  const byText = new Map(keys.map((key) => [labelKeyText(key), key]));
  return [...byText.values()];
}

/** The label domain of each version that answered, read once per call (and the model file once per warm function). */
function versionDomains(stores: FeedbackStores, model: string, task: Task): (version: number) => Promise<LabelDomain> {
  const domains = new Map<number, Promise<LabelDomain>>();
  return (version) => {
    let domain = domains.get(version);
    if (!domain) {
      // Regression needs no file: any finite number is a label. A class must be one the answering version knows.
      domain = isClassification(task)
        ? stores.registry.getVersion(model, version).then(async ({ artifact }) => {
            const file = await stores.modelFile(artifact);
            const own = file.kind === 'builtin' ? file.artifact : file.manifest;
            return { task: own.task, version, ...(own.classes ? { classes: own.classes } : {}) };
          })
        : Promise.resolve({ task, version });
      domains.set(version, domain);
    }
    return domain;
  };
}

async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
