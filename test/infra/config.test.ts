import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModelSpecs, parseEnvironments, selectEnvironments } from '../../lib/config.js';
import { ENVIRONMENTS } from './helpers.js';

const valid = { region: 'eu-west-1', removalPolicy: 'retain', productionRequiresApproval: true, logRetentionDays: 30 };

describe('environment config', () => {
  it('declares local, dev, staging and prod in cdk.json, with approval required in prod only', () => {
    expect(Object.keys(ENVIRONMENTS).sort()).toEqual(['dev', 'local', 'prod', 'staging']);
    expect(ENVIRONMENTS.prod).toMatchObject({ removalPolicy: 'retain', productionRequiresApproval: true });
    expect(ENVIRONMENTS.dev).toMatchObject({ productionRequiresApproval: false });
    expect(ENVIRONMENTS.local).toMatchObject({ emulator: true, account: '000000000000' });
  });

  it('fails when an environment is outside the closed set, listing the allowed ones', () => {
    expect(() => parseEnvironments({ qa: valid })).toThrow(/allowed environments: local, dev, staging, prod/);
  });

  it('fails when a value is wrong, naming the field', () => {
    expect(() => parseEnvironments({ dev: { ...valid, region: 'Europe' } })).toThrow(/environments\.dev\.region: must be an AWS region/);
    expect(() => parseEnvironments({ dev: { ...valid, removalPolicy: 'keep' } })).toThrow(/environments\.dev\.removalPolicy/);
    expect(() => parseEnvironments({ dev: { ...valid, logRetentionDays: 10 } })).toThrow(/environments\.dev\.logRetentionDays/);
    expect(() => parseEnvironments({ dev: { ...valid, account: '12345' } })).toThrow(/environments\.dev\.account: must be a 12-digit/);
    expect(() => parseEnvironments({ dev: { ...valid, alarmEmail: 'nobody' } })).toThrow(/environments\.dev\.alarmEmail/);
    expect(() => parseEnvironments({ dev: { ...valid, colour: 'blue' } })).toThrow(/colour/);
  });

  it('selects one environment with -c env=NAME and all of them without', () => {
    expect(selectEnvironments(ENVIRONMENTS, 'staging').map(([name]) => name)).toEqual(['staging']);
    expect(selectEnvironments(ENVIRONMENTS, undefined).map(([name]) => name)).toEqual(['local', 'dev', 'staging', 'prod']);
  });

  it('fails for an unknown -c env value, listing the allowed ones', () => {
    expect(() => selectEnvironments(ENVIRONMENTS, 'production')).toThrow(/invalid -c env=production: allowed values are local, dev, staging, prod/);
    expect(() => selectEnvironments({ dev: ENVIRONMENTS.dev! }, 'prod')).toThrow(/"prod" is not declared/);
  });
});

describe('declared model specs', () => {
  it('fails with the file name and the field when a spec is invalid', () => {
    const folder = mkdtempSync(join(tmpdir(), 'specs-'));
    writeFileSync(join(folder, 'bad.yaml'), 'name: bad-model\ntask: clustering\n');
    expect(() => loadModelSpecs(folder)).toThrow(/bad\.yaml.*task/s);
  });

  it('fails when two files declare the same model', () => {
    const folder = mkdtempSync(join(tmpdir(), 'specs-'));
    const spec = {
      name: 'twice',
      task: 'binary_classification',
      target: 'y',
      features: [{ name: 'x', type: 'numeric' }],
      training: { algorithm: 'logistic_regression' },
    };
    writeFileSync(join(folder, 'a.json'), JSON.stringify(spec));
    writeFileSync(join(folder, 'b.json'), JSON.stringify(spec));
    expect(() => loadModelSpecs(folder)).toThrow(/"twice" is declared twice/);
  });
});

describe('maxDatasetBytes', () => {
  // Every environment declared, so only the field under test can fail.
  const declareAll = (dev: Record<string, unknown>) => ({ local: valid, dev, staging: valid, prod: valid });

  it('defaults to 5 GiB, the most one S3 CopyObject moves, and accepts 1024 bytes to 5 GiB', () => {
    expect(parseEnvironments(declareAll(valid)).dev?.maxDatasetBytes).toBe(5 * 1024 ** 3);
    expect(parseEnvironments(declareAll({ ...valid, maxDatasetBytes: 1024 })).dev?.maxDatasetBytes).toBe(1024);
    expect(parseEnvironments(declareAll({ ...valid, maxDatasetBytes: 5 * 1024 ** 3 })).dev?.maxDatasetBytes).toBe(5 * 1024 ** 3);
    for (const environment of Object.values(ENVIRONMENTS)) expect(environment.maxDatasetBytes).toBe(5 * 1024 ** 3);
  });

  it('fails when maxDatasetBytes is above 5 GiB, below 1024 or not a whole number, naming the field', () => {
    for (const maxDatasetBytes of [5 * 1024 ** 3 + 1, 1023, 0, 2048.5, '1024']) {
      expect(() => parseEnvironments(declareAll({ ...valid, maxDatasetBytes })), String(maxDatasetBytes)).toThrow(
        /environments\.dev\.maxDatasetBytes/,
      );
    }
  });
});

describe('declaring only some environments', () => {
  it('accepts a cdk.json that declares one environment, and names the others as not declared', () => {
    const environments = parseEnvironments({ dev: { region: 'eu-west-1', removalPolicy: 'destroy', productionRequiresApproval: false, logRetentionDays: 14 } });
    expect(Object.keys(environments)).toEqual(['dev']);
    expect(selectEnvironments(environments, undefined).map(([name]) => name)).toEqual(['dev']);
    expect(() => selectEnvironments(environments, 'prod')).toThrow(/environment "prod" is not declared .*\(declared: dev\)/);
  });
});
