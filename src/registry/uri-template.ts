/**
 * RFC 6570 URI templates: enough to expand any level-4 template and to match a concrete URI
 * back to its variables (resources/read of a templated resource, completion/complete).
 */

interface VarSpec {
  name: string;
  explode: boolean;
  prefix?: number;
}
interface Expression {
  op: '' | '+' | '#' | '.' | '/' | ';' | '?' | '&';
  vars: VarSpec[];
}
type Part = string | Expression;

const OPS = new Set(['+', '#', '.', '/', ';', '?', '&']);
const VARNAME = /^(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})(?:\.?(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2}))*$/;

export class UriTemplateError extends Error {}

export class UriTemplate {
  readonly parts: readonly Part[];
  readonly variables: readonly string[];
  private readonly regex: RegExp;
  private readonly queryVars: VarSpec[];

  constructor(readonly template: string) {
    this.parts = parse(template);
    this.variables = this.parts.flatMap((p) => (typeof p === 'string' ? [] : p.vars.map((v) => v.name)));
    if (new Set(this.variables).size !== this.variables.length) {
      throw new UriTemplateError(`variable repeated in template "${template}"`);
    }
    const { source, queryVars } = buildMatcher(this.parts, template);
    this.regex = new RegExp(source);
    this.queryVars = queryVars;
  }

  /** Variables of `uri` if it is an expansion of this template, else null. */
  match(uri: string): Record<string, string | string[]> | null {
    let path = uri;
    let query = '';
    if (this.queryVars.length > 0) {
      const q = uri.indexOf('?');
      if (q >= 0) {
        path = uri.slice(0, q);
        query = uri.slice(q + 1);
      }
    }
    const m = this.regex.exec(path);
    if (!m) return null;
    const out: Record<string, string | string[]> = {};
    let group = 1;
    for (const part of this.parts) {
      if (typeof part === 'string' || part.op === '?' || part.op === '&') continue;
      for (const v of part.vars) {
        const raw = m[group++];
        if (raw === undefined || raw === '') continue;
        out[v.name] = v.explode ? splitExploded(raw, part.op) : safeDecode(raw);
      }
    }
    if (query) {
      const wanted = new Map(this.queryVars.map((v) => [v.name, v]));
      for (const pair of query.split('&')) {
        const eq = pair.indexOf('=');
        const name = safeDecode(eq < 0 ? pair : pair.slice(0, eq));
        const spec = wanted.get(name);
        if (!spec) continue;
        const value = eq < 0 ? '' : pair.slice(eq + 1);
        if (spec.explode) {
          const prev = out[name];
          out[name] = [...(Array.isArray(prev) ? prev : []), safeDecode(value)];
        } else {
          out[name] = value.split(',').length > 1 ? value.split(',').map(safeDecode) : safeDecode(value);
        }
      }
    }
    return out;
  }

  expand(vars: Record<string, string | number | string[] | undefined>): string {
    let out = '';
    for (const part of this.parts) {
      if (typeof part === 'string') {
        out += part;
        continue;
      }
      const first = { '': '', '+': '', '#': '#', '.': '.', '/': '/', ';': ';', '?': '?', '&': '&' }[part.op];
      const sep = { '': ',', '+': ',', '#': ',', '.': '.', '/': '/', ';': ';', '?': '&', '&': '&' }[part.op];
      const named = part.op === ';' || part.op === '?' || part.op === '&';
      const allowReserved = part.op === '+' || part.op === '#';
      const pieces: string[] = [];
      for (const v of part.vars) {
        const value = vars[v.name];
        if (value === undefined) continue;
        const enc = (s: string) => encode(s, allowReserved);
        if (Array.isArray(value)) {
          if (value.length === 0) continue;
          if (v.explode) pieces.push(...value.map((x) => (named ? `${v.name}=${enc(x)}` : enc(x))));
          else pieces.push((named ? `${v.name}=` : '') + value.map(enc).join(','));
        } else {
          let s = String(value);
          if (v.prefix !== undefined) s = [...s].slice(0, v.prefix).join('');
          pieces.push(named ? (s === '' && part.op === ';' ? v.name : `${v.name}=${enc(s)}`) : enc(s));
        }
      }
      if (pieces.length) out += first + pieces.join(sep);
    }
    return out;
  }
}

function parse(template: string): Part[] {
  const parts: Part[] = [];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    const close = template.indexOf('}', i);
    if (close >= 0 && (open < 0 || close < open)) throw new UriTemplateError(`unmatched "}" in "${template}"`);
    if (open < 0) {
      parts.push(template.slice(i));
      break;
    }
    if (open > i) parts.push(template.slice(i, open));
    const end = template.indexOf('}', open);
    if (end < 0) throw new UriTemplateError(`unclosed "{" in "${template}"`);
    let body = template.slice(open + 1, end);
    if (body.includes('{')) throw new UriTemplateError(`nested "{" in "${template}"`);
    let op: Expression['op'] = '';
    if (OPS.has(body[0] ?? '')) {
      op = body[0] as Expression['op'];
      body = body.slice(1);
    }
    const vars = body.split(',').map((spec): VarSpec => {
      const explode = spec.endsWith('*');
      const [name = '', prefix] = (explode ? spec.slice(0, -1) : spec).split(':');
      if (!VARNAME.test(name)) throw new UriTemplateError(`bad variable "${spec}" in "${template}"`);
      if (prefix !== undefined && !/^[1-9]\d{0,3}$/.test(prefix)) {
        throw new UriTemplateError(`bad prefix in "${spec}" of "${template}"`);
      }
      return prefix === undefined ? { name, explode } : { name, explode, prefix: Number(prefix) };
    });
    parts.push({ op, vars });
    i = end + 1;
  }
  return parts;
}

function buildMatcher(parts: readonly Part[], template: string) {
  let source = '^';
  const queryVars: VarSpec[] = [];
  let sawQuery = false;
  for (const part of parts) {
    if (typeof part === 'string') {
      if (sawQuery) throw new UriTemplateError(`literal after a query expression in "${template}"`);
      source += escapeRegex(part);
      continue;
    }
    if (part.op === '?' || part.op === '&') {
      sawQuery = true;
      queryVars.push(...part.vars);
      continue;
    }
    if (sawQuery) throw new UriTemplateError(`expression after a query expression in "${template}"`);
    const value = {
      '': '[^/?#,]*',
      '+': '[^?#]*?',
      '#': '[^?#]*?',
      '.': '[^/?#.]*',
      '/': '[^/?#]*',
      ';': '[^/?#;]*',
    }[part.op];
    const lead = { '': '', '+': '', '#': '#', '.': '\\.', '/': '/', ';': ';' }[part.op];
    part.vars.forEach((v, idx) => {
      const sep = idx === 0 ? lead : part.op === '' || part.op === '+' || part.op === '#' ? ',' : lead;
      const named = part.op === ';' ? `${escapeRegex(v.name)}=?` : '';
      if (v.explode) source += `((?:${sep}${named}${value})*)`;
      else source += `(?:${sep}${named}(${value}))?`;
    });
  }
  return { source: `${source}$`, queryVars };
}

function splitExploded(raw: string, op: Expression['op']): string[] {
  const sep = op === '/' ? '/' : op === '.' ? '.' : op === ';' ? ';' : ',';
  return raw
    .split(sep)
    .filter((s) => s !== '')
    .map((s) => safeDecode(op === ';' ? s.replace(/^[^=]*=/, '') : s));
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function encode(s: string, allowReserved: boolean): string {
  return allowReserved ? encodeURI(s).replace(/%25([0-9A-Fa-f]{2})/g, '%$1') : encodeURIComponent(s);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
