// Preload for running @modelcontextprotocol/conformance on Node 20:
//   node --import ./test/conformance/globsync-shim.mjs node_modules/<suite>/dist/index.js ...
//
// The suite's single bundled dist/index.js imports `globSync` from 'fs' at top level. That
// export only exists from Node 22, so on Node 20 the whole CLI fails to link (even --help).
// The suite calls it in one place, `tier-check` (globSync('**/checks.json', { cwd })), which
// we never run; `server` mode never calls it. We still give it a small working version.
//
// A plain `import fs from 'node:fs'` + syncBuiltinESMExports() is too late: the ESM facade of
// 'fs' freezes its export names when first loaded. Adding the property to the CommonJS
// exports obtained through process.getBuiltinModule (Node >= 20.16), before anything imports
// 'fs' as ESM, makes the named export exist when the suite links.
const fs = process.getBuiltinModule('node:fs');
const path = process.getBuiltinModule('node:path');

/** '**' matches any number of directories, '*' and '?' stay within one path segment. */
function patternToRegExp(pattern) {
  let source = '';
  for (const segment of pattern.split('/')) {
    if (segment === '**') {
      source += '(?:[^/]+/)*';
      continue;
    }
    const escaped = segment.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    source += `${escaped.replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}/`;
  }
  return new RegExp(`^${source.replace(/\/$/, '')}$`);
}

if (typeof fs.globSync !== 'function') {
  fs.globSync = function globSync(pattern, options = {}) {
    const cwd = options.cwd ? String(options.cwd) : process.cwd();
    const matchers = (Array.isArray(pattern) ? pattern : [pattern]).map(patternToRegExp);
    const found = [];
    const walk = (relative) => {
      let entries;
      try {
        entries = fs.readdirSync(path.join(cwd, relative), { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        const rel = relative ? `${relative}/${entry.name}` : entry.name;
        if (matchers.some((re) => re.test(rel))) found.push(rel);
        if (entry.isDirectory()) walk(rel);
      }
    };
    walk('');
    return found;
  };
}
