#!/usr/bin/env node
// The CDK app: one PlatformStack per environment declared in cdk.json, from validated config.
// `cdk synth` synthesizes every environment; `cdk deploy -c env=dev` picks one.
import { App } from 'aws-cdk-lib';
import { ConfigError, loadModelSpecs, parseEnvironments, selectEnvironments } from '../lib/config.js';
import { stackName } from '../lambdas/contract/stack.js';
import { PlatformStack } from '../lib/platform-stack.js';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/** The commit being deployed, recorded with every run; `unversioned` outside a git checkout. */
function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unversioned';
  }
}

const MODELS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'config', 'models');

try {
  const app = new App();
  const environments = parseEnvironments(app.node.tryGetContext('environments'));
  const models = loadModelSpecs(MODELS_DIR);
  for (const [name, config] of selectEnvironments(environments, app.node.tryGetContext('env'))) {
    new PlatformStack(app, stackName(name), {
      environmentName: name,
      config,
      models,
      codeVersion: gitCommit(),
      env: { account: config.account ?? process.env.CDK_DEFAULT_ACCOUNT, region: config.region },
      description: `serverless-mlops platform (${name})`,
      terminationProtection: config.removalPolicy === 'retain',
    });
  }
  app.synth();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`error: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
