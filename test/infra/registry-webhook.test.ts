import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { REGISTRY_EVENT_SOURCE } from '../../lambdas/contract/events.js';
import { ConfigError, parseEnvironments, WebhookConfigSchema } from '../../lib/config.js';
import { ENVIRONMENTS, idOf, synthPlatform } from './helpers.js';

const webhook = WebhookConfigSchema.parse({ name: 'promote-to-prod', url: 'https://deploy.example.com/hooks/mlops', apiKeySecret: 'mlops/promote-webhook' });

describe('RegistryWebhook (registry events to an EventBridge API destination, from cdk.json)', () => {
  const { stack, template } = synthPlatform('staging', { webhooks: [webhook] });

  it("sends staging's production moves, the event's detail as the body, with a retry policy and the dead-letter queue", () => {
    expect(webhook).toMatchObject({ events: ['alias.moved'], alias: 'production', apiKeyHeader: 'x-api-key' });
    const bus = idOf(template, 'AWS::Events::EventBus', 'RegistryEventsBus');
    const destination = idOf(template, 'AWS::Events::ApiDestination', 'Webhookpromotetoprod');
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: bus },
      EventPattern: { source: [REGISTRY_EVENT_SOURCE], 'detail-type': ['alias.moved'], detail: { alias: ['production'] } },
      Targets: [
        {
          Arn: { 'Fn::GetAtt': [destination, 'Arn'] },
          InputPath: '$.detail',
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [idOf(template, 'AWS::SQS::Queue', 'RegistryEventsDeadLetters'), 'Arn'] } },
        },
      ],
    });
    template.hasResourceProperties('AWS::Events::ApiDestination', { InvocationEndpoint: webhook.url, HttpMethod: 'POST', InvocationRateLimitPerSecond: 10 });
  });

  it('takes the API key from Secrets Manager at deploy time: the template holds a reference, not the key', () => {
    const [connection] = Object.values(template.findResources('AWS::Events::Connection'));
    const auth = connection!.Properties.AuthParameters.ApiKeyAuthParameters;
    expect(auth.ApiKeyName).toBe('x-api-key');
    expect(JSON.stringify(auth.ApiKeyValue)).toContain('{{resolve:secretsmanager:mlops/promote-webhook:SecretString:::}}');
  });

  it('passes cdk-nag with the webhook', () => {
    for (const Pack of [AwsSolutionsChecks, ServerlessChecks]) {
      const report = new Pack(stack).validateScope(stack);
      expect(report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)).toEqual([]);
    }
  });

  it('fails when a webhook is configured on the emulator, is not https, or repeats a name', () => {
    const environments = (webhooks: unknown[], env = 'staging') => ({ [env]: { ...ENVIRONMENTS[env as 'staging'], webhooks } });
    expect(() => parseEnvironments(environments([webhook], 'local'))).toThrow(/environments\.local\.webhooks: must be empty on the emulator/);
    expect(() => parseEnvironments(environments([{ ...webhook, url: 'http://deploy.example.com' }]))).toThrow(/environments\.staging\.webhooks\.0\.url: must be an https:\/\/ URL/);
    expect(() => parseEnvironments(environments([webhook, webhook]))).toThrow(/webhooks\.1\.name: "promote-to-prod" is used by another webhook/);
    expect(() => parseEnvironments(environments([{ ...webhook, events: ['alias.teleported'] }]))).toThrow(ConfigError);
  });
});
