import { InputValidationError } from './errors.js';

/** Splits `s3://bucket/key` into its parts; anything else is an input error. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) throw new InputValidationError(`"${uri}" is not an s3://bucket/key URI`, { field: 'uri' });
  return { bucket: match[1]!, key: match[2]! };
}

export const formatS3Uri = (bucket: string, key: string) => `s3://${bucket}/${key}`;
