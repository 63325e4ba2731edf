import { DATASET_NAME } from '../../../lambdas/core/data/dataset-version.js';
import type { DatasetFormat } from '../../../lambdas/core/data/formats.js';
import { parseDeclaredSchema } from '../../../lambdas/core/data/profile.js';
import { MlopsError } from '../../../lambdas/core/errors.js';
import { parseDatasetRef, parseModelName, readSpecFile } from '../arguments.js';
import type { Cli } from '../cli.js';
import { describeDataset, describeFromLogs, describeProfile, describeReport, formatDatasetList, formatDatasetVersions } from '../render/datasets.js';
import { driftCheckRequest } from './drift.js';

/** What `dataset register|list|show|from-logs|validate` do (their options: commands/dataset.ts). */

export async function register(
  cli: Cli,
  file: string,
  options: { name: string; schema?: string; target?: string; format?: DatasetFormat; owner: string; source?: string },
): Promise<void> {
  const name = DATASET_NAME.safeParse(options.name);
  if (!name.success) throw new MlopsError('INVALID_INPUT', `--name: ${name.error.issues[0]?.message}`, { field: 'name' });
  const schema = options.schema ? parseDeclaredSchema(readSpecFile(options.schema, 'schema')) : undefined;
  const { dataset: version, created } = await (await cli.client()).registerDataset({
    name: name.data,
    path: file,
    fileName: file,
    owner: options.owner,
    ...(options.source ? { source: options.source } : {}),
    ...(options.format ? { format: options.format } : {}),
    ...(schema ? { schema } : {}),
    ...(options.target ? { target: options.target } : {}),
    onProgress: cli.progress,
  });
  cli.print({ dataset: version, created }, () => `${created ? 'registered' : 'already registered'}\n${describeDataset(version)}`);
}

export async function list(cli: Cli, name?: string): Promise<void> {
  const platform = await cli.client();
  if (name) {
    const versions = await platform.listDatasetVersions(name);
    cli.print({ name, versions }, () => formatDatasetVersions(name, versions));
    return;
  }
  const datasets = await platform.listDatasets();
  cli.print({ datasets }, () => formatDatasetList(datasets));
}

export async function show(cli: Cli, ref: string, options: { profile?: boolean }): Promise<void> {
  const { name, version } = parseDatasetRef(ref);
  const platform = await cli.client();
  const record = await platform.getDatasetVersion(name, version);
  const profile = options.profile ? await platform.getDatasetProfile(name, record.version) : undefined;
  cli.print(profile ? { dataset: record, profile } : { dataset: record }, () => [describeDataset(record), ...(profile ? ['', describeProfile(profile)] : [])].join('\n'));
}

export async function fromLogs(
  cli: Cli,
  modelArg: string,
  options: { window?: string; from?: string; to?: string; arm?: string; name?: string; logsOnly?: boolean },
): Promise<void> {
  const model = parseModelName(modelArg);
  if (options.name !== undefined && !DATASET_NAME.safeParse(options.name).success) {
    throw new MlopsError('INVALID_INPUT', `--name: ${DATASET_NAME.safeParse(options.name).error?.issues[0]?.message}`, { field: 'name' });
  }
  const request = {
    ...driftCheckRequest(options),
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(options.logsOnly ? { logsOnly: true } : {}),
  };
  cli.progress(`building a dataset version from ${model}'s logged ${request.arm ?? 'production'} rows and their labels...`);
  const result = await (await cli.client()).datasetFromLogs(model, request, { onProgress: cli.progress });
  cli.print(result, () => describeFromLogs(result));
}

export async function validate(cli: Cli, ref: string, options: { model: string }): Promise<void> {
  const { name, version } = parseDatasetRef(ref);
  const report = await (await cli.client()).validateDataset(name, version, options.model);
  cli.print(report, () => describeReport(report));
  if (!report.passed) process.exitCode = 1;
}
