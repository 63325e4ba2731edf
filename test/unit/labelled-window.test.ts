import { describe, expect, it } from 'vitest';
import { readLabelledWindow, type LabelledRow } from '../../lambdas/core/monitoring/labelled-window.js';
import { logPrefix, type FeedbackRecord, type PredictionLogRecord } from '../../lambdas/core/serving/records.js';
import { MemoryLogs } from './rollout-fakes.js';

const MODEL = 'churn';
const WINDOW = { from: '2026-12-01T10:00:00.000Z', to: '2026-12-02T10:00:00.000Z' };
const UNTIL = new Date('2026-12-04T00:00:00.000Z');

const prediction = (requestId: string, at: string, rows: number, over: Partial<PredictionLogRecord> = {}): PredictionLogRecord => ({
  requestId,
  at,
  model: MODEL,
  version: 1,
  arm: 'production',
  inputs: Array.from({ length: rows }, (_, row) => ({ x: Number(requestId.replace(/\D/g, '')) * 10 + row })),
  outputs: Array.from({ length: rows }, (_, row) => ({ label: row % 2 ? 'yes' : 'no' })),
  latencyMs: 3,
  ...over,
});
const label = (requestId: string, row: number, value: string | number, at: string, over: Partial<FeedbackRecord> = {}): FeedbackRecord => ({
  requestId,
  row,
  model: MODEL,
  version: 1,
  arm: 'production',
  label: value,
  at,
  actor: 'arn:aws:iam::000000000000:user/alice',
  ...over,
});

/** Files records as Firehose does: predictions under the day they happened, labels under the day they ARRIVED. */
function fileLog(logs: MemoryLogs, kind: 'predictions' | 'feedback', records: (PredictionLogRecord | FeedbackRecord)[], name: string, written: string) {
  const first = records[0]!;
  logs.put(`${logPrefix(kind, first.model, first.version, first.at.slice(0, 10))}${name}`, records, new Date(written));
}

async function join(logs: MemoryLogs, select: Parameters<typeof readLabelledWindow>[2] = {}, window = WINDOW, until = UNTIL) {
  const rows: LabelledRow[] = [];
  const read = await readLabelledWindow(logs, MODEL, select, window, until, (row) => rows.push(row));
  return { rows, read };
}

