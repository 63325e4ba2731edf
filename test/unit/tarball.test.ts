import { spawnSync, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { InputValidationError } from '../../lambdas/core/errors.js';
import { readTarGzEntry } from '../../lambdas/core/training/tarball.js';
import { thrownBy } from './helpers.js';

const BLOCK = 512;
const LIMIT = 16 * 1024 ** 2;
const MODEL_JSON = '{"model":"small-model","task":"binary_classification","target":"label"}';

// ---------------------------------------------------------------------------------------------
// A tiny tar writer: 512-byte ustar headers, each body padded to a whole block.
// ---------------------------------------------------------------------------------------------

interface TarEntry {
  name: string;
  body?: string | Uint8Array;
  /** Typeflag: '0' regular (the default), '\0' old regular, '5' directory, '2' symlink, 'x' PAX, 'L' GNU long name. */
  type?: string;
  /** The ustar prefix field (bytes 345..500), joined to the name with '/'. */
  prefix?: string;
  /** The 12-byte size field as written, instead of 11 zero-padded octal digits and a NUL. */
  sizeField?: string;
}

const bytesOf = (body: string | Uint8Array = '') => (typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body));
const text = (bytes: Uint8Array | undefined) => (bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8'));

/** Writes `value` as zero-padded octal of width-1 digits and a NUL, as ustar numeric fields are. */
function octal(header: Buffer, offset: number, width: number, value: number): void {
  header.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, width, 'ascii');
}

function tarHeader(entry: TarEntry, size: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  header.write(entry.name, 0, 100, 'utf8');
  octal(header, 100, 8, entry.type === '5' ? 0o755 : 0o644);
  octal(header, 108, 8, 0); // uid
  octal(header, 116, 8, 0); // gid
  if (entry.sizeField === undefined) octal(header, 124, 12, size);
  else header.write(entry.sizeField, 124, 12, 'ascii');
  octal(header, 136, 12, 1_700_000_000); // mtime
  header.write(entry.type ?? '0', 156, 1, 'latin1');
  header.write('ustar\u000000', 257, 8, 'latin1'); // magic "ustar\0", version "00"
  header.write('root', 265, 32, 'ascii');
  header.write('root', 297, 32, 'ascii');
  if (entry.prefix) header.write(entry.prefix, 345, 155, 'utf8');
  // Checksum: the sum of all header bytes with the checksum field counted as spaces.
  header.fill(0x20, 148, 156);
  const sum = header.reduce((total, byte) => total + byte, 0);
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return header;
}

/** An uncompressed tar of `entries`; `end` adds the two zero blocks that close an archive. */
function tar(entries: TarEntry[], { end = true }: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const body = bytesOf(entry.body);
    parts.push(tarHeader(entry, body.length), body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK));
  }
  if (end) parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

const tarGz = (entries: TarEntry[], options?: { end?: boolean }) => gzipSync(tar(entries, options));

/** Bytes of length `size` made of tar headers naming model.json, so a reader that treats file contents as headers finds a decoy. */
function decoys(size: number): Buffer {
  const decoy = tarHeader({ name: 'model.json' }, 0);
  return Buffer.concat(Array.from({ length: Math.ceil(size / BLOCK) }, () => decoy)).subarray(0, size);
}

/** `length` bytes that are never zero and differ from position to position. */
const pattern = (length: number) => Buffer.from(Array.from({ length }, (_, i) => 1 + (i % 251)));

// ---------------------------------------------------------------------------------------------
// Archives written by the system's tar command.
// ---------------------------------------------------------------------------------------------

const scratch = mkdtempSync(join(tmpdir(), 'tarball-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let scratchCount = 0;

/** A directory holding `files` (path -> contents), under the scratch directory. */
function folder(files: Record<string, string | Uint8Array>): string {
  const dir = join(scratch, `tree-${(scratchCount += 1)}`);
  for (const [path, body] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), body);
  }
  return dir;
}

/** `tar -czf out.tar.gz ...args` run in the scratch directory; returns the archive's bytes. */
function systemTarGz(args: string[]): Buffer {
  const out = join(scratch, `archive-${(scratchCount += 1)}.tar.gz`);
  execFileSync('tar', ['-czf', out, ...args], { cwd: scratch, stdio: ['ignore', 'ignore', 'pipe'] });
  return readFileSync(out);
}

