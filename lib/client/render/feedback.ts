import type { FeedbackAnswer } from '../../../lambdas/core/serving/feedback.js';

/** What `feedback` prints with --json: the totals of every request, and each refused label by the line it came from. */
export interface FeedbackSummary {
  readonly model: string;
  readonly file: string;
  readonly requests: number;
  readonly counts: FeedbackAnswer['counts'];
  readonly unknown: { line: number; requestId: string; row: number }[];
  readonly duplicates: { line: number; requestId: string; row: number }[];
  readonly invalid: { line: number; field: string; problem: string }[];
}

/** Human output of `feedback`: the totals, then the first refused labels of each kind by line. */

const SHOWN = 10;

export function describeFeedback(summary: FeedbackSummary): string {
  const { counts } = summary;
  const lines = [
    `feedback for ${summary.model} from ${summary.file}: ${counts.received} label(s) in ${summary.requests} request(s)`,
    `  accepted    ${counts.accepted}`,
    `  unknown     ${counts.unknown}`,
    `  duplicates  ${counts.duplicates}`,
    `  invalid     ${counts.invalid}`,
  ];
  const section = <T>(title: string, items: T[], line: (item: T) => string) => {
    if (items.length === 0) return;
    lines.push(`${title}${items.length > SHOWN ? ` (first ${SHOWN} of ${items.length}; --json lists all)` : ''}:`);
    for (const item of items.slice(0, SHOWN)) lines.push(`  ${line(item)}`);
  };
  section('unknown request ids (not issued for this model, or expired)', summary.unknown, (u) => `line ${u.line}: ${u.requestId} row ${u.row}`);
  section('duplicates (labelled before: stored once)', summary.duplicates, (d) => `line ${d.line}: ${d.requestId} row ${d.row}`);
  section('invalid labels', summary.invalid, (i) => `line ${i.line}: ${i.field}: ${i.problem}`);
  return lines.join('\n');
}
