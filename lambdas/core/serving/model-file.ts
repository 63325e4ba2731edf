import { ModelArtifactSchema, type ModelArtifact } from '../training/artifact.js';
import { sha256Hex } from '../sha256.js';
import { InputValidationError, MlopsError, parseOrThrow } from '../errors.js';
import { IMPORTED_FORMAT, ImportedArtifactSchema, type ImportedArtifact } from '../training/imported-model.js';
import type { ArtifactRef } from '../training/run.js';

/** A registered model file: a built-in artifact, or the manifest of an imported ONNX model. */
export type ModelFile = { kind: 'builtin'; artifact: ModelArtifact } | { kind: 'imported'; manifest: ImportedArtifact };

export function parseModelFile(text: string): ModelFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new InputValidationError(`the model file is not JSON: ${(error as Error).message}`);
  }
  if ((raw as { format?: unknown } | null)?.format === IMPORTED_FORMAT) return { kind: 'imported', manifest: parseOrThrow(ImportedArtifactSchema, raw, 'imported model manifest') };
  return { kind: 'builtin', artifact: parseOrThrow(ModelArtifactSchema, raw, 'model artifact') };
}

/** Where stored artifacts are read from: the adapter hands over bytes, core checks and parses them. */
export interface ArtifactBytes {
  getBytes(uri: string): Promise<Uint8Array>;
}

/**
 * The bytes of a recorded artifact (a model file, an ONNX file), checked against the sha256 recorded
 * for them: the hash is over the stored bytes, as Train, RegisterExternalArtifact and transfers record it.
 */
export function verifyArtifact(bytes: Uint8Array, ref: ArtifactRef, what = 'artifact'): Uint8Array {
  if (sha256Hex(bytes) !== ref.sha256) {
    throw new MlopsError('ARTIFACT_MISMATCH', `${what} ${ref.uri} does not match its recorded sha256 ${ref.sha256}`, { field: 'sha256' });
  }
  return bytes;
}

/** A model file from its stored bytes: verified against its recorded sha256, decoded as strict UTF-8, parsed. */
export function readModelFile(bytes: Uint8Array, ref: ArtifactRef): ModelFile {
  return parseModelFile(new TextDecoder('utf-8', { fatal: true }).decode(verifyArtifact(bytes, ref, 'model file')));
}

/** The one way a recorded model file is loaded (Evaluate, serving): read, verify, parse. */
export async function loadModelFile(store: ArtifactBytes, ref: ArtifactRef): Promise<ModelFile> {
  return readModelFile(await store.getBytes(ref.uri), ref);
}
