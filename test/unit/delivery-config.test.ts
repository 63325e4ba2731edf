import { describe, expect, it } from 'vitest';
import { parseDelivery, parseEnvironments } from '../../lib/config.js';

const base = { region: 'eu-west-1', removalPolicy: 'retain', productionRequiresApproval: false, logRetentionDays: 30 };
const environments = parseEnvironments({
  local: { ...base, account: '000000000000', region: 'us-east-1', removalPolicy: 'destroy', emulator: true },
  dev: { ...base, account: '111111111111' },
  staging: { ...base },
  prod: { ...base, account: '333333333333', productionRequiresApproval: true },
});
const pipeline = { account: '999999999999', region: 'eu-west-1', connectionArn: 'arn:aws:codeconnections:eu-west-1:999999999999:connection/0f9e8d7c-aaaa-bbbb-cccc-123456789012' };
const valid = { repository: 'acme/mlops', stages: ['dev', 'prod'], pipeline };

describe('delivery config', () => {
  it('is optional: no block, no delivery', () => {
    expect(parseDelivery(undefined, environments)).toBeUndefined();
  });

  it('parses a pipeline with the default branch, and githubActions true as a created OIDC provider', () => {
    expect(parseDelivery(valid, environments)).toEqual({ repository: 'acme/mlops', branch: 'main', stages: ['dev', 'prod'], pipeline });
    expect(parseDelivery({ repository: 'acme/mlops', branch: 'release/1', stages: ['dev'], githubActions: true }, environments)).toEqual({
      repository: 'acme/mlops',
      branch: 'release/1',
      stages: ['dev'],
      githubActions: { oidcProvider: 'create' },
    });
    expect(parseDelivery({ ...valid, githubActions: { oidcProvider: 'existing' } }, environments)?.githubActions).toEqual({ oidcProvider: 'existing' });
  });

  it('fails when a stage has no account, naming the stage', () => {
    expect(() => parseDelivery({ ...valid, stages: ['dev', 'staging', 'prod'] }, environments)).toThrow(
      /delivery\.stages\.1: environment "staging" has no account; pipeline environments need one/,
    );
  });

  it('refuses local, which never gets a pipeline', () => {
    expect(() => parseDelivery({ ...valid, stages: ['local', 'dev'] }, environments)).toThrow(/delivery\.stages\.0: the local environment runs on the emulator and never gets a pipeline/);
  });

  it('fails when a stage is undeclared, unknown or listed twice', () => {
    expect(() => parseDelivery(valid, { dev: environments.dev })).toThrow(/delivery\.stages\.1: environment "prod" is not declared in "environments"/);
    expect(() => parseDelivery({ ...valid, stages: ['dev', 'qa'] }, environments)).toThrow(/delivery\.stages\.1: must be one of local, dev, staging, prod/);
    expect(() => parseDelivery({ ...valid, stages: ['dev', 'prod', 'dev'] }, environments)).toThrow(/delivery\.stages\.2: "dev" is listed twice/);
    expect(() => parseDelivery({ ...valid, stages: [] }, environments)).toThrow(/delivery\.stages: must list at least one environment/);
  });

  it('refuses a stage on the emulator', () => {
    const onEmulator = parseEnvironments({ dev: { ...base, account: '111111111111', emulator: true } });
    expect(() => parseDelivery({ ...valid, stages: ['dev'] }, onEmulator)).toThrow(/delivery\.stages\.0: environment "dev" runs on the emulator/);
  });

  it("validates the pipeline's account, region and connection, naming the field", () => {
    expect(() => parseDelivery({ ...valid, pipeline: { ...pipeline, account: '9999' } }, environments)).toThrow(/delivery\.pipeline\.account: must be a 12-digit AWS account id/);
    expect(() => parseDelivery({ ...valid, pipeline: { ...pipeline, region: 'Ireland' } }, environments)).toThrow(/delivery\.pipeline\.region: must be an AWS region/);
    expect(() => parseDelivery({ ...valid, pipeline: { ...pipeline, connectionArn: 'github-token' } }, environments)).toThrow(/delivery\.pipeline\.connectionArn: must be a CodeConnections connection ARN/);
    expect(() =>
      parseDelivery({ ...valid, pipeline: { ...pipeline, connectionArn: 'arn:aws:codestar-connections:eu-west-1:111111111111:connection/abc' } }, environments),
    ).toThrow(/delivery\.pipeline\.connectionArn: belongs to account 111111111111, not to the pipeline's account 999999999999/);
    expect(() => parseDelivery({ ...valid, pipeline: { ...pipeline, colour: 'blue' } }, environments)).toThrow(/delivery\.pipeline.*colour/);
  });

  it('fails on a bad repository, an unknown field, or a block that configures nothing', () => {
    expect(() => parseDelivery({ ...valid, repository: 'https://github.com/acme/mlops' }, environments)).toThrow(/delivery\.repository: must be a GitHub repository as owner\/name/);
    expect(() => parseDelivery({ ...valid, approvals: 2 }, environments)).toThrow(/approvals/);
    expect(() => parseDelivery({ repository: 'acme/mlops', stages: ['dev'] }, environments)).toThrow(/delivery: configures nothing: set "pipeline", "githubActions" or both/);
    expect(() => parseDelivery({ ...valid, githubActions: 'yes' }, environments)).toThrow(/delivery\.githubActions: must be true, false or/);
  });
});
