import { createHash } from 'node:crypto';

/** SHA-256 as hex: the id of a dataset version, and the integrity check of every stored artifact. */
export const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** SHA-256 (hex) and length of a byte stream, read once chunk by chunk, never whole in memory. */
export async function sha256OfChunks(chunks: AsyncIterable<Uint8Array>): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of chunks) {
    hash.update(chunk);
    bytes += chunk.byteLength;
  }
  return { sha256: hash.digest('hex'), bytes };
}