/** What `tar -tv` lists for an archive: one line per entry, name last. */
function systemTarList(archive: Buffer): string[] {
  const path = join(scratch, `listed-${(scratchCount += 1)}.tar.gz`);
  writeFileSync(path, archive);
  return execFileSync('tar', ['-tzf', path], { encoding: 'utf8' }).trim().split('\n');
}

const LONG_DIR = `${'deep-folder-name-'.repeat(5)}x`; // 86 characters: paths under it pass 100
const FORMATS = ['gnu', 'oldgnu', 'ustar', 'posix', 'v7'] as const;

// =============================================================================================

describe('the test\'s tar writer', () => {
  it('writes archives the tar command lists back, prefix included', () => {
    const archive = tarGz([
      { name: 'output/', type: '5' },
      { name: 'a.bin', body: pattern(513) },
      { name: 'model.json', prefix: 'output', body: MODEL_JSON },
      { name: 'model.json', body: MODEL_JSON },
    ]);
    expect(systemTarList(archive)).toEqual(['output/', 'a.bin', 'output/model.json', 'model.json']);
  });
});

describe('readTarGzEntry: finding model.json', () => {
  it('returns exactly the bytes of model.json at the top of the archive', () => {
    const found = readTarGzEntry(tarGz([{ name: 'model.json', body: MODEL_JSON }]), 'model.json', LIMIT);
    expect(found).toBeInstanceOf(Uint8Array);
    expect(text(found)).toBe(MODEL_JSON);
    expect(found!.length).toBe(Buffer.byteLength(MODEL_JSON));
  });

  it('takes ./model.json, as `tar -C dir .` names it, for model.json (and the other way round)', () => {
    const dotted = tarGz([{ name: './', type: '5' }, { name: './model.json', body: MODEL_JSON }]);
    expect(text(readTarGzEntry(dotted, 'model.json', LIMIT))).toBe(MODEL_JSON);
    expect(text(readTarGzEntry(tarGz([{ name: '././model.json', body: MODEL_JSON }]), 'model.json', LIMIT))).toBe(MODEL_JSON);
    expect(text(readTarGzEntry(tarGz([{ name: 'model.json', body: MODEL_JSON }]), './model.json', LIMIT))).toBe(MODEL_JSON);
  });

  it('does not take output/model.json for the top-level model.json, but finds it by its full path', () => {
    const archive = tarGz([
      { name: 'output/', type: '5' },
      { name: 'output/model.json', body: MODEL_JSON },
    ]);
    expect(readTarGzEntry(archive, 'model.json', LIMIT)).toBeUndefined();
    expect(text(readTarGzEntry(archive, 'output/model.json', LIMIT))).toBe(MODEL_JSON);
    expect(text(readTarGzEntry(archive, './output/model.json', LIMIT))).toBe(MODEL_JSON);
  });

  it('joins the ustar prefix field to the name', () => {
    const archive = tarGz([{ name: 'model.json', prefix: 'output', body: MODEL_JSON }]);
    expect(readTarGzEntry(archive, 'model.json', LIMIT)).toBeUndefined();
    expect(text(readTarGzEntry(archive, 'output/model.json', LIMIT))).toBe(MODEL_JSON);
  });

  it('takes the top-level model.json when a nested one comes first', () => {
    const archive = tarGz([
      { name: 'output/model.json', body: 'nested' },
      { name: 'model.json', body: MODEL_JSON },
    ]);
    expect(text(readTarGzEntry(archive, 'model.json', LIMIT))).toBe(MODEL_JSON);
  });

  it('passes over entries that only look like model.json: other names, a directory, a symlink, a PAX header', () => {
    const lookalikes: TarEntry[] = [
      { name: 'my-model.json', body: 'no' },
      { name: 'model.json.bak', body: 'no' },
      { name: 'model.jso', body: 'no' },
      { name: 'model.json/', type: '5' },
      { name: 'model.json', type: '2', body: '' },
      { name: 'model.json', type: 'x', body: '23 comment=not a file\n' },
    ];
    expect(readTarGzEntry(tarGz(lookalikes), 'model.json', LIMIT)).toBeUndefined();
    expect(text(readTarGzEntry(tarGz([...lookalikes, { name: 'model.json', body: MODEL_JSON }]), 'model.json', LIMIT))).toBe(MODEL_JSON);
  });

  it('takes an old-style regular file (typeflag NUL)', () => {
    expect(text(readTarGzEntry(tarGz([{ name: 'model.json', type: '\0', body: MODEL_JSON }]), 'model.json', LIMIT))).toBe(MODEL_JSON);
  });

  it('reads size fields padded with spaces, terminated by a space, using all 12 digits, or blank', () => {
    const sized = (sizeField: string) =>
      tarGz([
        { name: 'a.bin', body: pattern(1000), sizeField },
        { name: 'model.json', body: MODEL_JSON, sizeField: `${Buffer.byteLength(MODEL_JSON).toString(8).padStart(11, ' ')} ` },
      ]);
    for (const sizeField of ['00000001750\0', '00000001750 ', '      1750 ', '      1750\0 ', '000000001750']) {
      expect(text(readTarGzEntry(sized(sizeField), 'model.json', LIMIT)), JSON.stringify(sizeField)).toBe(MODEL_JSON);
    }
    // A blank size field is size 0.
    const blank = tarGz([
      { name: 'data/', type: '5', sizeField: '\0'.repeat(12) },
      { name: 'empty', sizeField: ' '.repeat(12) },
      { name: 'model.json', body: MODEL_JSON },
    ]);
    expect(text(readTarGzEntry(blank, 'model.json', LIMIT))).toBe(MODEL_JSON);
  });

  it('returns an empty model.json as empty bytes, not as missing', () => {
    const found = readTarGzEntry(tarGz([{ name: 'model.json', body: '' }]), 'model.json', LIMIT);
    expect(found).toBeInstanceOf(Uint8Array);
    expect(found!.length).toBe(0);
  });
});

