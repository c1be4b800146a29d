import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseStrictJson } from '../../src/transport/strict-json.ts';

const dupOf = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',')},"k${n - 1}":0}`;

describe('strict JSON', () => {
  it('parses what JSON.parse parses when nothing is ambiguous', () => {
    const text = '{"a":[{"b":1},{"b":2}],"c":{"d":"\\"}{,"},"e":"x"}';
    assert.deepEqual(parseStrictJson(text), JSON.parse(text));
  });

  it('finds duplicates in small and large objects, nested, and after errors elsewhere', () => {
    for (const n of [2, 16, 17, 200]) assert.throws(() => parseStrictJson(dupOf(n)), /duplicate key/, String(n));
    assert.throws(() => parseStrictJson('{"a":{"x":1,"y":{"z":1,"z":2}}}'), /duplicate key "z"/);
    // Sibling objects may reuse names; an earlier failure leaves no state behind.
    assert.throws(() => parseStrictJson('{"a":{"b":1,"b":1'), /duplicate/);
    assert.deepEqual(parseStrictJson('[{"b":1},{"b":2}]'), [{ b: 1 }, { b: 2 }]);
  });

  it('treats escaped spellings as the same key', () => {
    assert.throws(() => parseStrictJson('{"method":"a","m\\u0065thod":"b"}'), /duplicate key "method"/);
  });

  it('refuses nesting deeper than 64 and reports syntax errors as -32700', () => {
    assert.throws(() => parseStrictJson(`${'['.repeat(65)}${']'.repeat(65)}`), /nesting deeper/);
    assert.deepEqual(parseStrictJson(`${'['.repeat(64)}${']'.repeat(64)}`) !== undefined, true);
    assert.throws(() => parseStrictJson('{"a":'), (e: { code?: number }) => e.code === -32700);
  });
});
