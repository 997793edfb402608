/**
 * Opaque pagination cursors for run listings: base64url of `{ b }`, the index sort key of
 * the last run shown (keyset paging: a run created meanwhile never shifts a page, and a
 * page across schedules resumes every schedule below the same key). Callers hand them back
 * unchanged; a tampered cursor is a ValidationError naming `query.cursor`, not a 500.
 */
import * as z from '../zod.ts';
import { ValidationError } from '../errors.ts';

const CursorSchema = z.object({ b: z.string().check(z.minLength(1)) });

/** The cursor that resumes below `before` (a ListedRun's sortKey). */
export function encodeCursor(before: string): string {
  return Buffer.from(JSON.stringify({ b: before }), 'utf8').toString('base64url');
}

/** The sort key a cursor made by encodeCursor resumes below; undefined for no cursor. */
export function decodeCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    return CursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))).b;
  } catch (error) {
    throw new ValidationError(
      'Invalid request: query.cursor is not a cursor this API returned',
      [{ path: 'query.cursor', message: 'is not a cursor this API returned; pass back the `cursor` of the previous page unchanged' }],
      { cause: error },
    );
  }
}
