/**
 * Opaque pagination cursors: base64url of DynamoDB's LastEvaluatedKey. Callers hand them
 * back unchanged; a tampered cursor is a ValidationError, not a 500.
 */
import * as z from '../zod.ts';
import { ValidationError } from '../errors.ts';

const KeySchema = z.record(z.string(), z.union([z.string(), z.number()]));

/** Encodes a LastEvaluatedKey (string/number attributes only, as our keys are). */
export function encodeCursor(key: Record<string, unknown> | undefined): string | undefined {
  if (!key) return undefined;
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** Decodes a cursor made by encodeCursor. */
export function decodeCursor(cursor: string | undefined): Record<string, string | number> | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    return KeySchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch (error) {
    throw new ValidationError('cursor: not a cursor this API returned', [{ path: 'cursor', message: 'invalid' }], { cause: error });
  }
}
