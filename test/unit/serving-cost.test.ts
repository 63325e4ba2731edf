import { describe, expect, it } from 'vitest';
import { costPerMillion, PRICES, totalOf, type RequestUsage } from '../../scripts/serving-cost.js';

const usage = (extra: Partial<RequestUsage>): RequestUsage => ({
  memoryMb: 1024,
  durationMs: 10,
  dynamoReadUnits: 0,
  dynamoWriteUnits: 0,
  s3Puts: 0,
  firehoseRecords: 0,
  firehoseRecordBytes: 0,
  logBytes: 0,
  ...extra,
});
const line = (lines: ReturnType<typeof costPerMillion>, prefix: string) => lines.find((l) => l.item.startsWith(prefix))!.perMillion;

describe('the cost of a million predictions', () => {
  it('charges an S3 PUT per request at $5 a million, and Lambda per started millisecond', () => {
    const lines = costPerMillion(usage({ s3Puts: 1, durationMs: 9.2 }));
    expect(line(lines, 'S3 PUTs')).toBeCloseTo(5, 10);
    // 9.2 ms bills as 10 ms: 1 GB x 0.01 s x a million.
    expect(line(lines, 'Lambda compute')).toBeCloseTo(1e6 * 0.01 * PRICES.lambdaGbSecondArm, 10);
  });

  it('bills each Firehose record as at least 5 KB, and partitioning on the bytes themselves', () => {
    const small = line(costPerMillion(usage({ firehoseRecords: 1, firehoseRecordBytes: 431 })), 'Firehose');
    const fiveKb = line(costPerMillion(usage({ firehoseRecords: 1, firehoseRecordBytes: 5120 })), 'Firehose');
    const ingest = (1e6 * 5120 * PRICES.firehoseIngestGb) / 1024 ** 3;
    expect(small).toBeCloseTo(ingest + (1e6 * 431 * PRICES.firehosePartitioningGb) / 1024 ** 3, 10);
    expect(fiveKb).toBeGreaterThan(small);
  });

  it('adds every line into the total and leaves out what costs nothing', () => {
    const lines = costPerMillion(usage({ dynamoWriteUnits: 1, storedBytes: 200, storedDays: 30 }));
    expect(lines.map((l) => l.item.split(' (')[0])).toEqual(['API Gateway requests', 'Lambda requests', 'Lambda compute', 'DynamoDB writes', 'DynamoDB storage']);
    expect(totalOf(lines)).toBeCloseTo(lines.reduce((sum, l) => sum + l.perMillion, 0), 12);
    expect(line(lines, 'DynamoDB writes')).toBeCloseTo(0.625, 10);
  });
});