describe('readTarGzEntry: walking past the entries before model.json', () => {
  it.each([0, 1, 100, 511, 512, 513, 1023, 1024, 1025, 4096, 5000])('skips a %i-byte file, reading none of its contents as a header', (size) => {
    // The file's contents are decoy headers naming model.json at every block boundary: a reader that
    // under-skips finds a decoy (empty), one that over-skips misses the real header.
    const archive = tarGz([
      { name: 'before.bin', body: decoys(size) },
      { name: 'model.json', body: MODEL_JSON },
    ]);
    expect(text(readTarGzEntry(archive, 'model.json', LIMIT))).toBe(MODEL_JSON);
  });

  it('skips several files of mixed sizes, directories and nested entries', () => {
    const archive = tarGz([
      { name: './', type: '5' },
      { name: './a.bin', body: pattern(700) },
      { name: './b.bin', body: pattern(512) },
      { name: './data/', type: '5' },
      { name: './data/c.bin', body: pattern(1) },
      { name: './data/empty', body: '' },
      { name: './d.bin', body: pattern(3 * BLOCK + 7) },
      { name: './e.bin', body: pattern(2 * BLOCK) },
      { name: './model.json', body: MODEL_JSON },
      { name: './z.bin', body: pattern(9) },
    ]);
    expect(text(readTarGzEntry(archive, 'model.json', LIMIT))).toBe(MODEL_JSON);
  });

  it('does not look inside a tar stored in the archive', () => {
    const inner = tar([{ name: 'model.json', body: 'inner' }]);
    expect(readTarGzEntry(tarGz([{ name: 'inner.tar', body: inner }]), 'model.json', LIMIT)).toBeUndefined();
    const both = tarGz([
      { name: 'inner.tar', body: inner },
      { name: 'model.json', body: MODEL_JSON },
    ]);
    expect(text(readTarGzEntry(both, 'model.json', LIMIT))).toBe(MODEL_JSON);
  });

  it('skips PAX extended headers and GNU long-name entries', () => {
    const longName = `${LONG_DIR}/${LONG_DIR}/weights.bin`;
    const paxRecord = `path=${longName}\n`;
    const paxLine = `${paxRecord.length + 4} ${paxRecord}`; // a record's length counts its own digits and space
    const archive = tarGz([
      { name: 'pax_global_header', type: 'g', body: '20 comment=anything\n' },
      { name: 'PaxHeaders/weights.bin', type: 'x', body: paxLine },
      { name: 'weights.bin', body: pattern(600) },
      { name: '././@LongLink', type: 'L', body: `${longName}\0` },
      { name: longName.slice(0, 100), body: pattern(1500) },
      { name: 'model.json', body: MODEL_JSON },
    ]);
    expect(text(readTarGzEntry(archive, 'model.json', LIMIT))).toBe(MODEL_JSON);
  });

  it('stops at the end-of-archive marker', () => {
    const archive = gzipSync(Buffer.concat([tar([{ name: 'a.bin', body: pattern(10) }]), tar([{ name: 'model.json', body: MODEL_JSON }])]));
    expect(readTarGzEntry(archive, 'model.json', LIMIT)).toBeUndefined();
  });
});

