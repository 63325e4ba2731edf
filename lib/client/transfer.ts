import type { SettableAlias } from '../../lambdas/core/registry/alias-rules.js';
import { InputValidationError, MlopsError } from '../../lambdas/core/errors.js';
import type { EnvironmentName } from '../../lambdas/contract/stack.js';
import { putStream, type PlatformClient } from './platform-client.js';

export interface TransferInput {
  readonly model: string;
  readonly version: number;
  readonly from: { readonly environment: EnvironmentName; readonly platform: PlatformClient };
  readonly to: { readonly environment: EnvironmentName; readonly platform: PlatformClient };
  /** The alias the copy is for: production goes through the target's gate and approval; others are moved after it registers. */
  readonly alias: SettableAlias;
  readonly reason: string;
  readonly onProgress?: (line: string) => void;
}

const isNotFound = (error: unknown) => error instanceof MlopsError && error.code === 'NOT_FOUND';

/**
 * Promotes a version from one environment to another through the two environments' APIs: the
 * source hands out its artifact and dataset version on presigned GETs; the target creates the model
 * from the source's spec and registers the dataset version (same bytes, same sha256) when it lacks
 * them, takes the artifact on a presigned PUT, and starts its pipeline in `transfer` mode, which
 * evaluates the copy against the target's production, gates it, registers it as a new version with
 * its origin, and releases it under the target's approval policy. Bytes stream from one URL to the
 * other (the dataset part by part); no file is held whole in memory. The actor in the target is
 * whoever signed the calls there.
 */
export async function transferVersion(input: TransferInput): Promise<{ runId: string; executionArn: string; copied: { model: boolean; dataset: boolean } }> {
  const { model, from, to } = input;
  const progress = input.onProgress ?? (() => {});
  const source = await from.platform.versionArtifact(model, input.version);
  if (source.artifact.kind === 'imported') {
    // Its ONNX file lives in the source bucket: import it in the target instead, so both are copied and described there.
    throw new InputValidationError(`${model} v${source.version} is an imported ONNX model: run mlops models import in ${to.environment} with the same file`, { field: 'version' });
  }

  let modelCopied = false;
  try {
    await to.platform.showModel(model);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await to.platform.createModel(source.spec);
    modelCopied = true;
    progress(`created model ${model} in ${to.environment} from its ${from.environment} spec`);
  }

  const { dataset } = source;
  let datasetCopied = false;
  try {
    await to.platform.getDatasetVersion(dataset.name, dataset.version);
  } catch (error) {
    if (!isNotFound(error)) throw error;
    progress(`copying dataset ${dataset.name}@${dataset.version.slice(0, 12)} (${dataset.bytes} bytes) to ${to.environment}`);
    const { dataset: copy } = await to.platform.registerDataset({
      name: dataset.name,
      remote: { url: dataset.url, sha256: dataset.version, bytes: dataset.bytes },
      fileName: `${dataset.name}.${dataset.format}`,
      format: dataset.format,
      owner: dataset.owner,
      source: `promoted from ${from.environment} with ${model} v${source.version}`,
      onProgress: progress,
    });
    if (copy.version !== dataset.version) throw new MlopsError('DATASET_MISMATCH', `the copy of ${dataset.name} registered as ${copy.version}, not ${dataset.version}`);
    datasetCopied = true;
  }

  const { sha256, bytes } = source.artifact;
  const upload = await to.platform.transferUpload(model, { sha256, bytes });
  const download = await fetch(source.artifact.url);
  if (!download.ok || !download.body) throw new MlopsError('DOWNLOAD_FAILED', `cannot read the artifact of ${model} v${source.version} in ${from.environment}: HTTP ${download.status}`);
  await putStream(upload.url, download.body, bytes);
  progress(`copied the artifact (${bytes} bytes) to ${to.environment}`);
  // The target hashes the upload before it starts anything: a changed byte is refused there.
  const { runId, executionArn } = await to.platform.startTransfer(model, {
    uploadKey: upload.uploadKey,
    sha256,
    release: input.alias === 'production',
    reason: input.reason,
    source: {
      environment: from.environment,
      model,
      version: source.version,
      runId: source.runId,
      dataset: { name: dataset.name, version: dataset.version },
      ...(source.codeVersion ? { codeVersion: source.codeVersion } : {}),
      ...(source.gateReportUri ? { gateReportUri: source.gateReportUri } : {}),
    },
  });
  return { runId, executionArn, copied: { model: modelCopied, dataset: datasetCopied } };
}
