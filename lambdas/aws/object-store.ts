import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { NotFoundError } from '../core/errors.js';
import { formatS3Uri, parseS3Uri } from '../core/s3-uri.js';

/** Reads and writes small objects (reports, artifacts, datasets up to the Lambda's memory). */
export class ObjectStore {
  constructor(private readonly s3: S3Client) {}

  async getBytes(uri: string): Promise<Uint8Array> {
    const { bucket, key } = parseS3Uri(uri);
    try {
      const response = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!response.Body) throw new NotFoundError(`object ${uri} has no body`, { field: 'uri' });
      return await response.Body.transformToByteArray();
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') {
        throw new NotFoundError(`object ${uri} does not exist`, { field: 'uri', cause: error });
      }
      throw error;
    }
  }

  async getText(uri: string): Promise<string> {
    return new TextDecoder('utf-8', { fatal: true }).decode(await this.getBytes(uri));
  }

  /** Writes an object and returns its s3:// URI; the checksum lets S3 reject a corrupted upload. */
  async put(bucket: string, key: string, body: string | Uint8Array, contentType: string): Promise<string> {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    await this.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: bytes,
        ContentType: contentType,
        ChecksumSHA256: createHash('sha256').update(bytes).digest('base64'),
      }),
    );
    return formatS3Uri(bucket, key);
  }
}