describe('readTarGzEntry: model.json of every size', () => {
  it.each([1, 2, 511, 512, 513, 1024, 1536, 2000, 70_000])('returns all %i bytes of model.json and none of its padding', (size) => {
    const body = pattern(size);
    const archive = tarGz([
      { name: 'a.bin', body: pattern(300) },
      { name: 'model.json', body },
      { name: 'z.bin', body: pattern(512) },
    ]);
    const found = readTarGzEntry(archive, 'model.json', LIMIT);
    expect(found?.length).toBe(size);
    expect(Buffer.from(found!).equals(body)).toBe(true);
  });

  it.each([1, 512, 700])('reads a %i-byte model.json that is the last entry of an archive with no closing blocks', (size) => {
    const body = pattern(size);
    const archive = tarGz([{ name: 'a.bin', body: pattern(10) }, { name: 'model.json', body }], { end: false });
    expect(Buffer.from(readTarGzEntry(archive, 'model.json', LIMIT)!).equals(body)).toBe(true);
  });

  it('reads a model.json whose last block is not padded out, when the archive ends right after its bytes', () => {
    const body = pattern(700);
    const whole = tar([{ name: 'model.json', body }], { end: false });
    const unpadded = gzipSync(whole.subarray(0, BLOCK + 700));
    expect(Buffer.from(readTarGzEntry(unpadded, 'model.json', LIMIT)!).equals(body)).toBe(true);
  });
});

describe('readTarGzEntry: archives written by the tar command', () => {
  const files = {
    'a.bin': pattern(700),
    'b.bin': pattern(512),
    'c.bin': pattern(1024),
    'd.bin': pattern(1),
    'data/inner.bin': pattern(2049),
    'model.json': MODEL_JSON,
    'output/model.json': 'nested',
    'z.bin': pattern(5),
  };

  it.each(FORMATS)('finds ./model.json in `tar -czf --format=%s -C dir .`', (format) => {
    const archive = systemTarGz([`--format=${format}`, '--sort=name', '-C', folder(files), '.']);
    expect(systemTarList(archive)).toContain('./model.json');
    expect(text(readTarGzEntry(archive, 'model.json', LIMIT))).toBe(MODEL_JSON);
    expect(text(readTarGzEntry(archive, 'output/model.json', LIMIT))).toBe('nested');
  });

  it.each(FORMATS)('finds model.json named without ./ after other files (--format=%s)', (format) => {
    const archive = systemTarGz([`--format=${format}`, '-C', folder(files), 'a.bin', 'b.bin', 'c.bin', 'data', 'model.json']);
    expect(systemTarList(archive).at(-1)).toBe('model.json');
    expect(text(readTarGzEntry(archive, 'model.json', LIMIT))).toBe(MODEL_JSON);
  });

  it.each(['gnu', 'oldgnu', 'ustar', 'posix'] as const)('finds model.json after entries with paths over 100 characters (--format=%s)', (format) => {
    const dir = folder({
      [`${LONG_DIR}/${LONG_DIR}/weights.bin`]: pattern(1300),
      [`${LONG_DIR}/shorter-weights.bin`]: pattern(512),
      'model.json': MODEL_JSON,
    });
    const archive = systemTarGz([`--format=${format}`, '--sort=name', '-C', dir, '.']);
    expect(systemTarList(archive)).toContain(`./${LONG_DIR}/${LONG_DIR}/weights.bin`);
    expect(text(readTarGzEntry(archive, 'model.json', LIMIT))).toBe(MODEL_JSON);
  });

  it('finds a file whose ustar path is split into prefix and name', () => {
    const path = `${LONG_DIR}/${LONG_DIR}/model.json`;
    const archive = systemTarGz(['--format=ustar', '-C', folder({ [path]: MODEL_JSON }), path]);
    expect(text(readTarGzEntry(archive, path, LIMIT))).toBe(MODEL_JSON);
    expect(readTarGzEntry(archive, 'model.json', LIMIT)).toBeUndefined();
  });

  it('reports an archive with only a nested model.json as holding none', () => {
    const archive = systemTarGz(['-C', folder({ 'output/model.json': MODEL_JSON, 'a.bin': pattern(3) }), '.']);
    expect(readTarGzEntry(archive, 'model.json', LIMIT)).toBeUndefined();
  });

  // GNU-format headers have no prefix field: bytes 345.. hold atime and ctime, which GNU tar fills in
  // for incremental archives. Reading them as a prefix turns ./model.json into "<atime>/./model.json".
  it('finds ./model.json in a GNU incremental archive (atime/ctime where ustar keeps its prefix)', () => {
    const snapshot = join(scratch, `snapshot-${(scratchCount += 1)}`);
    const archive = systemTarGz([`--listed-incremental=${snapshot}`, '-C', folder(files), '.']);
    expect(systemTarList(archive)).toContain('./model.json');
    expect(text(readTarGzEntry(archive, 'model.json', LIMIT))).toBe(MODEL_JSON);
  });
});

