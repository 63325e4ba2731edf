import { labelKeyText } from '../serving/feedback.js';
import { FeedbackRecordSchema, logPrefix, type Arm } from '../serving/records.js';
import { readJsonLines, streamArm, windowDates, type CheckWindow, type LogObjects, type ReadStats } from '../serving/rollout-evidence.js';

/**
 * The labelled-window join: a window of the prediction log joined with the feedback labels, by
 * request id and row. Performance windows (core/monitoring/performance.ts) and datasets built from
 * the log (core/data/dataset-from-logs.ts) both read through it.
 *
 * Memory: the feedback of the model is read first into a map keyed `requestId#row` (labels are few
 * and small next to the inputs); the window's predictions are then streamed object by object and
 * each labelled row handed to `onRow` at once, so the inputs are never all held.
 *
 * Which feedback: labels that arrived from the window's start to `until` (Firehose files feedback
 * under the date it ARRIVED, `feedback/model=<m>/version=<answering version>/date=<arrival day>/`,
 * lib/prediction-log.ts firehosePrefix), so the dates read run from the window's first day to
 * `until`'s. A label arriving after `until` is not seen: a performance window judged at `until`
 * sees exactly the labels that existed then.
 *
 * Duplicates: feedback dedupes labels with a conditional mark, but a label can still be stored
 * twice (a crash between send and mark, two senders racing). The FIRST label of a (request, row)
 * wins, by arrival time (ties: the order read); the others are counted in `duplicateLabels` when
 * their row is in the window. A prediction record delivered twice (Firehose is at-least-once)
 * yields its labelled rows once, counted in `repeatedRows`.
 */

export interface LabelledRow {
  requestId: string;
  /** Index of the row in its request (0 for an `inputs` request). */
  row: number;
  /** The version and arm that scored the row (a shadow row carries the label of the request it shadowed). */
  version: number;
  arm: Arm;
  /** ISO time the request arrived. */
  at: string;
  /** The row as logged: after the spec's `logging.drop` and `logging.hash`. */
  input: Record<string, unknown>;
  /** The arm's prediction for the row; undefined when the arm failed to answer (the record's `error`). */
  output: unknown;
  /** The first label that arrived for the row: a class as text, or a number for regression. */
  label: string | number;
  /** ISO time that label arrived. */
  labelledAt: string;
}

export interface LabelledWindowRead {
  /** Logged rows in the window (of the selected version and arm), labelled or not. */
  rows: number;
  /** Rows handed to `onRow`: logged, in the window, with a label. */
  labelled: number;
  /** Labels of the window's rows beyond the first one (dropped). */
  duplicateLabels: number;
  /** Labelled rows seen again in a repeated prediction record (dropped). */
  repeatedRows: number;
  /** Feedback records read (in the window's dates, of the model). */
  labelsRead: number;
  /** The versions whose log was read, ascending. */
  versions: number[];
  stats: ReadStats;
}

interface FirstLabel {
  label: string | number;
  labelledAt: string;
  time: number;
  /** Further labels of the same row. */
  extra: number;
}

const VERSION_IN_KEY = /\/version=(\d+)\/date=(\d{4}-\d{2}-\d{2})\//;

/** The log's versions of a model with objects filed under one of `dates` (one listing of the model's prefix). */
async function loggedVersions(logs: LogObjects, model: string, dates: readonly string[]): Promise<number[]> {
  const wanted = new Set(dates);
  const versions = new Set<number>();
  for (const { key } of await logs.list(logPrefix('predictions', model))) {
    const match = VERSION_IN_KEY.exec(key);
    if (match && wanted.has(match[2]!)) versions.add(Number(match[1]));
  }
  return [...versions].sort((a, b) => a - b);
}

/**
 * The labels of a model that arrived in [window.from, until], first per (request, row).
 * `version` narrows the read to the labels of requests that version answered.
 */
