import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ToolError } from '../../src/errors.ts';
import type { BodyPlan, OperationPlan, ParameterLocation, ParameterPlan, ParameterStyle } from '../../src/openapi/operation.ts';
import { buildRequest } from '../../src/upstream/build-request.ts';
import { testPlan } from './recording-upstream.ts';

const plan = testPlan;

function param(location: ParameterLocation, style: ParameterStyle, explode: boolean, over: Partial<ParameterPlan> = {}): ParameterPlan {
  return { argument: 'color', in: location, name: 'color', required: false, style, explode, ...over };
}

const VALUES = { empty: '', string: 'blue', array: ['blue', 'black', 'brown'], object: { R: 100, G: 200, B: 150 } };
type Kind = keyof typeof VALUES;
type Row = [ParameterStyle, boolean, Partial<Record<Kind, string>>];

/** One parameter, one value: what reaches the wire at its location. */
function wire(location: ParameterLocation, p: ParameterPlan, value: unknown): string {
  const path = location === 'path' ? '/x/c{color}' : '/x';
  const req = buildRequest(plan({ path, parameters: [p] }), { color: value });
  if (location === 'path') return req.path.slice('/x/c'.length);
  if (location === 'query') return req.path.includes('?') ? req.path.slice(req.path.indexOf('?') + 1) : '';
  return req.headers[location === 'header' ? 'color' : 'cookie'] ?? '';
}

function table(location: ParameterLocation, rows: Row[]) {
  for (const [style, explode, expected] of rows) {
    for (const [kind, want] of Object.entries(expected) as Array<[Kind, string]>) {
      it(`${style}, explode ${explode}, ${kind} -> ${want}`, () => {
        assert.equal(wire(location, param(location, style, explode), VALUES[kind]), want);
      });
    }
  }
}

// The OpenAPI 3.1.1 style examples table (4.8.12.4.1), row by row, with its exact strings.
describe('OpenAPI style table: path', () => {
  table('path', [
    ['matrix', false, { empty: ';color', string: ';color=blue', array: ';color=blue,black,brown', object: ';color=R,100,G,200,B,150' }],
    ['matrix', true, { empty: ';color', string: ';color=blue', array: ';color=blue;color=black;color=brown', object: ';R=100;G=200;B=150' }],
    ['label', false, { empty: '.', string: '.blue', array: '.blue,black,brown', object: '.R,100,G,200,B,150' }],
    ['label', true, { empty: '.', string: '.blue', array: '.blue.black.brown', object: '.R=100.G=200.B=150' }],
    ['simple', false, { string: 'blue', array: 'blue,black,brown', object: 'R,100,G,200,B,150' }],
    ['simple', true, { string: 'blue', array: 'blue,black,brown', object: 'R=100,G=200,B=150' }],
  ]);
});

describe('OpenAPI style table: query', () => {
  table('query', [
    ['form', false, { empty: 'color=', string: 'color=blue', array: 'color=blue,black,brown', object: 'color=R,100,G,200,B,150' }],
    ['form', true, { empty: 'color=', string: 'color=blue', array: 'color=blue&color=black&color=brown', object: 'R=100&G=200&B=150' }],
    ['spaceDelimited', false, { array: 'color=blue%20black%20brown', object: 'color=R%20100%20G%20200%20B%20150' }],
    ['pipeDelimited', false, { array: 'color=blue%7Cblack%7Cbrown', object: 'color=R%7C100%7CG%7C200%7CB%7C150' }],
    ['deepObject', true, { object: 'color%5BR%5D=100&color%5BG%5D=200&color%5BB%5D=150' }],
  ]);
  // Not defined by the table; the de facto readings, pinned so they do not drift.
  table('query', [
    ['spaceDelimited', true, { array: 'color=blue&color=black&color=brown' }],
    ['pipeDelimited', true, { array: 'color=blue&color=black&color=brown' }],
  ]);
});

describe('OpenAPI style table: header and cookie', () => {
  table('header', [
    ['simple', false, { string: 'blue', array: 'blue,black,brown', object: 'R,100,G,200,B,150' }],
    ['simple', true, { string: 'blue', array: 'blue,black,brown', object: 'R=100,G=200,B=150' }],
  ]);
  table('cookie', [
    ['form', false, { string: 'color=blue', array: 'color=blue,black,brown', object: 'color=R,100,G,200,B,150' }],
    ['form', true, { string: 'color=blue', array: 'color=blue; color=black; color=brown', object: 'R=100; G=200; B=150' }],
  ]);
});

