import { describe, expect, it } from 'vitest';
import { parseLabelFile, sendLabels, type FileLabel } from '../../lib/client/actions/feedback.js';
import { describeFeedback } from '../../lib/client/render/feedback.js';
import { MlopsError } from '../../lambdas/core/errors.js';
import type { FeedbackAnswer } from '../../lambdas/core/serving/feedback.js';

describe('the feedback file', () => {
  it('reads CSV with the columns in any order, row optional, and keeps each label\'s line', () => {
    const labels = parseLabelFile('label,requestId,row\nyes,req-1,2\n"no, really",req-2,\n\n1,req-3,0\n', 'labels.csv');
    expect(labels).toEqual([
      { line: 2, label: { requestId: 'req-1', row: 2, label: 'yes' } },
      { line: 3, label: { requestId: 'req-2', label: 'no, really' } },
      { line: 5, label: { requestId: 'req-3', row: 0, label: '1' } },
    ]);
    expect(parseLabelFile('requestId,label\nreq-1,4.5\n', 'x.CSV')).toEqual([{ line: 2, label: { requestId: 'req-1', label: '4.5' } }]);
  });

  it('reads JSON Lines as they are, skipping blank lines', () => {
    expect(parseLabelFile('{"requestId":"a","label":1}\r\n\n{"requestId":"b","row":3,"label":"x","extra":true}\n', 'l.jsonl')).toEqual([
      { line: 1, label: { requestId: 'a', label: 1 } },
      { line: 3, label: { requestId: 'b', row: 3, label: 'x', extra: true } },
    ]);
  });

  it.each([
    ['requestId,row,label\nreq-1,one,yes\n', 'labels.csv', /labels\.csv line 2: row "one" is not a row number/],
    ['requestId,row,label\nreq-1,0,yes\nreq-2,-1,no\n', 'labels.csv', /line 3: row "-1"/],
    ['requestId,row,label\nreq-1,0,yes\nreq-2,1\n', 'labels.csv', /line 3 has 2 fields, the header has 3/],
    ['requestId,row,label\nreq-1,0,\n', 'labels.csv', /line 2: the label is empty/],
    ['id,label\nreq-1,yes\n', 'labels.csv', /line 1: .*unexpected id/],
    ['requestId,row\nreq-1,0\n', 'labels.csv', /line 1: .*missing label/],
    ['{"requestId":"a","label":1}\n{"requestId":"b",\n', 'labels.jsonl', /labels\.jsonl line 2: not JSON/],
    ['{"requestId":"a","label":1}\n["b","x"]\n', 'labels.jsonl', /line 2: expected a JSON object/],
    ['requestId,label\n', 'labels.txt', /cannot tell the format of labels\.txt/],
  ])('refuses a file that does not parse, naming the line (%#)', (text, name, message) => {
    expect(() => parseLabelFile(text, name)).toThrow(message);
  });
});

const answerFor = (labels: readonly unknown[]): FeedbackAnswer => {
  // Every label whose id starts with "u" is unknown, with "d" a duplicate, "i" invalid.
  const refs = labels.map((l, index) => ({ index, requestId: (l as { requestId: string }).requestId, row: 0 }));
  const unknown = refs.filter((r) => r.requestId.startsWith('u'));
  const duplicates = refs.filter((r) => r.requestId.startsWith('d'));
  const invalid = refs.filter((r) => r.requestId.startsWith('i')).map(({ index }) => ({ index, field: 'label', problem: 'not a class' }));
  const accepted = labels.length - unknown.length - duplicates.length - invalid.length;
  return { model: 'm', accepted, unknown, duplicates, invalid, counts: { received: labels.length, accepted, unknown: unknown.length, duplicates: duplicates.length, invalid: invalid.length } };
};

describe('sending a feedback file', () => {
  const file = (ids: string[]): FileLabel[] => ids.map((requestId, i) => ({ line: i + 2, label: { requestId, label: 'yes' } }));

  it('sends 1,000 labels per request, adds up the answers and names each refused label by its line', async () => {
    const ids = Array.from({ length: 2500 }, (_, i) => (i === 10 ? 'u-10' : i === 1500 ? 'd-1500' : i === 2499 ? 'i-2499' : `ok-${i}`));
    const sent: number[] = [];
    const progress: string[] = [];
    const summary = await sendLabels(
      { sendFeedback: async (_model, labels) => (sent.push(labels.length), answerFor(labels)) },
      'm',
      'labels.csv',
      file(ids),
      (line) => progress.push(line),
    );
    expect(sent).toEqual([1000, 1000, 500]);
    expect(summary.counts).toEqual({ received: 2500, accepted: 2497, unknown: 1, duplicates: 1, invalid: 1 });
    expect(summary.unknown).toEqual([{ line: 12, requestId: 'u-10', row: 0 }]);
    expect(summary.duplicates).toEqual([{ line: 1502, requestId: 'd-1500', row: 0 }]);
    expect(summary.invalid).toEqual([{ line: 2501, field: 'label', problem: 'not a class' }]);
    expect(progress).toEqual(['sent 1000/2500 labels: 999 accepted', 'sent 2000/2500 labels: 1998 accepted', 'sent 2500/2500 labels: 2497 accepted']);
    expect(describeFeedback(summary)).toMatch(/2500 label\(s\) in 3 request\(s\)\n {2}accepted {4}2497\n {2}unknown {5}1[\s\S]*line 12: u-10 row 0[\s\S]*line 2501: label: not a class/);
  });

  it('stops at a failed request and says how much was sent and that a resend is safe', async () => {
    let calls = 0;
    const failing = {
      sendFeedback: async (_model: string, labels: readonly unknown[]) => {
        calls += 1;
        if (calls === 2) throw new MlopsError('FEEDBACK_NOT_STORED', 'the labels could not be stored');
        return answerFor(labels);
      },
    };
    const ids = Array.from({ length: 1200 }, (_, i) => `ok-${i}`);
    await expect(sendLabels(failing, 'm', 'labels.csv', file(ids))).rejects.toMatchObject({
      code: 'FEEDBACK_NOT_STORED',
      message: expect.stringMatching(/lines 1002-1201; 1000 of 1200 labels were sent before: sending the file again is safe/),
    });
  });
});
