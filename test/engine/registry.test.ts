import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { GangwayConfigError } from '../../src/index.ts';
import { Registry } from '../../src/registry/registry.ts';
import { UriTemplate } from '../../src/registry/uri-template.ts';

const tool = (name: string, extra: Record<string, unknown> = {}) => ({ name, handler: () => 'x', ...extra });

function refusal(input: ConstructorParameters<typeof Registry>[0]): string {
  try {
    new Registry(input);
  } catch (err) {
    assert.ok(err instanceof GangwayConfigError, String(err));
    assert.equal(err.code, 'GW_CONFIG_REGISTRY');
    return err.message;
  }
  assert.fail('expected the registry to refuse this input');
}

describe('registry validation names the culprit', () => {
  it('refuses duplicate and malformed tool names', () => {
    assert.match(refusal({ tools: [tool('a'), tool('a')] }), /tool "a": duplicate/);
    assert.match(refusal({ tools: [tool('has space')] }), /tool "has space": name/);
    assert.match(refusal({ tools: [tool('x'.repeat(129))] }), /name must be 1-128/);
  });

  it('refuses invalid schemas', () => {
    assert.match(refusal({ tools: [tool('s', { input: { type: 'string' } })] }), /tool "s": input schema must have type "object"/);
    assert.match(
      refusal({ tools: [tool('t', { input: { type: 'object', properties: { a: { type: 'nope' } } } })] }),
      /tool "t": .*invalid JSON Schema/,
    );
    assert.match(
      refusal({ tools: [tool('u', { input: { $schema: 'http://json-schema.org/draft-04/schema#', type: 'object' } })] }),
      /only JSON Schema 2020-12/,
    );
  });

  it('refuses bad resource URIs, templates and prompts', () => {
    assert.match(refusal({ resources: [{ uri: 'not a uri', name: 'x', read: () => '' }] }), /resource "not a uri"/);
    assert.match(
      refusal({ resourceTemplates: [{ uriTemplate: 'x://{a', name: 'x', read: () => '' }] }),
      /resource template "x:\/\/\{a": unclosed/,
    );
    assert.match(
      refusal({ resourceTemplates: [{ uriTemplate: 'x://{a}', name: 'x', complete: { b: () => [] }, read: () => '' }] }),
      /unknown variable "b"/,
    );
    assert.match(
      refusal({ prompts: [{ name: 'p', arguments: [{ name: 'a' }, { name: 'a' }], get: () => '' }] }),
      /prompt "p": duplicate argument "a"/,
    );
  });

  it('compiles zod 4 schemas to JSON Schema and validates with them', () => {
    const r = new Registry({ tools: [tool('z', { input: z.object({ n: z.number().int().max(5) }) })] });
    const t = r.tools.get('z')!;
    assert.equal(t.inputSchema.type, 'object');
    assert.equal(t.validateInput()({ n: 3 }), true);
    assert.equal(t.validateInput()({ n: 9 }), false);
  });

  it('keeps declaration order and changes its hash when a definition changes', () => {
    const a = new Registry({ tools: [tool('b'), tool('a')] });
    assert.deepEqual(
      a.toolList.map((t) => t.name),
      ['b', 'a'],
    );
    const same = new Registry({ tools: [tool('b'), tool('a')] });
    const changed = new Registry({ tools: [tool('b', { description: 'new' }), tool('a')] });
    assert.equal(a.hash, same.hash);
    assert.notEqual(a.hash, changed.hash);
  });

  it('pages lists with opaque cursors bound to the registry version', () => {
    const r = new Registry({ tools: Array.from({ length: 5 }, (_, i) => tool(`t${i}`)), pageSize: 2 });
    const page = (offset: number) =>
      JSON.parse(
        r.listPage('tools', r.toolList, offset, 'v', (items, next) => ({ names: items.map((t) => t.name), next })).toString(),
      );
    const first = page(0);
    assert.deepEqual(first.names, ['t0', 't1']);
    const second = page(r.parseCursor('tools', first.next)!);
    assert.deepEqual(second.names, ['t2', 't3']);
    assert.equal(r.parseCursor('prompts', first.next), null);
    assert.equal(r.parseCursor('tools', 'garbage'), null);
    const other = new Registry({ tools: [tool('x')], pageSize: 2 });
    assert.equal(other.parseCursor('tools', first.next), null);
  });
});

describe('RFC 6570 URI templates', () => {
  it('matches simple, reserved, path and query expressions', () => {
    assert.deepEqual(new UriTemplate('conferbot://chatbot/{chatbotId}/analytics').match('conferbot://chatbot/abc%20d/analytics'), {
      chatbotId: 'abc d',
    });
    assert.equal(new UriTemplate('conferbot://chatbot/{chatbotId}/analytics').match('conferbot://chatbot/a/b/analytics'), null);
    assert.deepEqual(new UriTemplate('file:///{+path}').match('file:///a/b/c.txt'), { path: 'a/b/c.txt' });
    assert.deepEqual(new UriTemplate('x://items{/id*}').match('x://items/a/b'), { id: ['a', 'b'] });
    assert.deepEqual(new UriTemplate('x://search{?q,limit}').match('x://search?limit=5&q=a%20b'), { q: 'a b', limit: '5' });
    assert.deepEqual(new UriTemplate('test://template/{id}/data').match('test://template/file.txt/data'), { id: 'file.txt' });
  });

  it('expands level 4 templates', () => {
    const t = new UriTemplate('x://{a}{/p*}{?q,r}');
    assert.equal(t.expand({ a: 'h i', p: ['u', 'v'], q: 'z', r: undefined }), 'x://h%20i/u/v?q=z');
    assert.equal(new UriTemplate('x://{+path}').expand({ path: 'a/b c' }), 'x://a/b%20c');
  });

  it('refuses malformed templates', () => {
    for (const bad of ['x://{a', 'x://a}', 'x://{a{b}}', 'x://{a b}', 'x://{a}{a}', 'x://{?q}/after']) {
      assert.throws(() => new UriTemplate(bad), /./, bad);
    }
  });
});
