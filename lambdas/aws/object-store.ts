import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { AsyncBuffer } from 'hyparquet';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { NotFoundError } from '../core/errors.js';
import { formatS3Uri, parseS3Uri } from '../core/s3-uri.js';
import { sha256OfChunks } from '../core/sha256.js';

const isMissingObject = (error: unknown) =>
  error instanceof NoSuchKey || error instanceof NotFound || ['NoSuchKey', 'NotFound'].includes((error as { name?: string }).name ?? '');

/** Reads and writes objects: small ones whole (reports, artifacts), datasets as streams or by byte range. */
export class ObjectStore {
  constructor(private readonly s3: S3Client) {}

  async getBytes(uri: string): Promise<Uint8Array> {
    const { bucket, key } = parseS3Uri(uri);
    try {
      const response = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!response.Body) throw new NotFoundError(`object ${uri} has no body`, { field: 'uri' });
      return await response.Body.transformToByteArray();
    } catch (error) {
      if (isMissingObject(error)) throw new NotFoundError(`object ${uri} does not exist`, { field: 'uri', cause: error });
      throw error;
    }
  }

  /** The object's bytes as a stream of chunks, for files larger than memory. */
  async *stream(uri: string): AsyncIterable<Uint8Array> {
    const { bucket, key } = parseS3Uri(uri);
    let body: Readable;
    try {
      body = (await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body as Readable;
    } catch (error) {
      if (isMissingObject(error)) throw new NotFoundError(`object ${uri} does not exist`, { field: 'uri', cause: error });
      throw error;
    }
    for await (const chunk of body) yield chunk as Uint8Array;
  }

  /** Random access by HTTP range reads, as the Parquet reader needs (footer first, then one row group at a time). */
  async file(uri: string): Promise<AsyncBuffer> {
    const { bucket, key } = parseS3Uri(uri);
    const size = await this.size(uri);
    if (size === undefined) throw new NotFoundError(`object ${uri} does not exist`, { field: 'uri' });
    return {
      byteLength: size,
      slice: async (start: number, end = size) => {
        if (end <= start) return new ArrayBuffer(0);
        const response = await this.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }));
        const bytes = await response.Body!.transformToByteArray();
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      },
    };
  }

  /** Every object under a prefix, with when it was written, across result pages. */
  async list(bucket: string, prefix: string): Promise<{ key: string; lastModified?: Date; size: number }[]> {
    const objects: { key: string; lastModified?: Date; size: number }[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const object of page.Contents ?? []) {
        if (object.Key) objects.push({ key: object.Key, size: object.Size ?? 0, ...(object.LastModified ? { lastModified: object.LastModified } : {}) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return objects;
  }

  /** The object's size in bytes, or undefined when it does not exist. */
  async size(uri: string): Promise<number | undefined> {
    const { bucket, key } = parseS3Uri(uri);
    try {
      return (await this.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ContentLength ?? 0;
    } catch (error) {
      if (isMissingObject(error)) return undefined;
      throw error;
    }
  }

  /** Server-side copy (one request up to S3's 5 GB limit for CopyObject). */
  async copy(fromUri: string, bucket: string, key: string): Promise<string> {
    const from = parseS3Uri(fromUri);
    await this.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: `${from.bucket}/${encodeURIComponent(from.key).replace(/%2F/g, '/')}` }));
    return formatS3Uri(bucket, key);
  }

  async delete(uri: string): Promise<void> {
    const { bucket, key } = parseS3Uri(uri);
    await this.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }

  /** Starts a multipart upload and presigns a PUT URL per part, so a client uploads straight to S3. */
  async presignUpload(bucket: string, key: string, parts: number, expiresInSeconds: number): Promise<{ uploadId: string; urls: string[] }> {
    const { UploadId } = await this.s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
    if (!UploadId) throw new Error('S3 returned no upload id');
    const urls = await Promise.all(
      Array.from({ length: parts }, (_, i) =>
        getSignedUrl(this.s3, new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1 }), { expiresIn: expiresInSeconds }),
      ),
    );
    return { uploadId: UploadId, urls };
  }

  /** A presigned PUT of one object (up to S3's 5 GB), so a client uploads straight to S3. */
  presignPut(bucket: string, key: string, expiresInSeconds: number): Promise<string> {
    return getSignedUrl(this.s3, new PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: expiresInSeconds });
  }

  /** A presigned GET of an object, so a client downloads it (or streams it elsewhere) without S3 rights of its own. */
  presignGet(uri: string, expiresInSeconds: number): Promise<string> {
    const { bucket, key } = parseS3Uri(uri);
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: expiresInSeconds });
  }

  /** The sha256 (hex) of an object's bytes, read as a stream. */
  async sha256(uri: string): Promise<string> {
    return (await sha256OfChunks(this.stream(uri))).sha256;
  }

  async completeUpload(bucket: string, key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<string> {
    await this.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })) },
      }),
    );
    return formatS3Uri(bucket, key);
  }

  async abortUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }));
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
