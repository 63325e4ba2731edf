#!/usr/bin/env node
// The CDK app: one PlatformStack per environment declared in cdk.json, from validated config.
// `cdk synth` synthesizes every environment; `cdk deploy -c env=dev` picks one. With a `delivery` block
// (docs/DELIVERY.md), `cdk synth` also synthesizes Mlops-pipeline and Mlops-github-<env>, deployed by name.
import { App } from 'aws-cdk-lib';
import { ConfigError, loadModelSpecs, parseDelivery, parseEnvironments } from '../lib/config.js';
import { addAppStacks } from '../lib/delivery/app-stacks.js';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/**
 * The commit being deployed, recorded with every run; `unversioned` outside a git checkout. The delivery
 * pipeline's synth gets the source as a zip without .git: CodeBuild names the commit instead.
 */
function gitCommit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return /^[0-9a-f]{12,40}$/.test(process.env.CODEBUILD_RESOLVED_SOURCE_VERSION ?? '') ? process.env.CODEBUILD_RESOLVED_SOURCE_VERSION!.slice(0, 12) : 'unversioned';
  }
}

const MODELS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'config', 'models');

try {
  const app = new App();
  const environments = parseEnvironments(app.node.tryGetContext('environments'));
  const delivery = parseDelivery(app.node.tryGetContext('delivery'), environments);
  addAppStacks(app, {
    environments,
    ...(delivery ? { delivery } : {}),
    requested: app.node.tryGetContext('env'),
    platform: { models: loadModelSpecs(MODELS_DIR), codeVersion: gitCommit() },
  });
  app.synth();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`error: ${error.message}`);
    process.exit(1);
  }
  throw error;
}