describe('values and encoding', () => {
  const q = (value: unknown, over: Partial<ParameterPlan> = {}) => wire('query', param('query', 'form', true, over), value);

  it('percent-encodes everything outside RFC 3986 unreserved', () => {
    assert.equal(q("a b&c=d/e?f#g+h!'()*~._-é"), 'color=a%20b%26c%3Dd%2Fe%3Ff%23g%2Bh%21%27%28%29%2A~._-%C3%A9');
  });
  it('allowReserved keeps reserved characters (but not #) and existing escapes', () => {
    assert.equal(q('a/b:c?d&e=f#g%20h[i]', { allowReserved: true }), 'color=a/b:c?d&e=f%23g%20h[i]');
  });
  it('numbers and booleans are written as JSON writes them', () => {
    assert.equal(q(1.5), 'color=1.5');
    assert.equal(q(false), 'color=false');
    assert.equal(q(0), 'color=0');
  });
  it('null, an empty list and an empty object send nothing (RFC 6570 2.3 undefined)', () => {
    for (const v of [null, undefined, [], {}]) assert.equal(q(v), '');
  });
  it('the Swagger 2.0 tsv delimiter joins a list with encoded tabs', () => {
    assert.equal(q(['a', 'b'], { explode: false, delimiter: '\t' }), 'color=a%09b');
  });
  it('content-encoded parameters go as JSON, then percent-encoded', () => {
    assert.equal(q({ a: 1, b: [true] }, { contentType: 'application/json' }), 'color=%7B%22a%22%3A1%2C%22b%22%3A%5Btrue%5D%7D');
  });
  it('deepObject recurses into nested objects and repeats list members', () => {
    assert.equal(
      wire('query', param('query', 'deepObject', true), { a: { b: 'x y' }, tags: ['p', 'q'] }),
      'color%5Ba%5D%5Bb%5D=x%20y&color%5Btags%5D=p&color%5Btags%5D=q',
    );
  });
  it('parameters keep their declared order; names are encoded too', () => {
    const req = buildRequest(
      plan({
        parameters: [
          { argument: 'b', in: 'query', name: 'filter[b]', required: false, style: 'form', explode: true },
          { argument: 'a', in: 'query', name: 'a', required: false, style: 'form', explode: true },
        ],
      }),
      { a: '1', b: '2' },
    );
    assert.equal(req.path, '/x?filter%5Bb%5D=2&a=1');
  });
});

describe('path safety', () => {
  const pathOf = (value: unknown) =>
    buildRequest(plan({ path: '/repos/{owner}/issues', parameters: [param('path', 'simple', false, { name: 'owner', argument: 'owner', required: true })] }), {
      owner: value,
    }).path;

  it('a value can never add a segment, a query, a fragment or a host', () => {
    assert.equal(pathOf('../../admin'), '/repos/..%2F..%2Fadmin/issues');
    assert.equal(pathOf('a/b?c=1#d'), '/repos/a%2Fb%3Fc%3D1%23d/issues');
    assert.equal(pathOf('//evil.example/x'), '/repos/%2F%2Fevil.example%2Fx/issues');
    assert.equal(pathOf('http://evil.example'), '/repos/http%3A%2F%2Fevil.example/issues');
    assert.equal(pathOf('%2e%2e'), '/repos/%252e%252e/issues');
    assert.equal(pathOf('a\\b'), '/repos/a%5Cb/issues');
  });
  it('refuses dot-segments, empty and missing values', () => {
    for (const v of ['.', '..', '', undefined, null]) {
      assert.throws(() => pathOf(v), ToolError, `value ${String(v)}`);
    }
  });
  it('never sends a template variable literally', () => {
    assert.throws(() => buildRequest(plan({ path: '/a/{id}' }), { id: 'x' }), /Path parameter id is missing/);
  });
  it('label style cannot produce a dot-segment either', () => {
    const p = plan({ path: '/a/{v}/b', parameters: [param('path', 'label', false, { name: 'v', argument: 'v', required: true })] });
    assert.throws(() => buildRequest(p, { v: '.' }), ToolError);
    assert.equal(buildRequest(p, { v: 'x' }).path, '/a/.x/b');
  });
});