describe('readTarGzEntry: no model.json', () => {
  it.each([
    ['an archive of other files', tarGz([{ name: 'a.bin', body: pattern(700) }, { name: 'weights.bin', body: pattern(512) }])],
    ['an empty archive (closing blocks only)', tarGz([])],
    ['an archive with no closing blocks', tarGz([{ name: 'a.bin', body: pattern(700) }], { end: false })],
    ['a gzip of nothing', gzipSync(Buffer.alloc(0))],
  ])('returns undefined for %s', (_, archive) => {
    expect(readTarGzEntry(archive, 'model.json', LIMIT)).toBeUndefined();
  });
});

describe('readTarGzEntry: what is not a readable archive', () => {
  const good = tarGz([
    { name: 'a.bin', body: pattern(3000) },
    { name: 'model.json', body: MODEL_JSON },
  ]);

  it('refuses a plain (not gzipped) tar, saying it is not gzip', () => {
    const error = thrownBy(() => readTarGzEntry(tar([{ name: 'model.json', body: MODEL_JSON }]), 'model.json', LIMIT), InputValidationError);
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toMatch(/^the training output is not a gzip file of at most 16777216 bytes: /);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it.each([
    ['the gzip header only', 10],
    ['half of it', Math.floor(good.length / 2)],
    ['all but the 8-byte trailer', good.length - 8],
    ['all but its last byte', good.length - 1],
  ])('refuses a gzip stream cut to %s', (_, cut) => {
    const error = thrownBy(() => readTarGzEntry(good.subarray(0, cut), 'model.json', LIMIT), InputValidationError);
    expect(error.message).toMatch(/^the training output is not a gzip file .*: unexpected end of file$/);
  });

  it('refuses empty input and random bytes', () => {
    expect(thrownBy(() => readTarGzEntry(new Uint8Array(0), 'model.json', LIMIT), InputValidationError).message).toMatch(/not a gzip file/);
    expect(thrownBy(() => readTarGzEntry(pattern(2048), 'model.json', LIMIT), InputValidationError).message).toMatch(/not a gzip file/);
  });

  it('says model.json is cut short when the tar inside ends within its bytes', () => {
    // a.bin's header and two blocks, then model.json's header at 3 blocks and its bytes from 4 blocks on.
    const whole = tar([{ name: 'a.bin', body: pattern(600) }, { name: 'model.json', body: pattern(1000) }]);
    for (const cut of [4 * BLOCK, 4 * BLOCK + 1, 5 * BLOCK, 4 * BLOCK + 999]) {
      const error = thrownBy(() => readTarGzEntry(gzipSync(whole.subarray(0, cut)), 'model.json', LIMIT), InputValidationError);
      expect(error.message).toBe("the training output's model.json is cut short");
    }
    // One byte more and it is whole.
    expect(readTarGzEntry(gzipSync(whole.subarray(0, 4 * BLOCK + 1000)), 'model.json', LIMIT)?.length).toBe(1000);
  });

  it('finds nothing when the tar inside ends within a header, or within the file before model.json', () => {
    const whole = tar([{ name: 'a.bin', body: pattern(600) }, { name: 'model.json', body: MODEL_JSON }]);
    expect(readTarGzEntry(gzipSync(whole.subarray(0, 3 * BLOCK + 100)), 'model.json', LIMIT)).toBeUndefined();
    expect(readTarGzEntry(gzipSync(whole.subarray(0, BLOCK + 300)), 'model.json', LIMIT)).toBeUndefined();
  });

  it('refuses a gzip of something other than a tar, naming the bad size field', () => {
    const json = gzipSync(JSON.stringify({ rows: Array.from({ length: 100 }, (_, i) => ({ id: i, name: `row-${i}` })) }));
    const error = thrownBy(() => readTarGzEntry(json, 'model.json', LIMIT), InputValidationError);
    expect(error.message).toMatch(/^the training output is not a tar archive \(entry size ".*"\)$/);
  });

  it('refuses a header whose size is not octal', () => {
    const archive = tar([{ name: 'a.bin', body: pattern(10) }, { name: 'model.json', body: MODEL_JSON }]);
    archive.write('00000000019\0', 124, 12, 'ascii'); // "9" is no octal digit
    const error = thrownBy(() => readTarGzEntry(gzipSync(archive), 'model.json', LIMIT), InputValidationError);
    expect(error.message).toBe('the training output is not a tar archive (entry size "00000000019")');
  });

  it('refuses to unpack more than maxBytes, and accepts exactly maxBytes', () => {
    const unpacked = tar([{ name: 'model.json', body: MODEL_JSON }]);
    const archive = gzipSync(unpacked);
    expect(text(readTarGzEntry(archive, 'model.json', unpacked.length))).toBe(MODEL_JSON);
    const error = thrownBy(() => readTarGzEntry(archive, 'model.json', unpacked.length - 1), InputValidationError);
    expect(error.message).toMatch(new RegExp(`^the training output is not a gzip file of at most ${unpacked.length - 1} bytes: `));
  });

  it('stops within a time limit on truncated and degenerate archives (run apart, so a hang fails instead of stalling)', () => {
    // Archives a broken reader could loop on: zero-size entries, headers claiming huge sizes, truncation.
    const cases = {
      zeroSizeEntries: tarGz(Array.from({ length: 2000 }, (_, i) => ({ name: `empty-${i}`, body: '' })), { end: false }),
      hugeClaimedSize: gzipSync(tar([{ name: 'a.bin', body: pattern(10) }], { end: false }).fill(0, 124, 136).fill(0x37, 124, 135)),
      truncatedGzip: good.subarray(0, good.length - 3),
      cutInModelJson: gzipSync(tar([{ name: 'model.json', body: pattern(5000) }]).subarray(0, 3000)),
    };
    const module = fileURLToPath(new URL('../../lambdas/core/training/tarball.ts', import.meta.url));
    const script = `
      import { readTarGzEntry } from ${JSON.stringify(module)};
      const cases = ${JSON.stringify(Object.fromEntries(Object.entries(cases).map(([k, v]) => [k, Buffer.from(v).toString('base64')])))};
      const out = {};
      for (const [name, b64] of Object.entries(cases)) {
        try { const r = readTarGzEntry(Buffer.from(b64, 'base64'), 'model.json', ${LIMIT}); out[name] = r === undefined ? 'undefined' : 'bytes'; }
        catch (e) { out[name] = e.name + ': ' + e.message; }
      }
      console.log(JSON.stringify(out));
    `;
    const scriptPath = join(scratch, `degenerate-${(scratchCount += 1)}.ts`);
    writeFileSync(scriptPath, script);
    const run = spawnSync(process.execPath, ['--import', 'tsx', scriptPath], { encoding: 'utf8', timeout: 20_000 });
    expect(run.error, 'the reader did not return within 20 s').toBeUndefined();
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1)!)).toEqual({
      zeroSizeEntries: 'undefined',
      hugeClaimedSize: 'undefined',
      truncatedGzip: expect.stringMatching(/^InputValidationError: the training output is not a gzip file .*unexpected end of file$/),
      cutInModelJson: "InputValidationError: the training output's model.json is cut short",
    });
  }, 30_000);
});
