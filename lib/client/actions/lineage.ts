import { MlopsError } from '../../../lambdas/core/errors.js';
import { parseDatasetLineageRef, parseModelName, parseModelRef } from '../arguments.js';
import type { Cli } from '../cli.js';
import { formatAudit, formatDatasetLineage, formatVersionLineage } from '../render/registry.js';

/** What `lineage` and `audit` do (their options: commands/lineage.ts). */

export async function lineage(cli: Cli, ref: string | undefined, options: { dataset?: string }): Promise<void> {
  if (options.dataset !== undefined) {
    if (ref !== undefined) throw new MlopsError('INVALID_INPUT', `give a model version (${ref}) or --dataset, not both`, { field: 'dataset' });
    const { name, version } = parseDatasetLineageRef(options.dataset);
    const found = await (await cli.client()).datasetLineage(name, version);
    cli.print(found, () => formatDatasetLineage(found));
    return;
  }
  if (ref === undefined) {
    throw new MlopsError('INVALID_INPUT', 'name a model version (<model>@<version> or <model>@<alias>) or a dataset version (--dataset <name>@<sha256|latest>)', { field: 'model' });
  }
  const { model, version } = parseModelRef(ref, { versionRequired: true });
  const found = await (await cli.client()).versionLineage(model, version);
  cli.print(found, () => formatVersionLineage(found));
}

export async function audit(cli: Cli, modelArg: string): Promise<void> {
  const model = parseModelName(modelArg);
  const events = await (await cli.client()).audit(model);
  cli.print({ model, events }, () => formatAudit(model, events));
}
