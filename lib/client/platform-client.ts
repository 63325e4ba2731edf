import { DescribeExecutionCommand, GetExecutionHistoryCommand, StartExecutionCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { createDocumentClient, createS3Client, createSfnClient } from '../../lambdas/aws/clients.js';
import { ObjectStore } from '../../lambdas/aws/object-store.js';
import { RegistryStore } from '../../lambdas/aws/registry-store.js';
import { TrackingStore } from '../../lambdas/aws/tracking-store.js';
import { sha256Hex } from '../../lambdas/core/artifact.js';
import { parseCsv } from '../../lambdas/core/csv.js';
import { inferSchema } from '../../lambdas/core/dataset.js';
import type { ModelSpec } from '../../lambdas/core/model-spec.js';
import { TrainingRequestSchema, type DatasetVersion, type RunRecord, type TrainingRequest } from '../../lambdas/core/run.js';
import { signedFetch, type SignedResponse } from './signed-fetch.js';
import { apiBaseUrl, type StackOutputs } from './stack-outputs.js';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

export interface PipelineOutcome {
  runId: string;
  executionArn: string;
  status: ExecutionStatus;
  /** States the execution entered, in order. */
  steps: string[];
  run: RunRecord | undefined;
}

/** Everything the CLI, the demo and the e2e tests do against a deployed platform. */
export class PlatformClient {
  readonly registry: RegistryStore;
  readonly tracking: TrackingStore;
  readonly objects: ObjectStore;
  private readonly sfn = createSfnClient();

  constructor(
    readonly outputs: StackOutputs,
    private readonly region: string,
  ) {
    const doc = createDocumentClient();
    this.registry = new RegistryStore(doc, outputs.RegistryTable);
    this.tracking = new TrackingStore(doc, outputs.TrackingTable);
    this.objects = new ObjectStore(createS3Client());
  }

  /**
   * Registers a CSV file as an immutable dataset version whose id is its sha256. The file is
   * parsed before anything is written, so an unreadable file leaves nothing behind.
   */
  async registerDataset(input: { name: string; bytes: Uint8Array; fileName: string; owner: string; source?: string }): Promise<{ dataset: DatasetVersion; created: boolean }> {
    const version = sha256Hex(input.bytes);
    const existing = await this.tracking.findDatasetVersion(input.name, version);
    if (existing) return { dataset: existing, created: false };
    const text = new TextDecoder('utf-8', { fatal: true }).decode(input.bytes);
    const parsed = parseCsv(text);
    const schema = inferSchema(parsed);
    const uri = await this.objects.put(this.outputs.DatasetsBucket, `datasets/${input.name}/${version}.csv`, input.bytes, 'text/csv');
    return this.tracking.putDatasetVersion({
      name: input.name,
      version,
      uri,
      format: 'csv',
      bytes: input.bytes.byteLength,
      rowCount: parsed.rows.length,
      columns: schema.columns,
      owner: input.owner,
      source: input.source ?? basename(input.fileName),
      arrivedAt: new Date().toISOString(),
      quarantined: false,
    }).then(({ version: dataset, created }) => ({ dataset, created }));
  }

  createModel(spec: ModelSpec, actor: string) {
    return this.registry.putModel(spec, actor);
  }

  /** Starts the training pipeline; the execution name is the run id. */
  async startTraining(request: TrainingRequest): Promise<{ runId: string; executionArn: string }> {
    const parsed = TrainingRequestSchema.parse(request);
    const runId = `${parsed.model}-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${randomBytes(3).toString('hex')}`;
    const { executionArn } = await this.sfn.send(
      new StartExecutionCommand({ stateMachineArn: this.outputs.TrainingPipelineArn, name: runId, input: JSON.stringify(parsed) }),
    );
    if (!executionArn) throw new Error('Step Functions returned no execution ARN');
    return { runId, executionArn };
  }

  /** Polls an execution to its end, reporting each state it enters. */
  async waitForRun(
    runId: string,
    executionArn: string,
    options: { onStep?: (step: string) => void; timeoutMs?: number; pollMs?: number } = {},
  ): Promise<PipelineOutcome> {
    const timeoutMs = options.timeoutMs ?? 15 * 60_000;
    const deadline = Date.now() + timeoutMs;
    const steps: string[] = [];
    for (;;) {
      // Status first: a history read after the execution ended holds every state it entered.
      const { status } = await this.sfn.send(new DescribeExecutionCommand({ executionArn }));
      for (const name of (await this.history(executionArn)).slice(steps.length)) {
        steps.push(name);
        options.onStep?.(name);
      }
      if (status && status !== 'RUNNING') {
        return { runId, executionArn, status: status as ExecutionStatus, steps, run: await this.tracking.findRun(runId) };
      }
      if (Date.now() > deadline) throw new Error(`run ${runId} still running after ${Math.round(timeoutMs / 1000)} s`);
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 1000));
    }
  }

  private async history(executionArn: string): Promise<string[]> {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
      for (const event of page.events ?? ([] as HistoryEvent[])) {
        const name = event.stateEnteredEventDetails?.name;
        if (name) names.push(name);
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return names;
  }

  /** POST /models/{model}/predict, signed with the caller's credentials. */
  predict(model: string, body: string, options: { unsigned?: boolean } = {}): Promise<SignedResponse> {
    return signedFetch(`${apiBaseUrl(this.outputs)}/models/${encodeURIComponent(model)}/predict`, {
      method: 'POST',
      body,
      region: this.region,
      ...options,
    });
  }
}
