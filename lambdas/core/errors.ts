import type { z } from 'zod';

export interface MlopsErrorOptions {
  /** The input field at fault, as a dotted path. */
  readonly field?: string;
  /** The pipeline step at fault. */
  readonly step?: string;
  readonly cause?: unknown;
}

/** Every error the platform raises on purpose: a stable code, a message a person can act on, and where. */
export class MlopsError extends Error {
  readonly code: string;
  readonly field?: string;
  readonly step?: string;

  constructor(code: string, message: string, options: MlopsErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MlopsError';
    this.code = code;
    if (options.field !== undefined) this.field = options.field;
    if (options.step !== undefined) this.step = options.step;
  }
}

// Each subclass sets `name` explicitly: minified bundles rename classes, and Step Functions
// matches Retry/Catch on the error name.
export class InputValidationError extends MlopsError {
  constructor(message: string, options?: MlopsErrorOptions) {
    super('INVALID_INPUT', message, options);
    this.name = 'InputValidationError';
  }
}

export class DataValidationError extends MlopsError {
  constructor(message: string, options?: MlopsErrorOptions) {
    super('DATA_VALIDATION_FAILED', message, options);
    this.name = 'DataValidationError';
  }
}

export class NotFoundError extends MlopsError {
  constructor(message: string, options?: MlopsErrorOptions) {
    super('NOT_FOUND', message, options);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends MlopsError {
  constructor(message: string, options?: MlopsErrorOptions) {
    super('CONFLICT', message, options);
    this.name = 'ConflictError';
  }
}

/** One line per zod issue: `field: problem`, with `(root)` for the value itself. */
export function zodIssues(error: z.ZodError): { field: string; problem: string }[] {
  return error.issues.map((issue) => ({ field: issue.path.length ? issue.path.join('.') : '(root)', problem: issue.message }));
}

/** Several problems as one InputValidationError naming the first field; `context` leads the message. */
export function problemsError(problems: readonly { field: string; problem: string }[], context?: string): InputValidationError {
  const list = problems.map((p) => `${p.field}: ${p.problem}`).join('; ');
  return new InputValidationError(context ? `${context}: ${list}` : list, { field: problems[0]?.field });
}

/** Problems found before anything starts: none passes, any becomes one INVALID_INPUT error. */
export function rejectProblems(problems: readonly { field: string; problem: string }[], context?: string): void {
  if (problems.length > 0) throw problemsError(problems, context);
}

/** Parses `value` or throws an InputValidationError naming every bad field of `what`. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw problemsError(zodIssues(result.error), `invalid ${what}`);
}
