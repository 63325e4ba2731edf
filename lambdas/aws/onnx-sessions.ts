import type { InferenceSession } from 'onnxruntime-node';
import type { ImportedArtifact, OnnxScorer } from '../core/training/imported-model.js';
import { verifyArtifact } from '../core/serving/model-file.js';
import { loadOnnx, scoreOnnxDetailed, type OnnxSignature } from '../core/serving/onnx-model.js';
import type { ObjectStore } from './object-store.js';

/** ONNX sessions by the file's sha256: a warm function loads each imported model once. */
const sessions = new Map<string, Promise<{ session: InferenceSession; signature: OnnxSignature }>>();

/** Loads an ONNX file from S3, checking its bytes against the sha256 recorded for it. */
export function onnxSession(objects: Pick<ObjectStore, 'getBytes'>, onnx: { uri: string; sha256: string }) {
  let loading = sessions.get(onnx.sha256);
  if (!loading) {
    loading = objects.getBytes(onnx.uri).then((bytes) => loadOnnx(verifyArtifact(bytes, onnx, 'ONNX file')));
    loading.catch(() => sessions.delete(onnx.sha256));
    sessions.set(onnx.sha256, loading);
  }
  return loading;
}

/** A scorer for the pure evaluation code; with a manifest, the output and scale it recorded are used. */
export function onnxScorer(
  objects: Pick<ObjectStore, 'getBytes'>,
  onnx: { uri: string; sha256: string },
  task: ImportedArtifact['task'],
  recorded?: Pick<ImportedArtifact, 'scale'>,
): OnnxScorer {
  return async (rows, rowCount, width, classes) => {
    const { session, signature } = await onnxSession(objects, onnx);
    return scoreOnnxDetailed(session, signature, rows, rowCount, width, task, classes, recorded?.scale ? { scale: recorded.scale } : {});
  };
}
