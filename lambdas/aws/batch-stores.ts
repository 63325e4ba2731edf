import { createS3Client } from './clients.js';
import { ObjectStore } from './object-store.js';
import { onnxScorer } from './onnx-sessions.js';
import type { BatchStores } from '../core/batch/batch-scoring.js';
import { cachedModelFiles } from '../core/serving/serve.js';

/** The batch steps' stores over S3: files, model files checked against their sha256 (cached per warm function), ONNX scorers. */
export function batchStores(): BatchStores {
  const objects = new ObjectStore(createS3Client());
  return {
    files: {
      stream: (uri) => objects.stream(uri),
      file: (uri) => objects.file(uri),
      getText: (uri) => objects.getText(uri),
      put: (bucket, key, body, contentType) => objects.put(bucket, key, body, contentType),
    },
    modelFile: cachedModelFiles(objects),
    onnx: (manifest) => onnxScorer(objects, manifest.onnx, manifest.task, manifest),
  };
}