describe('the labelled-window join (predictions in a window joined with their feedback by request id and row)', () => {
  it('hands every labelled row of the window to onRow with its input, output and first label, and counts the unlabelled', async () => {
    const logs = new MemoryLogs();
    fileLog(logs, 'predictions', [prediction('r1', '2026-12-01T11:00:00.000Z', 2), prediction('r2', '2026-12-01T12:00:00.000Z', 1)], 'a', '2026-12-01T12:01:00.000Z');
    fileLog(logs, 'predictions', [prediction('r3', '2026-12-02T09:00:00.000Z', 1)], 'b', '2026-12-02T09:01:00.000Z');
    // r1 row 1 is labelled the next day; r3 two days later (filed under the arrival day, after the window's end).
    fileLog(logs, 'feedback', [label('r1', 0, 'no', '2026-12-01T13:00:00.000Z')], 'f1', '2026-12-01T13:01:00.000Z');
    fileLog(logs, 'feedback', [label('r1', 1, 'yes', '2026-12-02T13:00:00.000Z')], 'f2', '2026-12-02T13:01:00.000Z');
    fileLog(logs, 'feedback', [label('r3', 0, 'yes', '2026-12-03T08:00:00.000Z')], 'f3', '2026-12-03T08:01:00.000Z');

    const { rows, read } = await join(logs, { version: 1, arm: 'production' });
    expect(read).toMatchObject({ rows: 4, labelled: 3, duplicateLabels: 0, repeatedRows: 0, labelsRead: 3, versions: [1] });
    expect(read.stats.badLines).toBe(0);
    expect(rows.map((r) => [r.requestId, r.row, r.input.x, r.output, r.label])).toEqual([
      ['r1', 0, 10, { label: 'no' }, 'no'],
      ['r1', 1, 11, { label: 'yes' }, 'yes'],
      ['r3', 0, 30, { label: 'no' }, 'yes'],
    ]);
    expect(rows[2]).toMatchObject({ version: 1, arm: 'production', at: '2026-12-02T09:00:00.000Z', labelledAt: '2026-12-03T08:00:00.000Z' });
  });

  it('sees only labels that arrived by `until`, and only predictions inside the window', async () => {
    const logs = new MemoryLogs();
    fileLog(logs, 'predictions', [prediction('r1', '2026-12-01T11:00:00.000Z', 1), prediction('r9', '2026-12-02T11:00:00.000Z', 1)], 'a', '2026-12-02T11:01:00.000Z');
    fileLog(logs, 'feedback', [label('r1', 0, 'no', '2026-12-03T08:00:00.000Z'), label('r9', 0, 'no', '2026-12-02T12:00:00.000Z')], 'f', '2026-12-03T08:01:00.000Z');
    // r9 happened after the window's end: not a row of the window.
    expect((await join(logs)).read).toMatchObject({ rows: 1, labelled: 1 });
    // Judged before r1's label arrived: the row is unlabelled.
    const early = await join(logs, {}, WINDOW, new Date('2026-12-02T20:00:00.000Z'));
    expect(early.read).toMatchObject({ rows: 1, labelled: 0 });
  });

  it('keeps the first label of a row by arrival time and counts the others; a repeated prediction record yields its rows once', async () => {
    const logs = new MemoryLogs();
    const record = prediction('r1', '2026-12-01T11:00:00.000Z', 1);
    fileLog(logs, 'predictions', [record], 'a', '2026-12-01T11:01:00.000Z');
    fileLog(logs, 'predictions', [record], 'a-retry', '2026-12-01T11:02:00.000Z');
    // The later label is read first; the earlier one still wins.
    fileLog(logs, 'feedback', [label('r1', 0, 'yes', '2026-12-01T15:00:00.000Z')], 'f-a', '2026-12-01T15:01:00.000Z');
    fileLog(logs, 'feedback', [label('r1', 0, 'no', '2026-12-01T14:00:00.000Z'), label('r1', 0, 'yes', '2026-12-01T16:00:00.000Z')], 'f-b', '2026-12-01T16:01:00.000Z');
    const { rows, read } = await join(logs);
    expect(rows.map((r) => [r.label, r.labelledAt])).toEqual([['no', '2026-12-01T14:00:00.000Z']]);
    expect(read).toMatchObject({ rows: 2, labelled: 1, duplicateLabels: 2, repeatedRows: 1 });
  });

  it('reads every logged version when none is selected, and narrows to one arm when asked; a shadow row joins the label its request got', async () => {
    const logs = new MemoryLogs();
    fileLog(logs, 'predictions', [prediction('r1', '2026-12-01T11:00:00.000Z', 1)], 'a', '2026-12-01T11:01:00.000Z');
    fileLog(logs, 'predictions', [prediction('r1', '2026-12-01T11:00:00.000Z', 1, { version: 2, arm: 'shadow', outputs: [{ label: 'yes' }] })], 'a', '2026-12-01T11:01:00.000Z');
    fileLog(logs, 'predictions', [prediction('r2', '2026-12-01T12:00:00.000Z', 1, { version: 2, arm: 'canary' })], 'b', '2026-12-01T12:01:00.000Z');
    // Labels are filed under the version that answered: production v1 for r1, canary v2 for r2.
    fileLog(logs, 'feedback', [label('r1', 0, 'yes', '2026-12-01T13:00:00.000Z')], 'f', '2026-12-01T13:01:00.000Z');
    fileLog(logs, 'feedback', [label('r2', 0, 'no', '2026-12-01T13:00:00.000Z', { version: 2, arm: 'canary' })], 'f', '2026-12-01T13:01:00.000Z');

    const all = await join(logs);
    expect(all.read.versions).toEqual([1, 2]);
    expect(all.rows.map((r) => [r.requestId, r.version, r.arm, r.label])).toEqual([
      ['r1', 1, 'production', 'yes'],
      ['r1', 2, 'shadow', 'yes'],
      ['r2', 2, 'canary', 'no'],
    ]);
    const shadow = await join(logs, { version: 2, arm: 'shadow' });
    expect(shadow.rows.map((r) => [r.requestId, r.output])).toEqual([['r1', { label: 'yes' }]]);
    const production = await join(logs, { arm: 'production' });
    expect(production.rows.map((r) => r.requestId)).toEqual(['r1']);
    expect(production.read).toMatchObject({ rows: 1, labelled: 1 });
  });

  it('skips bad lines and other models, gives a failed arm no output, and reads no object written before the window', async () => {
    const logs = new MemoryLogs();
    const failed = prediction('r1', '2026-12-01T11:00:00.000Z', 1, { outputs: [], error: { code: 'MODEL_LOAD_FAILED', message: 'x' } });
    logs.put(`${logPrefix('predictions', MODEL, 1, '2026-12-01')}a`, [failed, 'not json', { requestId: 'r2' }], new Date('2026-12-01T11:01:00.000Z'));
    logs.put(`${logPrefix('predictions', MODEL, 1, '2026-12-01')}old`, [prediction('r0', '2026-12-01T09:00:00.000Z', 1)], new Date('2026-12-01T09:01:00.000Z'));
    fileLog(logs, 'feedback', [label('r1', 0, 'no', '2026-12-01T13:00:00.000Z'), label('r1', 0, 'x', '2026-12-01T12:00:00.000Z', { model: 'other' })], 'f', '2026-12-01T13:01:00.000Z');
    fileLog(logs, 'feedback', [label('r0', 0, 'no', '2026-12-01T09:30:00.000Z')], 'old', '2026-12-01T09:31:00.000Z');
    const { rows, read } = await join(logs);
    expect(rows).toEqual([expect.objectContaining({ requestId: 'r1', output: undefined, label: 'no' })]);
    expect(read).toMatchObject({ rows: 1, labelled: 1, labelsRead: 1, duplicateLabels: 0 });
    expect(read.stats).toMatchObject({ objects: 2, badLines: 2 });
  });

  it('reads nothing but listings for a model with no log', async () => {
    const { rows, read } = await join(new MemoryLogs());
    expect(rows).toEqual([]);
    expect(read).toMatchObject({ rows: 0, labelled: 0, versions: [], stats: { objects: 0, lines: 0, badLines: 0 } });
  });
});
