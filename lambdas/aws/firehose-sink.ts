import { PutRecordBatchCommand, type FirehoseClient } from '@aws-sdk/client-firehose';

/** Firehose's PutRecordBatch limits: 500 records and 4 MiB a call, 1,000 KiB a record. */
const MAX_RECORDS_PER_CALL = 500;
const MAX_BYTES_PER_CALL = 4 * 1024 * 1024;
const MAX_RECORD_BYTES = 1000 * 1024;

/**
 * Records to one Firehose stream (Direct PUT), as newline-terminated JSON: each record one line of
 * the JSON Lines objects Firehose writes to S3. One PutRecordBatch per call when the records fit
 * (a request's arms always do); more only past Firehose's limits. Records Firehose refuses
 * (throttling, an internal error) are sent once more; any still refused make `send` throw,
 * naming how many and why, so the caller can count the loss.
 */
export class FirehoseSink<T> {
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly firehose: FirehoseClient,
    private readonly streamName: string,
  ) {}

  async send(records: readonly T[]): Promise<void> {
    const lines = records.map((record) => this.encoder.encode(`${JSON.stringify(record)}\n`));
    const tooLarge = lines.findIndex((line) => line.length > MAX_RECORD_BYTES);
    if (tooLarge >= 0) throw new Error(`record ${tooLarge + 1} is ${lines[tooLarge]!.length} bytes, above Firehose's ${MAX_RECORD_BYTES} per record: not sent to ${this.streamName}`);
    for (const batch of batches(lines)) await this.put(batch);
  }

  private async put(lines: Uint8Array[]): Promise<void> {
    let pending = lines;
    let lastError = '';
    for (let attempt = 1; attempt <= 2 && pending.length > 0; attempt += 1) {
      const answer = await this.firehose.send(new PutRecordBatchCommand({ DeliveryStreamName: this.streamName, Records: pending.map((Data) => ({ Data })) }));
      if (!answer.FailedPutCount) return;
      const refused = (answer.RequestResponses ?? []).flatMap((response, i) => (response.ErrorCode ? [{ line: pending[i]!, code: response.ErrorCode, message: response.ErrorMessage ?? '' }] : []));
      lastError = refused[0] ? `${refused[0].code}: ${refused[0].message}` : 'no reason given';
      pending = refused.map((entry) => entry.line);
    }
    if (pending.length > 0) throw new Error(`Firehose stream ${this.streamName} refused ${pending.length} of ${lines.length} records twice (${lastError})`);
  }
}

/** Lines grouped under Firehose's per-call limits, in order. */
function batches(lines: Uint8Array[]): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  let current: Uint8Array[] = [];
  let bytes = 0;
  for (const line of lines) {
    if (current.length === MAX_RECORDS_PER_CALL || (current.length > 0 && bytes + line.length > MAX_BYTES_PER_CALL)) {
      out.push(current);
      [current, bytes] = [[], 0];
    }
    current.push(line);
    bytes += line.length;
  }
  if (current.length > 0) out.push(current);
  return out;
}
