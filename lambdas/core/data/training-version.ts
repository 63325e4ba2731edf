import { MlopsError, NotFoundError } from '../errors.js';
import type { DatasetVersion, QuarantineEntry } from './dataset-version.js';

/**
 * Which dataset version a run trains on when nobody named one (`mlops train <model>` without
 * `@version`, the schedules): the newest version not quarantined for that model. Quarantine is per
 * model: a version one model's validation gate blocked is still judged by every other model's gate.
 */

/** The quarantine a version carries for a model, if any. */
export function quarantineFor(version: DatasetVersion, model: string): QuarantineEntry | undefined {
  const entry = version.quarantinedFor.find((q) => q.model === model);
  if (entry) return entry;
  // Records from before quarantine was per model carry only the flag: which model it blocked is unknown, so it blocks every model.
  if (version.quarantined && version.quarantinedFor.length === 0) {
    return { model, gate: 'data-validation', reason: version.quarantineReason ?? 'quarantined (recorded before quarantine was per model)', at: version.arrivedAt };
  }
  return undefined;
}

export const isQuarantinedFor = (version: DatasetVersion, model: string): boolean => quarantineFor(version, model) !== undefined;

export interface TrainingVersionChoice {
  version: DatasetVersion;
  /** Which version was taken and why, for a person: the answer of `train` and the run's log say it. */
  chosen: string;
}

const short = (version: DatasetVersion) => version.version.slice(0, 12);
const newestFirst = (a: DatasetVersion, b: DatasetVersion) => b.arrivedAt.localeCompare(a.arrivedAt) || b.version.localeCompare(a.version);

/** Picks the newest version of a dataset not quarantined for `model`, and says which and why (the skipped ones too). */
export function chooseTrainingVersion(versions: readonly DatasetVersion[], model: string): TrainingVersionChoice {
  const ordered = [...versions].sort(newestFirst);
  if (ordered.length === 0) throw new NotFoundError('the dataset has no registered version', { field: 'dataset.name' });
  const skipped: string[] = [];
  for (const version of ordered) {
    const quarantine = quarantineFor(version, model);
    if (!quarantine) {
      const chosen =
        skipped.length === 0
          ? `newest version ${short(version)} of ${version.name} (arrived ${version.arrivedAt})`
          : `newest version of ${version.name} not quarantined for ${model}: ${short(version)} (arrived ${version.arrivedAt}); skipped ${skipped.join('; ')}`;
      return { version, chosen };
    }
    skipped.push(`${short(version)} (quarantined for ${model}: ${quarantine.reason})`);
  }
  throw new MlopsError(
    'DATASET_QUARANTINED',
    `every version of ${ordered[0]!.name} is quarantined for ${model} (${skipped.join('; ')}): register a corrected version, or name one with @<version> to have the gate judge it again`,
    { field: 'dataset.version' },
  );
}