describe('headers', () => {
  const hp = (name: string) => param('header', 'simple', false, { name, argument: name.toLowerCase().replace(/-/g, '_') });

  it('refuses CR, LF and NUL (no header injection)', () => {
    for (const v of ['a\r\nX-Injected: 1', 'a\nb', 'a\rb', 'a\u0000b']) {
      assert.throws(() => buildRequest(plan({ parameters: [hp('X-Trace')] }), { x_trace: v }), /must not contain CR, LF or NUL/);
    }
    assert.throws(() => buildRequest(plan({ parameters: [hp('X-Trace')] }), { x_trace: 'caf\u0301\u20ac' }), ToolError);
  });
  it('arguments never set credentials or framing headers, whatever the spec declares', () => {
    const names = ['Authorization', 'Cookie', 'Host', 'Content-Length', 'Content-Type', 'Accept', 'X-Forwarded-For', 'Proxy-Authorization'];
    const args = Object.fromEntries(names.map((n) => [n.toLowerCase().replace(/-/g, '_'), 'canary']));
    const req = buildRequest(plan({ parameters: names.map(hp) }), args);
    assert.deepEqual(req.headers, {});
  });
  it('the allow-list decides which declared headers are sent', () => {
    const req = buildRequest(plan({ parameters: [hp('X-A'), hp('X-B')] }), { x_a: '1', x_b: '2' }, { allowHeader: (n) => n === 'x-a' });
    assert.deepEqual(req.headers, { 'x-a': '1' });
  });
  it('Accept lists what the operation produces', () => {
    assert.equal(buildRequest(plan({ produces: ['application/json', 'text/csv'] }), {}).headers.accept, 'application/json, text/csv');
  });
});

