import type { DriftCheckRequest } from '../../../lambdas/contract/drift.js';
import { MlopsError } from '../../../lambdas/core/errors.js';
import type { Arm } from '../../../lambdas/core/serving/records.js';
import { DURATION } from '../../../lambdas/core/training/model-spec.js';
import { parseModelName } from '../arguments.js';
import type { Cli } from '../cli.js';
import { formatDriftCheck, formatDriftCheckList } from '../render/drift.js';
import { download } from './score.js';

/** What `drift check|show|report` do (their options: commands/drift.ts). */

const invalid = (field: string, message: string) => new MlopsError('INVALID_INPUT', message, { field });

function isoTime(text: string, option: string): string {
  const time = Date.parse(text);
  if (Number.isNaN(time)) throw invalid(option, `--${option} "${text}": expected an ISO time such as 2026-12-06T04:00:00Z`);
  return new Date(time).toISOString();
}

/** The request body from the options: a window, or from/to (both), never both kinds. */
export function driftCheckRequest(options: { window?: string; from?: string; to?: string; arm?: string }): DriftCheckRequest {
  if ((options.from === undefined) !== (options.to === undefined)) throw invalid(options.from === undefined ? 'from' : 'to', 'give --from and --to together');
  if (options.window !== undefined && options.from !== undefined) throw invalid('window', 'give --window or --from/--to, not both');
  if (options.window !== undefined && !DURATION.safeParse(options.window).success) throw invalid('window', `--window "${options.window}": expected a duration such as "30m", "24h" or "7 days"`);
  return {
    ...(options.window !== undefined ? { window: options.window } : {}),
    ...(options.from !== undefined ? { from: isoTime(options.from, 'from'), to: isoTime(options.to!, 'to') } : {}),
    ...(options.arm !== undefined ? { arm: options.arm as Arm } : {}),
  };
}

export async function check(cli: Cli, modelArg: string, options: { window?: string; from?: string; to?: string; arm?: string }): Promise<void> {
  const model = parseModelName(modelArg);
  const request = driftCheckRequest(options);
  const platform = await cli.client();
  cli.progress(`checking ${model}'s ${request.arm ?? 'production'} traffic for drift...`);
  const answer = await platform.runDriftCheck(model, request);
  cli.print(answer, () => formatDriftCheck(answer));
}

export async function show(cli: Cli, modelArg: string, options: { check?: string; list?: boolean }): Promise<void> {
  const model = parseModelName(modelArg);
  const platform = await cli.client();
  if (options.list) {
    const list = await platform.listDriftChecks(model);
    cli.print(list, () => formatDriftCheckList(list));
    return;
  }
  const answer = options.check === undefined ? await latest(platform, model) : await platform.getDriftCheck(model, options.check);
  cli.print(answer, () => formatDriftCheck(answer));
}

async function latestId(platform: Awaited<ReturnType<Cli['client']>>, model: string): Promise<string> {
  const [last] = (await platform.listDriftChecks(model, 1)).checks;
  if (!last) throw new MlopsError('NOT_FOUND', `model ${model} has no drift checks yet; run one with: mlops drift check ${model}`, { field: 'model' });
  return last.checkId;
}

async function latest(platform: Awaited<ReturnType<Cli['client']>>, model: string) {
  return platform.getDriftCheck(model, await latestId(platform, model));
}

/** `mlops drift report`: a check's HTML report (the latest, or --check <id>) written to a local file. */
export async function report(cli: Cli, modelArg: string, options: { check?: string; out?: string }): Promise<void> {
  const model = parseModelName(modelArg);
  const platform = await cli.client();
  const checkId = options.check ?? (await latestId(platform, model));
  const link = await platform.getDriftReportLink(model, checkId);
  const out = options.out ?? `drift-${model}-${link.checkId}.html`;
  await download(link.url, out);
  cli.print({ ...link, file: out }, () => `wrote ${out}: the HTML report of drift check ${link.checkId} (${link.htmlReportUri}); it opens offline`);
}
