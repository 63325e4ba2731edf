import { gunzipSync } from 'node:zlib';
import { InputValidationError } from '../errors.js';

const BLOCK = 512;

/** A NUL-terminated header field as text. */
function field(header: Uint8Array, offset: number, length: number): string {
  const bytes = header.subarray(offset, offset + length);
  const end = bytes.indexOf(0);
  return Buffer.from(end === -1 ? bytes : bytes.subarray(0, end)).toString('utf8');
}

/** Entry names compare without a leading `./`, as `tar -C dir .` writes them. */
const normalise = (name: string) => name.replace(/^(\.\/)+/, '');

/**
 * One regular file of a gzipped tar (ustar, GNU or PAX; SageMaker's model.tar.gz), or undefined
 * when the archive has no such file. Only the plain header fields are read, which suffice for a
 * short name at the top of the archive; `maxBytes` bounds the unpacked size.
 */
export function readTarGzEntry(gzipped: Uint8Array, name: string, maxBytes: number): Uint8Array | undefined {
  let tar: Buffer;
  try {
    tar = gunzipSync(gzipped, { maxOutputLength: maxBytes });
  } catch (error) {
    throw new InputValidationError(`the training output is not a gzip file of at most ${maxBytes} bytes: ${(error as Error).message}`, { cause: error });
  }
  const wanted = normalise(name);
  for (let offset = 0; offset + BLOCK <= tar.length; ) {
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) return undefined; // end-of-archive marker
    const sizeField = field(header, 124, 12).trim();
    if (!/^[0-7]*$/.test(sizeField)) throw new InputValidationError(`the training output is not a tar archive (entry size "${sizeField}")`);
    const size = sizeField === '' ? 0 : parseInt(sizeField, 8);
    const type = String.fromCharCode(header[156]!);
    // Only POSIX ustar headers ("ustar\0") keep a path prefix at 345; GNU headers ("ustar  ") keep
    // access and change times there (filled in by incremental archives).
    const posix = field(header, 257, 6) === 'ustar' && header[262] === 0;
    const prefix = posix ? field(header, 345, 155) : '';
    const entry = normalise(prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    const start = offset + BLOCK;
    if ((type === '0' || type === '\0') && entry === wanted) {
      if (start + size > tar.length) throw new InputValidationError(`the training output's ${name} is cut short`);
      return tar.subarray(start, start + size);
    }
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
  }
  return undefined;
}
