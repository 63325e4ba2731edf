import { parseDatasetRef, parseModelRef, readSpecFile } from '../arguments.js';
import type { Cli } from '../cli.js';
import { formatModel, formatModelList, formatVersion } from '../render/registry.js';
import { runAndReport } from './runs.js';

/** What `models create|import|list|show` do (their options: commands/models.ts). */

export async function create(cli: Cli, options: { spec: string; dataset?: string }): Promise<void> {
  // The API infers the features a spec leaves out and checks the spec against the dataset's schema.
  const file = readSpecFile(options.spec, 'spec');
  const dataset = options.dataset ? parseDatasetRef(options.dataset) : undefined;
  const answer = await (await cli.client()).createModel(file, dataset ? { dataset } : {});
  const { spec } = answer;
  cli.print(answer, () => `${answer.created ? 'created' : 'updated'} model ${spec.name}: ${spec.task}, ${spec.training.algorithm}, ${spec.features.length} features`);
}

export async function importModel(cli: Cli, model: string, options: { artifact: string; dataset: string }): Promise<void> {
  const platform = await cli.client();
  const dataset = parseDatasetRef(options.dataset);
  // The file goes to a presigned PUT; the API then checks its sha256 and ONNX input against the spec
  // (and the model and dataset version) before it starts anything.
  const onnx = await platform.uploadOnnx(model, options.artifact);
  await runAndReport(cli, platform, model, { mode: 'import', dataset, onnx }, true);
}

export async function list(cli: Cli): Promise<void> {
  const models = await (await cli.client()).listModels();
  cli.print({ models }, () => formatModelList(models));
}

export async function show(cli: Cli, ref: string): Promise<void> {
  const { model, version } = parseModelRef(ref);
  const platform = await cli.client();
  if (version === undefined) {
    const detail = await platform.showModel(model);
    cli.print(detail, () => formatModel(detail));
    return;
  }
  const record = await platform.getVersion(model, version);
  cli.print(record, () => formatVersion(record, typeof version === 'string' ? version : undefined));
}
