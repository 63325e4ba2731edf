import { describe, expect, it } from 'vitest';
import { MlopsError } from '../../lambdas/core/errors.js';
import { parseVersionNumber, parseVersionRef, versionNumberOf } from '../../lambdas/core/registry/requests.js';
import * as client from '../../lib/client/arguments.js';

const outcome = (parse: () => unknown) => {
  try {
    return { value: parse() };
  } catch (error) {
    if (!(error instanceof MlopsError)) throw error;
    return { code: error.code, field: error.field };
  }
};

const GOOD: [string, number | string][] = [
  ['1', 1],
  ['42', 42],
  // Ten digits: the server used to refuse what the CLI accepted.
  ['1234567890', 1234567890],
  [String(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER],
  ['production', 'production'],
  ['previous', 'previous'],
];
const BAD = ['0', '-3', '01', '2.0', '1e3', ' 4', 'abc', '', 'latest', '9007199254740993', '99999999999999999999'];

describe('one version reference parser for the CLI and the server', () => {
  it.each(GOOD)('reads %s the same on both sides', (text, expected) => {
    expect(parseVersionRef(text)).toBe(expected);
    expect(client.parseVersionRef(text)).toBe(expected);
  });

  it.each(BAD)('refuses %j the same on both sides, naming the field', (text) => {
    expect(outcome(() => parseVersionRef(text))).toEqual({ code: 'INVALID_INPUT', field: 'version' });
    expect(outcome(() => client.parseVersionRef(text, 'version'))).toEqual(outcome(() => parseVersionRef(text)));
    expect(outcome(() => client.parseVersionNumber(text, 'from'))).toEqual({ code: 'INVALID_INPUT', field: 'from' });
  });

  it('refuses an alias where only a number will do, and a missing path parameter', () => {
    const error = outcome(() => parseVersionNumber('candidate'));
    expect(error).toEqual({ code: 'INVALID_INPUT', field: 'version' });
    expect(() => parseVersionNumber('candidate')).toThrow(/not an alias/);
    expect(outcome(() => parseVersionRef(undefined))).toEqual({ code: 'INVALID_INPUT', field: 'version' });
    expect(versionNumberOf(undefined)).toBeUndefined();
  });

  it('uses the same number rule for --expect', () => {
    expect(client.parseExpected('1234567890', { allowNone: false })).toBe(1234567890);
    expect(outcome(() => client.parseExpected('9007199254740993', { allowNone: false }))).toEqual({ code: 'INVALID_INPUT', field: 'expect' });
  });
});
