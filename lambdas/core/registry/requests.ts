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

/** `{version}` in a path: a version number, or an alias naming the version it points at. */
export function parseVersionRef(value: string | undefined): number | AliasName {
  if (value !== undefined && /^[1-9]\d{0,8}$/.test(value)) return Number(value);
  if (value !== undefined && (ALIASES as readonly string[]).includes(value)) return value as AliasName;
  throw new InputValidationError(`version "${value ?? ''}" must be a version number (1, 2, ...) or an alias (${ALIASES.join(', ')})`, { field: 'version' });
}

/** `{version}` where only a number will do (approve, reject). */
export function parseVersionNumber(value: string | undefined): number {
  const ref = parseVersionRef(value);
  if (typeof ref !== 'number') throw new InputValidationError(`version "${value}" must be a version number here, not an alias`, { field: 'version' });
  return ref;
}
