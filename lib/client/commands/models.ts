import { ALIASES } from '../../../lambdas/core/registry/keys.js';
import { lazy, type Cli } from '../cli.js';

const actions = () => import('../actions/models.js');

/** `models create|import|list|show`. */
export function modelCommands(cli: Cli): void {
  const models = cli.program.command('models').description('models in the registry');
  models
    .command('create')
    .description('create a model (or replace its spec) from a JSON or YAML spec file')
    .requiredOption('--spec <file>', 'model spec (JSON or YAML)')
    .option('--dataset <name[@version]>', "dataset whose schema gives the features when the spec leaves them out (default: the spec's dataset)")
    .action(lazy(cli, async () => (await actions()).create));
  models
    .command('import')
    .description("bring a model trained elsewhere (ONNX): it is validated, evaluated on the dataset's test split and gated like a built-in one, then served")
    .argument('<model>', 'a model created with `models create` (its spec names the task, target and numeric features, in the order the ONNX input takes them)')
    .requiredOption('--artifact <file.onnx>', 'the ONNX model: one float input [N, features]; probabilities [N, classes] (or one probability/logit column for binary), or values for regression')
    .requiredOption('--dataset <name[@version]>', 'dataset version to evaluate it on')
    .action(lazy(cli, async () => (await actions()).importModel));
  models
    .command('list')
    .description('every model with its newest version and where its aliases point')
    .action(lazy(cli, async () => (await actions()).list));
  models
    .command('show')
    .description('a model with its aliases and versions; with @<version> or @<alias>, one version: status, approval, gate, metrics')
    .argument('<model[@version|@alias]>', `a model, or one of its versions by number or alias (${ALIASES.join(', ')})`)
    .action(lazy(cli, async () => (await actions()).show));
}
