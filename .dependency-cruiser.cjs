// The layering rules of docs/ARCHITECTURE.md, checked in CI (`npm run lint:layers`).
// Paths are relative to the project root; a violation fails .ci/run.
const CDK = '^node_modules/(aws-cdk-lib|constructs|aws-cdk|cdk-nag)/';
const AWS_SDK = '^node_modules/@aws-sdk/';
const HANDLERS = '^lambdas/(?!core/|aws/|contract/)[^/]+/';
const CLIENT = '^(lib/client/|bin/mlops\\.ts$)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'No import cycles anywhere: each stage and leaf can be read and tested on its own.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-is-pure',
      severity: 'error',
      comment: 'Domain logic knows no AWS SDK, no adapters, no handlers, no CDK and no client.',
      from: { path: '^lambdas/core/' },
      to: { path: [AWS_SDK, '^node_modules/@smithy/', CDK, '^lambdas/aws/', HANDLERS, '^lib/', '^bin/'] },
    },
    {
      name: 'contract-is-pure',
      severity: 'error',
      comment: 'The contract module (routes, stack outputs, answers) is shared by the stack, the handlers and the client: it may import core only.',
      from: { path: '^lambdas/contract/' },
      to: { path: [AWS_SDK, CDK, '^lambdas/aws/', HANDLERS, '^lib/', '^bin/'] },
    },
    {
      name: 'functions-know-no-cdk',
      severity: 'error',
      comment: 'Handlers and adapters run in Lambda: no CDK, and nothing from lib/ (constructs and the client).',
      from: { path: '^lambdas/' },
      to: { path: [CDK, '^lib/', '^bin/'] },
    },
    {
      name: 'adapters-know-no-handlers',
      severity: 'error',
      from: { path: '^lambdas/aws/' },
      to: { path: HANDLERS },
    },
    {
      name: 'client-goes-through-the-api',
      severity: 'error',
      comment: 'The CLI is a client of the signed management API: no CDK, no adapters, no table or state machine clients.',
      from: { path: CLIENT },
      to: {
        path: [
          CDK,
          '^lambdas/aws/',
          HANDLERS,
          '^node_modules/@aws-sdk/(client-dynamodb|lib-dynamodb|client-sfn|client-s3)/',
          '^lib/(?!client/)[^/]+\\.ts$',
        ],
      },
    },
    {
      name: 'smoke-test-drives-the-cli',
      severity: 'error',
      comment: 'The post-deploy smoke test (scripts/smoke.ts) runs with only execute-api:Invoke: it drives the CLI, never an AWS client, the CDK or the client library directly. It shares its name and routes with the smoke roles (lib/delivery/smoke-access.ts).',
      from: { path: '^scripts/smoke\\.ts$' },
      to: { path: [AWS_SDK, '^node_modules/@smithy/', CDK, '^lambdas/aws/', HANDLERS, '^lib/(?!delivery/smoke-access\\.ts$)', '^bin/'] },
    },
    {
      name: 'console-runs-in-the-browser',
      severity: 'error',
      comment: 'The web console (lib/client/console/) runs in the page: no Node built-ins, no AWS SDK or signer (credentials stay in the local server), nothing of the CLI; contract and core types only.',
      from: { path: '^lib/client/console/' },
      to: { path: [AWS_SDK, '^node_modules/@smithy/', '^lib/client/(?!console/)', '^lambdas/aws/'] },
    },
    {
      name: 'console-has-no-node-built-ins',
      severity: 'error',
      from: { path: '^lib/client/console/' },
      to: { dependencyTypes: ['core'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(cdk\\.out|node_modules/\\.cache)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
