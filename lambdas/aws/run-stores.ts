import type { RunPlanStores, RunRecordStores } from '../core/training/start-run.js';
import { chooseTrainingVersion } from '../core/data/training-version.js';
import { NotFoundError } from '../core/errors.js';
import { formatS3Uri } from '../core/s3-uri.js';
import type { ObjectStore } from './object-store.js';
import type { RegistryStore } from './registry-store.js';
import type { TrackingStore } from './tracking-store.js';

/** The registry and tracking tables as the start-a-run flows read them (lambdas/core/training/start-run.ts). */
export function runStores(
  registry: Pick<RegistryStore, 'getModel' | 'getVersion'>,
  tracking: Pick<TrackingStore, 'getDatasetVersion' | 'listDatasetVersions' | 'getRun' | 'createRun'>,
): RunRecordStores & Omit<RunPlanStores, 'readUpload'> {
  return {
    getModelSpec: async (model) => (await registry.getModel(model)).spec,
    getDatasetVersion: (name, version) => tracking.getDatasetVersion(name, version),
    chooseDatasetVersion: async (name, model) => {
      const versions = await tracking.listDatasetVersions(name);
      if (versions.length === 0) throw new NotFoundError(`dataset "${name}" has no registered version`, { field: 'dataset.name' });
      return chooseTrainingVersion(versions, model);
    },
    getRun: (runId) => tracking.getRun(runId),
    getVersion: (model, version) => registry.getVersion(model, version),
    createRun: (run) => tracking.createRun(run),
  };
}

/** Uploaded imports, read from the models bucket. */
export function uploadReader(objects: Pick<ObjectStore, 'getBytes'>, bucket: string): Pick<RunPlanStores, 'readUpload'> {
  return {
    readUpload: async (uploadKey) => {
      const uri = formatS3Uri(bucket, uploadKey);
      try {
        return { uri, bytes: await objects.getBytes(uri) };
      } catch (error) {
        if (error instanceof NotFoundError) throw new NotFoundError(`nothing was uploaded to ${uploadKey}`, { field: 'onnx.uploadKey', cause: error });
        throw error;
      }
    },
  };
}
