import { ModelArtifactSchema, type ModelArtifact } from '../training/artifact.js';
import { InputValidationError, parseOrThrow } from '../errors.js';
import { IMPORTED_FORMAT, ImportedArtifactSchema, type ImportedArtifact } from '../training/imported-model.js';

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