async function readLabels(logs: LogObjects, model: string, version: number | undefined, window: CheckWindow, until: Date, stats: ReadStats) {
  const labels = new Map<string, FirstLabel>();
  const since = Date.parse(window.from);
  const last = until.getTime();
  // Days as yyyy-MM-dd compare as text: the window's first day to until's.
  const [first, lastDay] = [window.from.slice(0, 10), until.toISOString().slice(0, 10)];
  let read = 0;
  const objects = (await logs.list(logPrefix('feedback', model, version)))
    .filter((object) => {
      const date = VERSION_IN_KEY.exec(object.key)?.[2];
      return date !== undefined && date >= first && date <= lastDay;
    })
    // Objects written before the window began cannot hold labels of its requests.
    .filter((object) => !object.lastModified || object.lastModified.getTime() >= since);
  for (const object of objects) {
    stats.objects += 1;
    const result = await readJsonLines(
      logs.stream(object.key),
      FeedbackRecordSchema,
      (record) => {
        const time = Date.parse(record.at);
        return record.model === model && (version === undefined || record.version === version) && time >= since && time <= last;
      },
      (record) => {
        read += 1;
        const key = labelKeyText(record);
        const time = Date.parse(record.at);
        const first = labels.get(key);
        if (!first) labels.set(key, { label: record.label, labelledAt: record.at, time, extra: 0 });
        else if (time < first.time) labels.set(key, { label: record.label, labelledAt: record.at, time, extra: first.extra + 1 });
        else first.extra += 1;
      },
    );
    stats.lines += result.lines;
    stats.badLines += result.bad;
  }
  return { labels, read };
}

/**
 * Joins a window of the prediction log of `model` with its feedback: every logged row of the
 * selected version (all versions when absent) and arm (all arms when absent) whose request got a
 * label by `until` is handed to `onRow`, in the order read. Pure: reads only through `logs`.
 */
export async function readLabelledWindow(
  logs: LogObjects,
  model: string,
  select: { version?: number | undefined; arm?: Arm | undefined },
  window: CheckWindow,
  until: Date,
  onRow: (row: LabelledRow) => void,
): Promise<LabelledWindowRead> {
  const stats: ReadStats = { objects: 0, lines: 0, badLines: 0 };
  // A shadow row's label was filed under the version that answered (production), not the shadow's.
  const labelVersion = select.arm !== undefined && select.arm !== 'shadow' ? select.version : undefined;
  const { labels, read } = await readLabels(logs, model, labelVersion, window, until, stats);

  // Predictions land shortly after they happen: read the window's days up to a day past its end.
  const predictionDates = windowDates(window, new Date(Math.min(until.getTime(), Date.parse(window.to) + 86_400_000)));
  const versions = select.version !== undefined ? [select.version] : await loggedVersions(logs, model, predictionDates);
  const result: LabelledWindowRead = { rows: 0, labelled: 0, duplicateLabels: 0, repeatedRows: 0, labelsRead: read, versions, stats };
  const joined = new Set<string>();
  for (const version of versions) {
    await streamArm(logs, model, { version, arm: select.arm }, window, predictionDates, stats, (record) => {
      record.inputs.forEach((input, row) => {
        result.rows += 1;
        const first = labels.get(labelKeyText({ requestId: record.requestId, row }));
        if (!first) return;
        const seen = `${record.version}#${record.arm}#${record.requestId}#${row}`;
        if (joined.has(seen)) {
          result.repeatedRows += 1;
          return;
        }
        joined.add(seen);
        result.labelled += 1;
        // Counted once per (request, row), even when several arms scored it.
        result.duplicateLabels += first.extra;
        first.extra = 0;
        onRow({
          requestId: record.requestId,
          row,
          version: record.version,
          arm: record.arm,
          at: record.at,
          input,
          output: record.error ? undefined : record.outputs[row],
          label: first.label,
          labelledAt: first.labelledAt,
        });
      });
    });
  }
  return result;
}
