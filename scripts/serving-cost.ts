// The cost of one million predictions, from what one request uses. The bench (scripts/bench-serving.ts)
// feeds it the measured duration and call counts; docs/ARCHITECTURE.md ("Serving cost") gives the result.
//
// Public on-demand list prices, us-east-1, as published by AWS in 2025-2026 (each service's pricing page):
// free tiers and volume tiers are left out, so these are the first-tier prices a small team pays.
export const PRICES = {
  /** API Gateway REST API, per request (first 333 million a month). */
  apiGatewayRequest: 3.5 / 1e6,
  /** Lambda, per request, and per GB-second on arm64 (the platform's functions run on Graviton). */
  lambdaRequest: 0.2 / 1e6,
  lambdaGbSecondArm: 0.0000133334,
  /** DynamoDB on-demand, per read request unit (a strongly consistent read of up to 4 KB; an eventually consistent one is half) and per write request unit (up to 1 KB). */
  dynamoReadUnit: 0.125 / 1e6,
  dynamoWriteUnit: 0.625 / 1e6,
  /** DynamoDB storage, per GB-month. */
  dynamoStorageGbMonth: 0.25,
  /** S3 Standard PUT, per request. */
  s3Put: 0.005 / 1000,
  /** Firehose Direct PUT ingestion, per GB, each record rounded up to 5 KB. */
  firehoseIngestGb: 0.029,
  /** Firehose dynamic partitioning, per GB delivered (the per-object and JQ-hour charges are per stream, not per request). */
  firehosePartitioningGb: 0.02,
  /** CloudWatch Logs ingestion, per GB (the function's log lines). */
  logsIngestGb: 0.5,
} as const;

const GB = 1024 ** 3;

/** What one prediction request uses. Counts may be fractions: a registry read shared by many requests. */
export interface RequestUsage {
  readonly memoryMb: number;
  /** Billed duration of the invocation, in milliseconds (Lambda bills per millisecond). */
  readonly durationMs: number;
  readonly dynamoReadUnits: number;
  readonly dynamoWriteUnits: number;
  readonly s3Puts: number;
  /** Records handed to Firehose (one per logged arm) and their size in bytes each. */
  readonly firehoseRecords: number;
  readonly firehoseRecordBytes: number;
  /** Bytes the function writes to CloudWatch Logs (the platform's START/END/REPORT lines included). */
  readonly logBytes: number;
  /** Bytes kept in DynamoDB per request (the request index), and for how many days. */
  readonly storedBytes?: number;
  readonly storedDays?: number;
}

export interface CostLine {
  readonly item: string;
  readonly perMillion: number;
}

/** The cost of a million requests like `usage`, line by line, in US dollars. */
export function costPerMillion(usage: RequestUsage): CostLine[] {
  const million = 1e6;
  const billedRecordBytes = Math.ceil(usage.firehoseRecordBytes / 5120) * 5120;
  const lines: CostLine[] = [
    { item: 'API Gateway requests', perMillion: million * PRICES.apiGatewayRequest },
    { item: 'Lambda requests', perMillion: million * PRICES.lambdaRequest },
    { item: `Lambda compute (${usage.memoryMb} MB x ${usage.durationMs.toFixed(1)} ms)`, perMillion: million * (usage.memoryMb / 1024) * (Math.ceil(usage.durationMs) / 1000) * PRICES.lambdaGbSecondArm },
    { item: `DynamoDB reads (${usage.dynamoReadUnits.toFixed(3)} RRU)`, perMillion: million * usage.dynamoReadUnits * PRICES.dynamoReadUnit },
    { item: `DynamoDB writes (${usage.dynamoWriteUnits.toFixed(2)} WRU)`, perMillion: million * usage.dynamoWriteUnits * PRICES.dynamoWriteUnit },
    { item: `S3 PUTs (${usage.s3Puts})`, perMillion: million * usage.s3Puts * PRICES.s3Put },
    {
      item: `Firehose (${usage.firehoseRecords} record(s) of ${usage.firehoseRecordBytes} B)`,
      perMillion: million * usage.firehoseRecords * ((billedRecordBytes / GB) * PRICES.firehoseIngestGb + (usage.firehoseRecordBytes / GB) * PRICES.firehosePartitioningGb),
    },
    { item: `CloudWatch Logs (${usage.logBytes} B)`, perMillion: million * (usage.logBytes / GB) * PRICES.logsIngestGb },
  ];
  if (usage.storedBytes) {
    const months = (usage.storedDays ?? 30) / 30;
    lines.push({ item: `DynamoDB storage (${usage.storedBytes} B for ${usage.storedDays ?? 30} days)`, perMillion: million * (usage.storedBytes / GB) * PRICES.dynamoStorageGbMonth * months });
  }
  return lines.filter((line) => line.perMillion > 0);
}

export const totalOf = (lines: readonly CostLine[]) => lines.reduce((sum, line) => sum + line.perMillion, 0);
