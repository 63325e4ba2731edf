import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConflictError,
  DataValidationError,
  InputValidationError,
  MlopsError,
  NotFoundError,
  parseOrThrow,
  zodIssues,
} from '../../lambdas/core/errors.js';

describe('error classes', () => {
  it.each([
    [InputValidationError, 'InputValidationError', 'INVALID_INPUT'],
    [DataValidationError, 'DataValidationError', 'DATA_VALIDATION_FAILED'],
    [NotFoundError, 'NotFoundError', 'NOT_FOUND'],
    [ConflictError, 'ConflictError', 'CONFLICT'],
  ] as const)('%o keeps its name and code and is an MlopsError', (Cls, name, code) => {
    const error = new Cls('something is wrong', { field: 'a.b', step: 'train' });
    expect(error).toBeInstanceOf(Cls);
    expect(error).toBeInstanceOf(MlopsError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(error.message).toBe('something is wrong');
    expect(error.field).toBe('a.b');
    expect(error.step).toBe('train');
    expect(String(error)).toBe(`${name}: something is wrong`);
  });

  it('keeps the cause, and leaves field and step unset when not given', () => {
    const cause = new Error('root cause');
    const error = new NotFoundError('missing', { cause });
    expect(error.cause).toBe(cause);
    expect(error.field).toBeUndefined();
    expect(error.step).toBeUndefined();
  });
});

describe('parseOrThrow', () => {
  const Schema = z.object({ name: z.string(), limits: z.object({ max: z.number().positive() }) });

  it('returns the parsed value when it is valid', () => {
    expect(parseOrThrow(Schema, { name: 'x', limits: { max: 3 } }, 'thing')).toEqual({ name: 'x', limits: { max: 3 } });
  });

  it('names every bad field in the message, and the first one in `field`', () => {
    let caught: unknown;
    try {
      parseOrThrow(Schema, { name: 7, limits: { max: -1 } }, 'thing');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(InputValidationError);
    const error = caught as InputValidationError;
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/^invalid thing: /);
    expect(error.message).toMatch(/(^|; |: )name: /);
    expect(error.message).toMatch(/limits\.max: /);
    expect(error.field).toBe('name');
  });

  it('calls a problem with the value itself "(root)"', () => {
    expect(() => parseOrThrow(z.string(), 5, 'label')).toThrow(/^invalid label: \(root\): /);
    expect(zodIssues(z.string().safeParse(5).error!)).toEqual([{ field: '(root)', problem: expect.any(String) }]);
  });
});
