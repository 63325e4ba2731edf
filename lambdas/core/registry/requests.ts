import { z } from 'zod';
import { InputValidationError } from '../errors.js';
import { ALIASES, type AliasName } from './keys.js';

/** Request bodies and path parameters of the registry's HTTP API (docs/CLI.md lists the routes). */

const REASON = z.string().trim().min(1, 'say why').max(1000);
const EXPECTED = z.number().int().positive().nullable();

export const PromoteRequestSchema = z
  .object({
    version: z.number().int().positive(),
    reason: REASON.optional(),
    /** Where the caller saw the alias (null: nowhere); a different state is a conflict and nothing moves. */
    expectedVersion: EXPECTED.optional(),
    weight: z.number().min(0).max(1).optional(),
  })
  .strict();

export const RollbackRequestSchema = z.object({ reason: REASON.optional(), expectedVersion: EXPECTED.optional() }).strict();

export const DecisionRequestSchema = z.object({ reason: REASON }).strict();

/**
 * A version number as text: a positive safe integer without leading zeros, the same numbers the
 * registry's records accept. The one rule for the server's `{version}` and the CLI's arguments.
 */
export function versionNumberOf(text: string | undefined): number | undefined {
  if (text === undefined || !/^[1-9][0-9]*$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

const isAliasName = (text: string | undefined): text is AliasName => (ALIASES as readonly string[]).includes(text ?? '');

/** A version number, or an alias naming the version it points at: `{version}` in a path, `model@ref` in the CLI. */
export function parseVersionRef(text: string | undefined, field = 'version'): number | AliasName {
  if (isAliasName(text)) return text;
  const value = versionNumberOf(text);
  if (value !== undefined) return value;
  throw new InputValidationError(`${field} "${text ?? ''}": expected a version number (a positive integer such as 3) or an alias (${ALIASES.join(', ')})`, { field });
}

/** A version number where only a number will do (approve, reject). */
export function parseVersionNumber(text: string | undefined, field = 'version'): number {
  const value = versionNumberOf(text);
  if (value !== undefined) return value;
  const why = isAliasName(text) ? 'expected a version number here, not an alias' : 'expected a version number (a positive integer such as 3)';
  throw new InputValidationError(`${field} "${text ?? ''}": ${why}`, { field });
}
