/** `batchron emit`: the file is validated before anything is sent, the error naming the file and the field. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readEvents } from '#cli/commands/emit';
import { UsageError } from '#cli/commands/common';

const dir = mkdtempSync(join(tmpdir(), 'batchron-emit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('batchron emit: reading events', () => {
  it('reads one real-shaped S3 event, or an array of them', () => {
    expect(readEvents('events/s3/object-created.json')).toEqual([expect.objectContaining({ source: 'aws.s3', 'detail-type': 'Object Created' })]);
    const two = file('two.json', JSON.stringify([{ source: 'my.app', 'detail-type': 'File Ready', detail: { key: 'a' } }, { source: 'my.app', 'detail-type': 'File Ready', detail: { key: 'b' } }]));
    expect(readEvents(two)).toHaveLength(2);
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['an event without detail-type', JSON.stringify({ source: 'my.app', detail: {} }), /detail-type/],
    ['a detail that is not an object', JSON.stringify({ source: 'my.app', 'detail-type': 'X', detail: 'text' }), /detail/],
    ['an empty array', '[]', /\(root\)/],
  ])('refuses %s, naming the file', (name, text, message) => {
    const path = file(`${name.replace(/\W+/g, '-')}.json`, text);
    expect(() => readEvents(path)).toThrow(UsageError);
    expect(() => readEvents(path)).toThrow(new RegExp(`${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: .*`));
    expect(() => readEvents(path)).toThrow(message);
  });
});
