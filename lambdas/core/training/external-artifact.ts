import { MlopsError } from '../errors.js';
import { formatS3Uri } from '../s3-uri.js';
import { readModelFile } from '../serving/model-file.js';
import type { RunUpdates } from '../stores.js';
import { sha256Hex } from '../sha256.js';
import type { ModelSpec } from './model-spec.js';
import type { ArtifactRef, RunContext } from './run.js';
import { readTarGzEntry } from './tarball.js';

/** The artifact's file name, inside SageMaker's model.tar.gz and in the run's folder. */
const ARTIFACT_NAME = 'model.json';
/** Largest training output read (packed and unpacked): well inside the function's memory. */
export const MAX_OUTPUT_BYTES = 512 * 1024 ** 2;

export class ExternalArtifactError extends MlopsError {
  constructor(message: string) {
    super('EXTERNAL_ARTIFACT_INVALID', message, { step: 'RegisterExternalArtifact' });
    this.name = 'ExternalArtifactError';
  }
}

/** What recording an external job's artifact reads and writes. */
export interface ExternalArtifactStores {
  readonly objects: {
    /** The object's size in bytes; undefined when there is none. */
    size(uri: string): Promise<number | undefined>;
    getBytes(uri: string): Promise<Uint8Array>;
  };
  /** The models bucket: `put` answers the object's URI. */
  readonly models: { readonly bucket: string; put(key: string, bytes: Uint8Array): Promise<string> };
  readonly runs: RunUpdates;
}

/**
 * RegisterExternalArtifact's flow: what Train does after fitting, for a model an external job
 * (SageMaker or ECS) trained. It reads the job's output (SageMaker's model.tar.gz, or the
 * model.json an ECS task wrote), checks that it is a model file of this run's model, stores it as
 * the run's model.json when it is not there yet, and records { uri, sha256 } on the run.
 */
export async function recordExternalArtifact(
  stores: ExternalArtifactStores,
  input: { run: RunContext; spec: ModelSpec; artifactUri: string },
): Promise<{ artifact: ArtifactRef; source: string }> {
  const { run, spec, artifactUri } = input;
  const size = await stores.objects.size(artifactUri);
  if (size === undefined) throw new ExternalArtifactError(`the training job left no artifact at ${artifactUri}`);
  if (size > MAX_OUTPUT_BYTES) throw new ExternalArtifactError(`the training output ${artifactUri} is ${size} bytes; at most ${MAX_OUTPUT_BYTES} are read`);
  let bytes: Uint8Array;
  if (artifactUri.endsWith('.tar.gz')) {
    const entry = readTarGzEntry(await stores.objects.getBytes(artifactUri), ARTIFACT_NAME, MAX_OUTPUT_BYTES);
    if (!entry) throw new ExternalArtifactError(`${artifactUri} holds no ${ARTIFACT_NAME} at its top level (write it to /opt/ml/model/${ARTIFACT_NAME})`);
    bytes = entry;
  } else {
    bytes = await stores.objects.getBytes(artifactUri);
  }

  // The bytes are stored and hashed as they are, and read back the way Evaluate and serving read
  // them (core/serving/model-file.ts): a built-in artifact, or the manifest of an ONNX model.
  const recordedSha256 = sha256Hex(bytes);
  const file = readModelFile(bytes, { uri: artifactUri, sha256: recordedSha256 });
  const artifact = file.kind === 'builtin' ? file.artifact : file.manifest;
  const mismatch = (['model', 'task', 'target'] as const).find((key) => artifact[key] !== (key === 'model' ? run.model : spec[key]));
  if (mismatch) {
    throw new ExternalArtifactError(`the artifact's ${mismatch} is "${artifact[mismatch]}", but run ${run.runId} trains ${run.model} (${spec.task}, target ${spec.target})`);
  }

  const key = `models/${run.model}/runs/${run.runId}/${ARTIFACT_NAME}`;
  const uri = artifactUri === formatS3Uri(stores.models.bucket, key) ? artifactUri : await stores.models.put(key, bytes);
  const recorded = { uri, sha256: recordedSha256 };
  await stores.runs.updateRun(run.runId, { artifact: recorded });
  return { artifact: recorded, source: artifactUri };
}