describe('bodies', () => {
  const withBody = (body: BodyPlan, method: OperationPlan['method'] = 'post') => plan({ method, body });

  it('JSON, whole: the argument is the body', () => {
    const req = buildRequest(withBody({ mode: 'whole', argument: 'body', required: true, mediaType: 'application/merge-patch+json' }, 'patch'), {
      body: { metadata: { labels: { a: 'b' } } },
    });
    assert.equal(req.method, 'PATCH');
    assert.equal(req.headers['content-type'], 'application/merge-patch+json');
    assert.equal(req.body, '{"metadata":{"labels":{"a":"b"}}}');
  });
  it('JSON, spread: arguments map back to body property names', () => {
    const req = buildRequest(
      withBody({ mode: 'spread', properties: { title: 'title', body_id: 'id' }, required: true, mediaType: 'application/json' }),
      { title: 'T', body_id: 7, other: 'ignored' },
    );
    assert.equal(req.body, '{"title":"T","id":7}');
  });
  it('an optional body that was not given sends no body and no Content-Type', () => {
    const req = buildRequest(withBody({ mode: 'whole', argument: 'body', required: false, mediaType: 'application/json' }), {});
    assert.equal(req.body, null);
    assert.equal(req.headers['content-type'], undefined);
  });
  it('application/x-www-form-urlencoded: WHATWG encoding, lists repeat, objects as JSON', () => {
    const req = buildRequest(withBody({ mode: 'spread', properties: { a: 'a', b: 'b', tags: 'tags', o: 'o' }, required: true, mediaType: 'application/x-www-form-urlencoded' }), {
      a: 1,
      b: 'x y&z=é',
      tags: ['p', 'q'],
      o: { k: true },
    });
    assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(req.body, 'a=1&b=x+y%26z%3D%C3%A9&tags=p&tags=q&o=%7B%22k%22%3Atrue%7D');
  });
  it('multipart/form-data: base64 files decoded, a fresh boundary, exact bytes', () => {
    const bytes = Buffer.from([0, 1, 2, 255, 13, 10]);
    const req = buildRequest(
      withBody({ mode: 'spread', properties: { file: 'file', note: 'note', meta: 'meta' }, required: true, mediaType: 'multipart/form-data', fileFields: ['file'] }),
      { file: bytes.toString('base64'), note: 'hi', meta: { a: 1 } },
    );
    const boundary = /^multipart\/form-data; boundary=(gangway-[0-9a-f]{32})$/.exec(req.headers['content-type']!)?.[1];
    assert.ok(boundary, req.headers['content-type']);
    const expected = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="file"\r\nContent-Type: application/octet-stream\r\n\r\n`),
      bytes,
      Buffer.from(`\r\n--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="meta"\r\nContent-Type: application/json\r\n\r\n{"a":1}\r\n`),
      Buffer.from(`--${boundary}--\r\n`),
    ]);
    assert.deepEqual(req.body, expected);
    const again = buildRequest(
      withBody({ mode: 'spread', properties: { note: 'note' }, required: true, mediaType: 'multipart/form-data' }),
      { note: 'x' },
    );
    assert.notEqual(again.headers['content-type'], req.headers['content-type'], 'each body gets its own boundary');
  });
  it('multipart: a data: URL names the file part type', () => {
    const req = buildRequest(
      withBody({ mode: 'whole', argument: 'form', required: true, mediaType: 'multipart/form-data', fileFields: ['img'] }),
      { form: { img: `data:image/png;base64,${Buffer.from('PNG').toString('base64')}` } },
    );
    assert.match(String(req.body), /name="img"; filename="img"\r\nContent-Type: image\/png\r\n\r\nPNG\r\n/);
  });
  it('multipart: a data: URL type with CR/LF cannot add part headers (it is dropped)', () => {
    const req = buildRequest(
      withBody({ mode: 'whole', argument: 'form', required: true, mediaType: 'multipart/form-data', fileFields: ['img'] }),
      { form: { img: `data:image/png\r\nContent-Disposition: form-data;base64,${Buffer.from('PNG').toString('base64')}` } },
    );
    const body = String(req.body);
    assert.equal(body.match(/Content-Disposition/g)?.length, 1, body);
    assert.match(body, /name="img"; filename="img"\r\nContent-Type: application\/octet-stream\r\n\r\nPNG\r\n/);
  });
  it('a lone surrogate in a path argument is a tool error the model can fix, not an internal error', () => {
    const p = plan({ path: '/items/{id}', parameters: [{ argument: 'id', in: 'path', name: 'id', required: true, style: 'simple', explode: false }] });
    assert.throws(() => buildRequest(p, { id: '\ud800' }), (e: Error) => e.name === 'ToolError' && /id/.test(e.message));
  });
  it('refuses invalid base64 instead of sending half a file', () => {
    const p = withBody({ mode: 'whole', argument: 'data', required: true, mediaType: 'application/octet-stream' }, 'put');
    assert.throws(() => buildRequest(p, { data: 'not base64!' }), /not valid base64/);
    const req = buildRequest(p, { data: Buffer.from('raw\u0000bytes').toString('base64') });
    assert.deepEqual(req.body, Buffer.from('raw\u0000bytes'));
    assert.equal(req.headers['content-type'], 'application/octet-stream');
  });
  it('text/plain sends the string as it is', () => {
    const req = buildRequest(withBody({ mode: 'whole', argument: 'text', required: true, mediaType: 'text/plain' }), { text: 'line 1\nline 2' });
    assert.equal(req.body, 'line 1\nline 2');
    assert.equal(req.headers['content-type'], 'text/plain');
  });

  it('form bodies follow the Encoding Object (Swagger 2.0 collectionFormat included)', () => {
    const req = buildRequest(
      withBody({
        mode: 'spread',
        properties: { csv: 'csv', ssv: 'ssv', pipes: 'pipes', tsv: 'tsv', multi: 'multi', deep: 'deep', r: 'r' },
        required: true,
        mediaType: 'application/x-www-form-urlencoded',
        encoding: {
          csv: { style: 'form', explode: false },
          ssv: { style: 'spaceDelimited', explode: false },
          pipes: { style: 'pipeDelimited', explode: false },
          tsv: { style: 'form', explode: false, delimiter: '\t' },
          multi: { style: 'form', explode: true },
          deep: { style: 'deepObject', explode: true },
          r: { allowReserved: true },
        },
      }),
      { csv: ['a', 'b c'], ssv: ['a', 'b'], pipes: ['a', 'b'], tsv: ['a', 'b'], multi: ['a', 'b'], deep: { k: 'v' }, r: 'a/b?c' },
    );
    assert.equal(req.body, 'csv=a,b%20c&ssv=a%20b&pipes=a%7Cb&tsv=a%09b&multi=a&multi=b&deep%5Bk%5D=v&r=a/b?c');
  });
  it('multipart: explode false joins a list into one part; a declared contentType names the part', () => {
    const req = buildRequest(
      withBody({
        mode: 'spread',
        properties: { ids: 'ids', doc: 'doc', pic: 'pic' },
        required: true,
        mediaType: 'multipart/form-data',
        fileFields: ['pic'],
        encoding: { ids: { style: 'pipeDelimited', explode: false }, doc: { contentType: 'application/xml' }, pic: { contentType: 'image/png' } },
      }),
      { ids: [1, 2], doc: '<a/>', pic: Buffer.from('P').toString('base64') },
    );
    const body = String(req.body);
    assert.match(body, /name="ids"\r\n\r\n1\|2\r\n/);
    assert.match(body, /name="doc"\r\nContent-Type: application\/xml\r\n\r\n<a\/>\r\n/);
    assert.match(body, /name="pic"; filename="pic"\r\nContent-Type: image\/png\r\n\r\nP\r\n/);
  });
  it('other documents (XML, YAML) go as written; contentEncoding base64 bodies as bytes', () => {
    const xml = buildRequest(withBody({ mode: 'whole', argument: 'body', required: true, mediaType: 'application/xml' }), { body: '<pet id="1"/>' });
    assert.equal(xml.body, '<pet id="1"/>');
    const png = buildRequest(withBody({ mode: 'whole', argument: 'body', required: true, mediaType: 'image/png', contentEncoding: 'base64' }, 'put'), {
      body: Buffer.from([1, 2, 3]).toString('base64'),
    });
    assert.deepEqual(png.body, Buffer.from([1, 2, 3]));
    assert.equal(png.headers['content-type'], 'image/png');
  });
});
