import { sha256Hex } from '../../lambdas/core/training/artifact.js';
import type { SettableAlias } from '../../lambdas/core/registry/alias-rules.js';
import { InputValidationError, MlopsError } from '../../lambdas/core/errors.js';
import { parseModelFile } from '../../lambdas/core/serving/model-file.js';
import type { EnvironmentName } from '../../lambdas/core/training/model-spec.js';
import type { PlatformClient } from './platform-client.js';

export interface TransferInput {
  readonly model: string;
  readonly version: number;
  readonly from: { readonly environment: EnvironmentName; readonly platform: PlatformClient };
  readonly to: { readonly environment: EnvironmentName; readonly platform: PlatformClient };
  /** The alias the copy is for: production goes through the target's gate and approval; others are moved after it registers. */
  readonly alias: SettableAlias;
  readonly reason: string;
  readonly actor: string;
  readonly onProgress?: (line: string) => void;
}

/**
 * Promotes a version from one environment to another: copies its artifact (and, when the target
 * lacks them, the model's spec and the dataset version, which keeps its sha256), then starts the
 * target's pipeline in `transfer` mode, which evaluates the copy against the target's production,
 * gates it, registers it as a new version with its origin, and releases it under the target's
 * approval policy.
 */
export async function transferVersion(input: TransferInput): Promise<{ runId: string; executionArn: string; copied: { model: boolean; dataset: boolean } }> {
  const { model, from, to } = input;
  const progress = input.onProgress ?? (() => {});
  const version = await from.platform.getVersion(model, input.version);
  if (version.status === 'REJECTED') throw new MlopsError('VERSION_REJECTED', `version ${version.version} of ${model} was rejected in ${from.environment} and cannot be promoted`, { field: 'version' });
  const bytes = await from.platform.objects.getBytes(version.artifact.uri);
  if (sha256Hex(bytes) !== version.artifact.sha256) throw new MlopsError('ARTIFACT_MISMATCH', `the artifact of ${model} v${version.version} in ${from.environment} does not match its recorded sha256`);
  if (parseModelFile(Buffer.from(bytes).toString('utf8')).kind === 'imported') {
    // Its ONNX file lives in the source bucket: import it in the target instead, so both are copied and described there.
    throw new InputValidationError(`${model} v${version.version} is an imported ONNX model: run mlops models import in ${to.environment} with the same file`, { field: 'version' });
  }

  let modelCopied = false;
  if (!(await to.platform.registry.findModel(model))) {
    const { spec } = await from.platform.showModel(model);
    await to.platform.createModel(spec, input.actor);
    modelCopied = true;
    progress(`created model ${model} in ${to.environment} from its ${from.environment} spec`);
  }

  const { name, version: sha256 } = version.dataset;
  let datasetCopied = false;
  if (!(await to.platform.tracking.findDatasetVersion(name, sha256))) {
    const source = await from.platform.getDatasetVersion(name, sha256);
    progress(`copying dataset ${name}@${sha256.slice(0, 12)} (${source.bytes} bytes) to ${to.environment}`);
    const { dataset } = await to.platform.registerDataset({
      name,
      bytes: await from.platform.objects.getBytes(source.uri),
      fileName: `${name}.${source.format}`,
      format: source.format,
      owner: source.owner,
      source: `promoted from ${from.environment} with ${model} v${version.version}`,
      onProgress: progress,
    });
    if (dataset.version !== sha256) throw new MlopsError('DATASET_MISMATCH', `the copy of ${name} registered as ${dataset.version}, not ${sha256}`);
    datasetCopied = true;
  }

  const uri = await to.platform.objects.put(to.platform.outputs.ModelsBucket, `models/${model}/transfers/${version.artifact.sha256}.json`, bytes, 'application/json');
  progress(`copied the artifact to ${uri}`);
  const { runId, executionArn } = await to.platform.startTraining({
    model,
    dataset: { name, version: sha256 },
    mode: 'transfer',
    trigger: 'promote',
    actor: input.actor,
    release: input.alias === 'production',
    transfer: {
      artifact: { uri, sha256: version.artifact.sha256 },
      source: {
        environment: from.environment,
        model,
        version: version.version,
        runId: version.runId,
        dataset: { name, version: sha256 },
        ...(version.codeVersion ? { codeVersion: version.codeVersion } : {}),
        gateReportUri: version.gateReportUri,
      },
      reason: input.reason,
    },
  });
  return { runId, executionArn, copied: { model: modelCopied, dataset: datasetCopied } };
}
