import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENTS, actionsOfRoleFor, statementsOfPoliciesFor, synthPlatform } from './helpers.js';

// The drift check's Athena path (monitoring.athenaAboveBytes): environment, least privilege, cdk-nag.

const withAthena = (environment: 'local' | 'dev' | 'prod', aboveBytes = 1_073_741_824) =>
  synthPlatform(environment, { monitoring: { ...ENVIRONMENTS[environment]!.monitoring, athenaAboveBytes: aboveBytes } });

const driftFunction = (template: ReturnType<typeof synthPlatform>['template']) => {
  const found = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => id.startsWith('DriftCheck'));
  expect(found).toHaveLength(1);
  return found[0]!;
};

describe('the drift check Athena path', () => {
  it('is off unless the environment sets monitoring.athenaAboveBytes (no environment in cdk.json does)', () => {
    for (const environment of ['local', 'dev', 'prod'] as const) {
      expect(ENVIRONMENTS[environment]!.monitoring.athenaAboveBytes).toBeUndefined();
      const { template } = synthPlatform(environment);
      const [, fn] = driftFunction(template);
      expect(Object.keys(fn.Properties.Environment.Variables).filter((name) => /ATHENA|GLUE/.test(name))).toEqual([]);
      expect(actionsOfRoleFor(template, 'DriftCheckFunction').some((action) => /^(athena|glue):/.test(action))).toBe(false);
    }
  });

  it('gives the function the threshold, the dialect of the engine (trino on AWS, duckdb on the emulator), the workgroup and the database', () => {
    for (const [environment, dialect] of [['dev', 'trino'], ['local', 'duckdb']] as const) {
      const { template } = withAthena(environment, 5000);
      const [, fn] = driftFunction(template);
      const variables = fn.Properties.Environment.Variables;
      expect(variables.ATHENA_ABOVE_BYTES).toBe('5000');
      expect(variables.ATHENA_SQL_DIALECT).toBe(dialect);
      expect(variables.ATHENA_WORKGROUP).toBe(`mlops-${environment}`);
      expect(variables.GLUE_DATABASE).toBe(`mlops_${environment}`);
    }
  });

  it('grants queries in the log workgroup only, the predictions table only, and results under athena-results/ only', () => {
    const { template } = withAthena('dev');
    const [id] = driftFunction(template);
    const actions = actionsOfRoleFor(template, 'DriftCheckFunction');
    expect(actions.filter((action) => /^(athena|glue):/.test(action))).toEqual(
      ['athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StartQueryExecution', 'athena:StopQueryExecution', 'glue:GetDatabase', 'glue:GetTable'].sort(),
    );
    const statements = statementsOfPoliciesFor(template, id.replace(/Function[0-9A-F]{8}$/, 'FunctionServiceRoleDefaultPolicy').slice(0, 20));
    const of = (prefix: string) => statements.filter((s) => [s.Action].flat().some((a) => a.startsWith(prefix)));
    expect(JSON.stringify(of('athena:').map((s) => s.Resource))).toMatch(/:workgroup\/mlops-dev"/);
    const glue = JSON.stringify(of('glue:').map((s) => s.Resource));
    expect(glue).toContain(':table/mlops_dev/predictions');
    expect(glue).not.toContain('feedback');
    expect(glue).not.toContain('*');
    // Writes: drift reports and Athena's results, nothing else (the log itself stays read-only).
    for (const statement of of('s3:Put')) expect(JSON.stringify(statement.Resource)).toMatch(/\/(drift-checks|athena-results)\/\*/);
    expect(JSON.stringify(of('s3:Put').map((s) => s.Resource))).toContain('/athena-results/*');
  });

  for (const Pack of [AwsSolutionsChecks, ServerlessChecks]) {
    it(`has no unacknowledged ${Pack.name} finding with the path on (prod)`, () => {
      const { stack } = withAthena('prod');
      const report = new Pack(stack).validateScope(stack);
      expect(report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath ?? r.resourceLogicalId).join(', ')}`)).toEqual([]);
    });
  }
});
