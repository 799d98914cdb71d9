// The console is a client of the public API only: every call in
// clients/console/src/*.js (api.get/list/post/put/patch/del, all(), and
// call() inside api.js) is read from the source and its method and path
// held against api-spec/openapi.yaml; query parameters given as an object
// literal must be parameters the operation documents. A call whose path is
// not a literal, and any fetch() outside api.js, fail too (they would escape
// this check). Usage: node console-calls.mjs SPEC CONSOLE_SRC_DIR
// Ends with "N passed, N failed"; exits 1 on any failure.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';

const [specPath, srcDir] = process.argv.slice(2);
if (!specPath || !srcDir) {
  console.error('usage: node console-calls.mjs SPEC CONSOLE_SRC_DIR');
  process.exit(2);
}
let passed = 0;
let failed = 0;
const pass = (m) => { passed++; console.log(`PASS ${m}`); };
const fail = (m) => { failed++; console.log(`FAIL ${m}`); };

const spec = yaml.load(readFileSync(specPath, 'utf8'));
const deref = (p) => (p && p.$ref ? p.$ref.replace(/^#\//, '').split('/').reduce((o, k) => o[k], spec) : p);

// The operation of method and path (a path from the source, with ${...}
// where a value goes), or null.
function operation(method, path) {
  const segs = path.split('/');
  for (const [tpl, item] of Object.entries(spec.paths)) {
    const ts = tpl.split('/');
    if (ts.length !== segs.length || !item[method.toLowerCase()]) continue;
    const ok = ts.every((t, i) => {
      const s = segs[i];
      if (t.startsWith('{') && t.endsWith('}')) return s !== '' && (s.includes('${') || !s.includes('/'));
      return s === t;
    });
    if (ok) return { tpl, op: item[method.toLowerCase()], item };
  }
  return null;
}

// The top-level keys of an object literal starting at text[i] === '{', or
// null when it is not a plain one (spread, computed keys).
function objectKeys(text, i) {
  let depth = 0, j = i, entry = '', keys = [];
  for (; j < text.length; j++) {
    const c = text[j];
    if ('{[('.includes(c)) { depth++; if (depth === 1) continue; }
    if ('}])'.includes(c)) { depth--; if (depth === 0) break; }
    if (depth === 1 && c === ',') { keys.push(entry); entry = ''; continue; }
    if (depth === 1) entry += c;
  }
  keys.push(entry);
  keys = keys.map((e) => e.trim()).filter(Boolean);
  if (keys.some((e) => e.startsWith('...') || e.startsWith('['))) return null;
  return keys.map((e) => /^['"]?([A-Za-z_$][\w$]*)['"]?\s*(?::|$)/.exec(e)?.[1] ?? null);
}

const CALL = /(?<![.\w$])(?:api\.(get|list|post|put|patch|del)|(all)|call)\(\s*(?:'(GET|POST|PUT|PATCH|DELETE)'\s*,\s*)?/g;
const METHOD = { get: 'GET', list: 'GET', all: 'GET', post: 'POST', put: 'PUT', patch: 'PATCH', del: 'DELETE' };
let calls = 0;
const files = readdirSync(srcDir).filter((f) => f.endsWith('.js') && !f.startsWith('uPlot'));
for (const file of files) {
  const text = readFileSync(join(srcDir, file), 'utf8');
  const isApi = file === 'api.js';
  if (!isApi && /\bfetch\s*\(|XMLHttpRequest|EventSource|WebSocket|sendBeacon/.test(text))
    fail(`${file}: reaches the network without api.js`);
  for (const m of text.matchAll(CALL)) {
    const line = text.slice(0, m.index).split('\n').length;
    const where = `${file}:${line}`;
    const lineText = text.split('\n')[line - 1];
    if (/^\s*(\/\/|\*)/.test(lineText) || /^\s*(export\s+)?(async\s+)?function\b/.test(lineText)) continue;
    const isCall = m[0].startsWith('call');
    if (isCall && !isApi) continue; // only api.js has call()
    if (isCall && !m[3]) continue;  // call(method, ...) inside api.js's own helpers
    if (isApi && !isCall) continue; // api.js's wrappers pass their path through
    const method = m[3] || METHOD[m[1] || m[2]];
    let i = m.index + m[0].length;
    const quote = text[i];
    if (isApi && !["'", '`'].includes(quote)) continue; // the wrappers pass their path through
    if (!["'", '`'].includes(quote)) {
      fail(`${where}: ${method} with a path that is not a literal`);
      continue;
    }
    const end = text.indexOf(quote, i + 1);
    const path = text.slice(i + 1, end);
    calls++;
    const found = operation(method, path);
    if (!found) {
      fail(`${where}: ${method} ${path} is not an operation of the spec`);
      continue;
    }
    // query names, for the calls whose second argument is the query object
    let k = end + 1;
    while (/\s/.test(text[k])) k++;
    if (['get', 'list', 'del', 'all'].includes(m[1] || m[2]) && text[k] === ',') {
      k++;
      while (/\s/.test(text[k])) k++;
      if (text[k] === '{') {
        const keys = objectKeys(text, k);
        const params = [...(found.item.parameters ?? []), ...(found.op.parameters ?? [])].map(deref)
          .filter((p) => p.in === 'query').map((p) => p.name);
        const unknown = keys === null ? [] : keys.filter((x) => x === null || !params.includes(x));
        if (unknown.length) {
          fail(`${where}: ${method} ${found.tpl} with query ${unknown.join(', ')} not documented (${params.join(', ')})`);
          continue;
        }
      }
    }
    pass(`${where}: ${method} ${found.tpl}`);
  }
}
if (calls < 20) fail(`only ${calls} API calls found in ${srcDir}: the pattern no longer matches the console's code`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
