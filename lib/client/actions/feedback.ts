import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { CsvTableReader } from '../../../lambdas/core/data/csv.js';
import { InputValidationError, MlopsError } from '../../../lambdas/core/errors.js';
import { MAX_FEEDBACK_LABELS, type FeedbackAnswer } from '../../../lambdas/core/serving/feedback.js';
import { MODEL_NAME } from '../../../lambdas/core/training/run.js';
import type { Cli } from '../cli.js';
import type { PlatformClient } from '../platform-client.js';
import { describeFeedback, type FeedbackSummary } from '../render/feedback.js';

/** What `feedback` does (its options: commands/feedback.ts). */

/** One label of the file and the line it came from. */
export interface FileLabel {
  readonly line: number;
  readonly label: Record<string, unknown>;
}

const CSV_COLUMNS = ['requestId', 'row', 'label'];

/**
 * The labels of a file: CSV with a header naming `requestId`, `label` and optionally `row` (in any
 * order), or JSON Lines of `{ "requestId", "row"?, "label" }`. Only the form is checked here (the
 * line is named on the first problem, and nothing is sent); the route checks each label against
 * the request index and the model.
 */
export function parseLabelFile(text: string, fileName: string): FileLabel[] {
  const name = basename(fileName);
  const fail = (line: number, problem: string) => new InputValidationError(`${name} line ${line}: ${problem}`, { field: 'file' });
  if (/\.csv$/i.test(fileName)) {
    const labels: FileLabel[] = [];
    let header: string[] = [];
    const reader = new CsvTableReader(
      (names) => {
        const unknown = names.filter((column) => !CSV_COLUMNS.includes(column));
        const missing = ['requestId', 'label'].filter((column) => !names.includes(column));
        if (unknown.length > 0 || missing.length > 0) {
          throw fail(1, `the header must name requestId and label, and may name row; ${unknown.length ? `unexpected ${unknown.join(', ')}` : `missing ${missing.join(', ')}`}`);
        }
        header = names;
      },
      (fields, line) => {
        const cell = (column: string) => fields[header.indexOf(column)]?.trim() ?? '';
        const requestId = cell('requestId');
        const label = cell('label');
        const row = cell('row');
        if (requestId === '') throw fail(line, 'the requestId is empty');
        if (label === '') throw fail(line, 'the label is empty');
        if (row !== '' && !/^\d{1,6}$/.test(row)) throw fail(line, `row "${row.slice(0, 20)}" is not a row number (0, 1, ...)`);
        labels.push({ line, label: { requestId, ...(row === '' ? {} : { row: Number(row) }), label } });
      },
    );
    try {
      reader.push(text);
      reader.end();
    } catch (error) {
      if (error instanceof InputValidationError) throw error;
      throw new InputValidationError(`${name}: ${(error as Error).message}`, { field: 'file' });
    }
    return labels;
  }
  if (/\.(jsonl|ndjson)$/i.test(fileName)) {
    const labels: FileLabel[] = [];
    text.split(/\r?\n/).forEach((content, i) => {
      if (content.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(content);
      } catch (error) {
        throw fail(i + 1, `not JSON (${(error as Error).message})`);
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw fail(i + 1, 'expected a JSON object { "requestId", "row"?, "label" }');
      labels.push({ line: i + 1, label: value as Record<string, unknown> });
    });
    return labels;
  }
  throw new InputValidationError(`cannot tell the format of ${name}: name it .csv (header requestId,row,label) or .jsonl`, { field: 'file' });
}

/**
 * Sends the labels in batches of 1,000, one request at a time, and adds up the answers, naming
 * each refused label by its line. A failed request stops the upload; sending the file again is
 * safe, since labels stored already come back as duplicates.
 */
export async function sendLabels(
  platform: Pick<PlatformClient, 'sendFeedback'>,
  model: string,
  file: string,
  labels: readonly FileLabel[],
  progress: (line: string) => void = () => {},
): Promise<FeedbackSummary> {
  const summary: FeedbackSummary = { model, file, requests: 0, counts: { received: 0, accepted: 0, unknown: 0, duplicates: 0, invalid: 0 }, unknown: [], duplicates: [], invalid: [] };
  const counts = summary.counts as { -readonly [K in keyof FeedbackAnswer['counts']]: number };
  for (let at = 0; at < labels.length; at += MAX_FEEDBACK_LABELS) {
    const batch = labels.slice(at, at + MAX_FEEDBACK_LABELS);
    let answer: FeedbackAnswer;
    try {
      answer = await platform.sendFeedback(model, batch.map((l) => l.label));
    } catch (error) {
      const code = error instanceof MlopsError ? error.code : 'ERROR';
      throw new MlopsError(code, `${(error as Error).message} (lines ${batch[0]!.line}-${batch.at(-1)!.line}; ${at} of ${labels.length} labels were sent before: sending the file again is safe, stored labels come back as duplicates)`, { field: 'file' });
    }
    (summary as { requests: number }).requests += 1;
    for (const key of Object.keys(counts) as (keyof typeof counts)[]) counts[key] += answer.counts[key];
    const lineOf = (index: number) => batch[index]?.line ?? -1;
    summary.unknown.push(...answer.unknown.map(({ index, requestId, row }) => ({ line: lineOf(index), requestId, row })));
    summary.duplicates.push(...answer.duplicates.map(({ index, requestId, row }) => ({ line: lineOf(index), requestId, row })));
    summary.invalid.push(...answer.invalid.map(({ index, field, problem }) => ({ line: lineOf(index), field, problem })));
    if (labels.length > MAX_FEEDBACK_LABELS) progress(`sent ${at + batch.length}/${labels.length} labels: ${counts.accepted} accepted`);
  }
  return summary;
}

export async function feedback(cli: Cli, model: string, options: { file: string }): Promise<void> {
  const name = MODEL_NAME.safeParse(model);
  if (!name.success) throw new InputValidationError(`model: ${name.error.issues[0]?.message}`, { field: 'model' });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(options.file));
  } catch (error) {
    throw new InputValidationError(`cannot read ${options.file}: ${(error as Error).message}`, { field: 'file' });
  }
  const labels = parseLabelFile(text, options.file);
  if (labels.length === 0) throw new InputValidationError(`${options.file} holds no labels`, { field: 'file' });
  const summary = await sendLabels(await cli.client(), name.data, options.file, labels, cli.progress);
  cli.print(summary, () => describeFeedback(summary));
  // Scripts see labels that were refused; duplicates are labels stored already, not failures.
  if (summary.counts.unknown > 0 || summary.counts.invalid > 0) process.exitCode = 1;
}
