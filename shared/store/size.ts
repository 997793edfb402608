/**
 * DynamoDB's size of an item, which decides what a write costs (one write unit per KB,
 * rounded up, for the table and again for each index the write reaches): the UTF-8 length
 * of every attribute name plus its value's size
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';

/** Size in bytes of a marshalled item. */
export function itemSize(item: Record<string, AttributeValue>): number {
  let n = 0;
  for (const [name, value] of Object.entries(item)) n += Buffer.byteLength(name) + valueSize(value);
  return n;
}

/** Size in bytes of a plain item as the document client would write it. */
export function plainItemSize(item: Record<string, unknown>): number {
  return itemSize(marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: true }));
}

function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  // A number: about one byte per two significant digits, plus one.
  if (v.N !== undefined) return Math.ceil(v.N.replace(/^-|\.|^0+/g, '').length / 2) + 1;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.B !== undefined) return v.B.length;
  if (v.SS) return v.SS.reduce((a, s) => a + Buffer.byteLength(s), 0);
  if (v.NS) return v.NS.reduce((a, s) => a + Math.ceil(s.length / 2) + 1, 0);
  if (v.L) return 3 + v.L.reduce((a, e) => a + 1 + valueSize(e), 0);
  if (v.M) return 3 + Object.entries(v.M).reduce((a, [k, e]) => a + 1 + Buffer.byteLength(k) + valueSize(e), 0);
  return 0;
}
