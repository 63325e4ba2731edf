import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { DATASET_NAME, DATASET_VERSION } from '../../lambdas/core/data/dataset-version.js';
import { MlopsError } from '../../lambdas/core/errors.js';
import { parseAliasName, parseWeight, type SettableAlias } from '../../lambdas/core/registry/alias-rules.js';
import { ALIASES, type AliasName } from '../../lambdas/core/registry/keys.js';
import { parseVersionRef, versionNumberOf } from '../../lambdas/core/registry/requests.js';
import { MODEL_NAME } from '../../lambdas/core/training/run.js';

/**
 * The CLI's argument parsers. Each throws INVALID_INPUT naming the argument, before any call is
 * made. Where the server parses the same thing, this uses the server's rule (one version parser:
 * core/registry/requests.ts) so the CLI never accepts what the API refuses, or the other way round.
 */

export { parseVersionNumber, parseVersionRef } from '../../lambdas/core/registry/requests.js';

/** A version by number, or the alias pointing at it. */
export type VersionRef = number | AliasName;

const MAX_REASON_CHARS = 1000;

const invalid = (field: string, message: string) => new MlopsError('INVALID_INPUT', message, { field });

/** A model name, as the registry accepts it. */
export function parseModelName(text: string, argument = 'model'): string {
  const parsed = MODEL_NAME.safeParse(text);
  if (!parsed.success) throw invalid(argument, `${argument} "${text}": ${parsed.error.issues[0]?.message ?? 'not a model name'}`);
  return parsed.data;
}

/** `model`, `model@3` or `model@production`. */
export function parseModelRef(text: string): { model: string; version?: VersionRef };
export function parseModelRef(text: string, options: { versionRequired: true }): { model: string; version: VersionRef };
export function parseModelRef(text: string, options: { versionRequired?: boolean } = {}): { model: string; version?: VersionRef } {
  const shape = options.versionRequired ? '<model>@<version> or <model>@<alias>' : '<model>, <model>@<version> or <model>@<alias>';
  const parts = text.split('@');
  if (parts.length > 2) throw invalid('model', `"${text}": expected ${shape}, with one @`);
  const [name, version] = parts as [string, string | undefined];
  if (name === '') throw invalid('model', `"${text}": the model name before @ is missing; expected ${shape}`);
  // The shape first: `m@` is a missing version, whatever the name.
  if (version === '') throw invalid('version', `"${text}": the version after @ is missing; expected ${shape} (${ALIASES.join(', ')})`);
  const model = parseModelName(name);
  if (version === undefined) {
    if (options.versionRequired) throw invalid('version', `"${text}": name a version; expected ${shape} (${ALIASES.join(', ')})`);
    return { model };
  }
  return { model, version: parseVersionRef(version) };
}

/** `name@<sha256>`, `name@latest` or `name` (the newest version). */
export function parseDatasetLineageRef(text: string): { name: string; version: string } {
  const parts = text.split('@');
  const [name, version] = parts as [string, string | undefined];
  const shape = '<name>@<sha256> or <name>@latest';
  const parsedName = DATASET_NAME.safeParse(name);
  if (parts.length > 2 || !parsedName.success) throw invalid('dataset', `--dataset "${text}": expected ${shape}${parsedName.success ? '' : ` (the name ${parsedName.error.issues[0]?.message})`}`);
  if (version === undefined || version === 'latest') return { name: parsedName.data, version: 'latest' };
  if (!DATASET_VERSION.safeParse(version).success) throw invalid('dataset.version', `--dataset "${text}": the version must be a sha256 (64 hex characters) or latest`);
  return { name: parsedName.data, version };
}

/** `--expect 3`, or `--expect none` (where allowed) for an alias that points nowhere yet. */
export function parseExpected(text: string, options: { allowNone: boolean }): number | null {
  if (options.allowNone && text === 'none') return null;
  const version = versionNumberOf(text);
  if (version !== undefined) return version;
  throw invalid(
    'expect',
    `--expect "${text}": expected the version the alias points at now (a positive integer)${options.allowNone ? ', or none when it points nowhere' : ''}`,
  );
}

/** `--weight 0.1`: a share of traffic between 0 and 1; which values an alias takes is checked with it. */
export function parseWeightOption(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw invalid('weight', `--weight "${text}": expected a share of traffic between 0 and 1, such as 0.1`);
  }
  return value;
}

/** `--to <alias>`: an alias a person may set (INVALID_ALIAS, or ALIAS_MANAGED for previous, as the API answers). */
export function parseTargetAlias(text: string): SettableAlias {
  try {
    return parseAliasName(text);
  } catch (error) {
    if (!(error instanceof MlopsError)) throw error;
    throw new MlopsError(error.code, `--to "${text}": ${error.message}`, { field: 'to' });
  }
}

/** `--weight` for an alias: a number first, then a share the alias takes (a canary's is strictly between 0 and 1). */
export function parseWeightFor(alias: SettableAlias, text: string): number {
  const weight = parseWeightOption(text);
  try {
    return parseWeight(alias, weight);
  } catch (error) {
    if (!(error instanceof MlopsError)) throw error;
    throw new MlopsError(error.code, `--weight ${text}: ${error.message}`, { field: 'weight' });
  }
}

/** `--reason`: one to 1,000 characters, not only spaces. */
export function parseReason(text: string): string {
  const reason = text.trim();
  if (reason === '') throw invalid('reason', '--reason is empty: say why, in a sentence; it is recorded in the audit log');
  if (reason.length > MAX_REASON_CHARS) throw invalid('reason', `--reason is ${reason.length} characters long; at most ${MAX_REASON_CHARS}`);
  return reason;
}

/** `name@<sha256>` or `name` (the newest version, or the one the API chooses for a training). */
export function parseDatasetRef(value: string): { name: string; version?: string } {
  const [name, version, extra] = value.split('@');
  const parsedName = DATASET_NAME.safeParse(name);
  if (!parsedName.success || extra !== undefined) {
    throw invalid('dataset', `dataset "${value}": expected <name>[@<sha256>]`);
  }
  if (version === undefined) return { name: parsedName.data };
  const parsedVersion = DATASET_VERSION.safeParse(version);
  if (!parsedVersion.success) throw invalid('dataset.version', `dataset "${value}": the version must be a sha256 (64 hex characters)`);
  return { name: parsedName.data, version: parsedVersion.data };
}

/** `--param key=value ...` (repeatable): numbers and booleans are typed, anything else is text; a later key wins. */
export function parseParams(values: readonly string[]): Record<string, number | boolean | string> {
  const params: Record<string, number | boolean | string> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    if (at <= 0) throw invalid('param', `--param "${value}": expected key=value`);
    const text = value.slice(at + 1);
    params[value.slice(0, at)] = text === 'true' ? true : text === 'false' ? false : text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
  }
  return params;
}

/** Reads a JSON or YAML file (a spec, a schema), naming the file and the problem when it does not parse. */
export function readSpecFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw invalid(what, `cannot read ${what} ${file}: ${(error as Error).message}`);
  }
  try {
    return file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw invalid(what, `${what} ${file} does not parse: ${(error as Error).message}`);
  }
}
