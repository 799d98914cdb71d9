// Live answers against the spec: reads the JSON lines the integration
// harness recorded (tests/run sets LICD_TEST_RESPONSES; one line per answer,
// {"method","path","status","content_type","length","headers","body"}) and
// checks each against the OpenAPI document.
// Usage: node validate.mjs SPEC RESPONSES.jsonl
//
// Each answer is matched to its operation by method and path template
// (/v1/packs/PO-1 is /v1/packs/{pack_id}; a template with more literal
// segments wins). Its status must be documented for that operation, exactly
// or as "4XX"/"5XX" or "default"; the media type of its Content-Type must be
// one the response lists (or none, with an empty body, when it lists no
// content); a JSON body (application/json, application/problem+json) must
// parse and satisfy the response's schema (JSON Schema 2020-12: Ajv2020 with
// ajv-formats, the document's $refs resolved where they are written).
//
// Answers outside every operation are held to the reusable responses that
// the spec's conventions document for them: a path no template matches must
// be 404 (components/responses/NotFound), a known path with a method it does
// not list 405 (components/responses/MethodNotAllowed, with an Allow header
// naming exactly the path's methods in the spec); besides, any request may
// get the route-independent 400 BadRequest (ambiguous framing), 413
// BodyTooLarge (decided from Content-Length before routing) and 500
// InternalError. Any other status there is undocumented, hence a failure.
//
// Beyond the schema: every member of a JSON answer must be declared by its
// schema (the spec describes each field the service sends); a problem's
// "status" must be the HTTP status and its "request_id" the X-Request-Id; its
// "code" must be named by the response documented for the status or by the
// operation's description; and the recorded headers (X-Request-Id, Allow,
// Retry-After) must be there when the response documents them as required,
// match their schemas, and not come when it does not document them.
//
// One check per (operation, status) pair seen, passed when every answer of
// the pair conforms; one more that the recording is there and reads, and
// one that every response schema of the spec compiles.
//
// Rate limits and retries: an answer that carries RateLimit-Limit,
// RateLimit-Remaining and RateLimit-Reset (every answer to a request whose
// key was accepted) must be to an operation whose 429 response documents
// those three headers, with values its schemas accept, and must carry all
// three or none; an answer with Idempotent-Replayed must be to an operation
// that lists the IdempotencyKey parameter, which documents the header. A
// problem's code may also be named by the operation's parameters (the
// Idempotency-Key's 409s).
// Operations no answer reached are listed for information only. Ends with
// "N passed, N failed"; exits 1 on any failure.
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const SHOWN_PER_CHECK = 3; // distinct problems printed per failing check

const [specPath, recordPath] = process.argv.slice(2);
if (!specPath || !recordPath) {
  console.error('usage: node validate.mjs SPEC RESPONSES.jsonl');
  process.exit(2);
}

let passed = 0;
let failed = 0;
function finish() {
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

let spec;
try {
  spec = yaml.load(readFileSync(specPath, 'utf8'));
} catch (e) {
  console.log(`FAIL spec: cannot read ${specPath}: ${e.message}`);
  failed++;
  finish();
}

// 1. The recording.
let records = [];
{
  let text = null;
  try {
    text = readFileSync(recordPath, 'utf8');
  } catch (e) {
    console.log(`FAIL recording: cannot read ${recordPath}: ${e.message}`);
  }
  const bad = [];
  if (text !== null) {
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      try {
        const r = JSON.parse(line);
        if (typeof r.method !== 'string' || typeof r.path !== 'string' || typeof r.status !== 'number')
          throw new Error('method, path or status missing');
        records.push(r);
      } catch (e) {
        bad.push(`line ${i + 1}: ${e.message}`);
      }
    });
  }
  if (text === null) {
    failed++;
  } else if (bad.length || records.length === 0) {
    console.log(`FAIL recording: ${records.length} answers read from ${recordPath}` +
      (bad.length ? `, ${bad.length} unreadable lines (${bad.slice(0, 3).join('; ')})` : ''));
    failed++;
  } else {
    console.log(`PASS recording: ${records.length} answers read from ${recordPath}`);
    passed++;
  }
  if (records.length === 0) finish();
}

// 2. The schemas. The document's components and paths go into Ajv as one
//    schema, so every "#/components/..." $ref resolves where it is written;
//    OpenAPI's own annotation keywords are known to Ajv and ignored, and strict
//    mode still refuses any other keyword it does not know (a misspelt one).
const ajv = new Ajv2020({
  allErrors: true,
  strict: true,
  strictTypes: false,
  strictTuples: false,
  strictRequired: false,
  validateFormats: true,
});
addFormats(ajv);
for (const f of ['int32', 'int64', 'float', 'double', 'byte', 'binary', 'password']) ajv.addFormat(f, true);
for (const k of ['example', 'discriminator', 'xml', 'externalDocs', 'components', 'paths']) ajv.addKeyword(k);
const ROOT = 'licd:openapi';
ajv.addSchema({ $id: ROOT, components: spec.components ?? {}, paths: spec.paths ?? {} });

const escapePointer = (s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1');
function atPointer(ptr) {
  let node = spec;
  for (const part of ptr.split('/').slice(1)) {
    if (node == null) return undefined;
    node = node[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node;
}
// An OpenAPI object that may be a $ref (responses are), with the pointer it
// really lives at.
function deref(obj, ptr) {
  for (let i = 0; obj && obj.$ref && i < 10; i++) {
    if (!obj.$ref.startsWith('#/')) throw new Error(`external $ref not supported: ${obj.$ref}`);
    ptr = obj.$ref.slice(1);
    obj = atPointer(ptr);
  }
  return [obj, ptr];
}
const validators = new Map();
function validatorAt(ptr) {
  if (!validators.has(ptr)) {
    let v;
    try {
      v = ajv.compile({ $ref: `${ROOT}#${ptr}` });
    } catch (e) {
      v = e;
    }
    validators.set(ptr, v);
  }
  return validators.get(ptr);
}

// 3. Operations and path templates.
const templates = [];
const operations = new Map(); // "METHOD /template" -> { ptr, op }
for (const [path, item] of Object.entries(spec.paths ?? {})) {
  const segs = path.split('/');
  const re = new RegExp('^' + segs.map((s) => (/^\{[^}]+\}$/.test(s) ? '[^/]+'
    : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/') + '$');
  templates.push({ path, re, literal: segs.filter((s) => !/^\{[^}]+\}$/.test(s)).length });
  for (const m of METHODS)
    if (item?.[m]) operations.set(`${m.toUpperCase()} ${path}`,
      { ptr: `/paths/${escapePointer(path)}/${m}`, op: item[m] });
}
templates.sort((a, b) => b.literal - a.literal);
const templateOf = (path) => templates.find((t) => t.re.test(path))?.path;

// What the spec's conventions say any request may get before (or instead
// of) routing, each a reusable response of components/responses: ambiguous
// framing, a body over the limit (decided from Content-Length alone), an
// unexpected failure.
const ANY_ROUTE = { 400: 'BadRequest', 413: 'BodyTooLarge', 500: 'InternalError' };
// Every response schema compiles (Ajv's strict mode refuses a keyword it
// does not know), the ones no answer reaches included: one check.
{
  const broken = [];
  let n = 0;
  const compileContent = (resp, ptr) => {
    for (const [type, media] of Object.entries(resp?.content ?? {})) {
      if (media?.schema === undefined) continue;
      n++;
      const v = validatorAt(`${ptr}/content/${escapePointer(type)}/schema`);
      if (v instanceof Error) broken.push(`${ptr}/content/${type}: ${v.message}`);
    }
  };
  for (const [name, resp] of Object.entries(spec.components?.responses ?? {}))
    compileContent(resp, `/components/responses/${escapePointer(name)}`);
  for (const [, { ptr, op }] of operations)
    for (const [status, resp] of Object.entries(op.responses ?? {}))
      if (!resp?.$ref) compileContent(resp, `${ptr}/responses/${escapePointer(status)}`);
  if (broken.length) {
    failed++;
    console.log(`FAIL schemas: ${broken.length} of ${n} response schemas do not compile`);
    for (const b of broken.slice(0, 5)) console.log(`  ${b}`);
  } else {
    passed++;
    console.log(`PASS schemas: all ${n} response schemas compile`);
  }
}

const isJson = (type) => type === 'application/json' || /^application\/[^;]*\+json$/.test(type);
const mediaOf = (ct) => (ct || '').split(';')[0].trim().toLowerCase();

// The response object documented for a status: exact, then "4XX", then "default".
function documented(responses, status) {
  for (const key of [String(status), `${String(status)[0]}XX`, 'default'])
    if (responses && Object.hasOwn(responses, key)) return key;
  return null;
}

// The members of an answer that its schema never names (JSON pointers): the
// spec describes every field the service sends, so a new field must join it.
// An object's declared names are the "properties" of its schema and of every
// allOf/anyOf/oneOf branch, through $refs; "additionalProperties" or
// "patternProperties" (other than false) declare any name.
function declared(schema, seen = new Set()) {
  const out = { names: new Set(), any: false, props: [], items: [] };
  const walk = (s) => {
    if (!s || typeof s !== 'object' || seen.has(s)) return;
    seen.add(s);
    if (s.$ref) {
      try {
        walk(deref(s, '')[0]);
      } catch {
        out.any = true;
      }
    }
    if (s.properties) {
      for (const [k, v] of Object.entries(s.properties)) {
        out.names.add(k);
        out.props.push([k, v]);
      }
    }
    if ((s.additionalProperties !== undefined && s.additionalProperties !== false) || s.patternProperties)
      out.any = true;
    if (s.additionalProperties && typeof s.additionalProperties === 'object') out.props.push(['*', s.additionalProperties]);
    if (s.items) out.items.push(s.items);
    for (const k of ['allOf', 'anyOf', 'oneOf']) for (const b of s[k] ?? []) walk(b);
  };
  walk(schema);
  return out;
}
function undeclared(value, schema, at) {
  const found = [];
  if (Array.isArray(value)) {
    const d = declared(schema);
    for (const [i, v] of value.entries()) for (const it of d.items) found.push(...undeclared(v, it, `${at}/${i}`));
  } else if (value && typeof value === 'object') {
    const d = declared(schema);
    for (const [k, v] of Object.entries(value)) {
      if (!d.names.has(k) && !d.any) {
        found.push(`${at}/${escapePointer(k)}`);
        continue;
      }
      for (const [name, sub] of d.props) if (name === k || (name === '*' && !d.names.has(k)))
        found.push(...undeclared(v, sub, `${at}/${escapePointer(k)}`));
    }
  }
  return [...new Set(found)];
}

// The headers the harness records (X-Request-Id, Allow, Retry-After): each
// one the response documents as required must have come and match its
// schema; one it does not document must not have come.
const RECORDED_HEADERS = ['x-request-id', 'allow', 'retry-after'];
function checkHeaders(rec, resp, respPtr) {
  const problems = [];
  if (!rec.headers) return problems; // a recording without headers
  const doc = new Map();
  for (const [name, h] of Object.entries(resp.headers ?? {})) {
    const [obj, ptr] = deref(h, `${respPtr}/headers/${escapePointer(name)}`);
    doc.set(name.toLowerCase(), [obj, ptr]);
  }
  for (const name of RECORDED_HEADERS) {
    const value = rec.headers[name];
    const entry = doc.get(name);
    if (!entry) {
      if (value !== undefined) problems.push(`header ${name}: ${JSON.stringify(value)} where the spec documents none`);
      continue;
    }
    const [h, ptr] = entry;
    if (value === undefined) {
      if (h?.required) problems.push(`header ${name} is required and did not come`);
      continue;
    }
    if (h?.schema !== undefined) {
      const v = validatorAt(`${ptr}/schema`);
      const type = h.schema.type;
      const typed = (type === 'integer' || type === 'number') && /^-?[0-9]+(\.[0-9]+)?$/.test(value) ? Number(value) : value;
      if (v instanceof Error) problems.push(`the schema of header ${name} does not compile: ${v.message}`);
      else if (!v(typed)) problems.push(`header ${name}: ${JSON.stringify(value)} ${v.errors.map((e) => e.message).join(', ')}`);
    }
  }
  return problems;
}

// The RateLimit-* headers of an answer: documented by the operation's 429
// response, all three together, each within its schema.
const RATELIMIT_HEADERS = ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'];
function checkRateLimit(rec, opKey) {
  const problems = [];
  const came = RATELIMIT_HEADERS.filter((h) => rec.headers?.[h] !== undefined);
  if (came.length === 0) return problems;
  if (came.length !== RATELIMIT_HEADERS.length)
    problems.push(`RateLimit headers ${came.join(', ')} came without the others`);
  const entry = opKey && operations.get(opKey);
  const r429 = entry?.op?.responses?.['429'];
  if (!r429) {
    problems.push(`RateLimit headers on an answer of ${opKey ?? 'no operation'}, which documents no 429 (components/responses/RateLimited)`);
    return problems;
  }
  let resp, ptr;
  try {
    [resp, ptr] = deref(r429, `${entry.ptr}/responses/429`);
  } catch (e) {
    return [e.message];
  }
  const doc = new Map(Object.entries(resp?.headers ?? {}).map(([k, v]) => [k.toLowerCase(), [k, v]]));
  for (const name of came) {
    if (!doc.has(name)) {
      problems.push(`header ${name} came; ${opKey}'s 429 response does not document it`);
      continue;
    }
    const [key, h] = doc.get(name);
    const [obj, hptr] = deref(h, `${ptr}/headers/${escapePointer(key)}`);
    if (obj?.schema === undefined) continue;
    const v = validatorAt(`${hptr}/schema`);
    const value = rec.headers[name];
    const typed = /^-?[0-9]+$/.test(value) ? Number(value) : value;
    if (v instanceof Error) problems.push(`the schema of header ${name} does not compile: ${v.message}`);
    else if (!v(typed)) problems.push(`header ${name}: ${JSON.stringify(value)} ${v.errors.map((e) => e.message).join(', ')}`);
  }
  return problems;
}

// The parameters of an operation, $refs resolved.
function parametersOf(opKey) {
  const entry = opKey && operations.get(opKey);
  return (entry?.op?.parameters ?? []).map((p, i) => {
    try {
      return deref(p, `${entry.ptr}/parameters/${i}`)[0];
    } catch {
      return null;
    }
  }).filter(Boolean);
}

function checkReplayed(rec, opKey) {
  const value = rec.headers?.['idempotent-replayed'];
  if (value === undefined) return [];
  if (!parametersOf(opKey).some((p) => p.in === 'header' && p.name?.toLowerCase() === 'idempotency-key'))
    return [`Idempotent-Replayed on an answer of ${opKey ?? 'no operation'}, which takes no Idempotency-Key`];
  return value === 'true' ? [] : [`Idempotent-Replayed: ${JSON.stringify(value)} (only "true" is documented)`];
}

// Checks one answer against the response object at ptr; returns problems.
function checkAgainst(rec, respPtr) {
  const problems = [];
  let resp;
  try {
    [resp, respPtr] = deref(atPointer(respPtr), respPtr);
  } catch (e) {
    return [e.message];
  }
  if (!resp) return [`the spec's response at ${respPtr} does not resolve`];
  problems.push(...checkHeaders(rec, resp, respPtr));
  if (rec.method === 'HEAD') return problems; // no body to look at
  const media = mediaOf(rec.content_type);
  const content = resp.content ?? {};
  const types = Object.keys(content);
  const empty = rec.length === 0 || (rec.length === undefined && rec.body === null && !rec.body_text && !media);
  if (types.length === 0) {
    if (!empty) problems.push(`a body (${rec.content_type || 'no Content-Type'}) where the spec documents none`);
    return problems;
  }
  const norm = (t) => t.toLowerCase().replace(/\s*;\s*/g, ';').trim();
  const key = types.find((t) => norm(t) === norm(rec.content_type || '')) ??
    types.find((t) => mediaOf(t) === media) ??
    types.find((t) => t.endsWith('/*') && media.startsWith(t.slice(0, -1).toLowerCase())) ??
    types.find((t) => t === '*/*');
  if (!key) {
    problems.push(`Content-Type ${JSON.stringify(rec.content_type)} is not among the documented ${types.join(', ')}`);
    return problems;
  }
  if (!isJson(media)) return problems;
  if (rec.body === null || rec.body === undefined) {
    problems.push(`a body of type ${media} that is not JSON: ${JSON.stringify(String(rec.body_text ?? '').slice(0, 120))}`);
    return problems;
  }
  if (content[key]?.schema !== undefined) {
    const v = validatorAt(`${respPtr}/content/${escapePointer(key)}/schema`);
    if (v instanceof Error) {
      problems.push(`the schema of ${respPtr} does not compile: ${v.message}`);
    } else if (!v(rec.body)) {
      for (const e of v.errors.slice(0, 5))
        problems.push(`${e.instancePath || '(body)'} ${e.message}` +
          (e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''));
      if (v.errors.length > 5) problems.push(`… ${v.errors.length - 5} more schema errors`);
    }
  }
  if (content[key]?.schema !== undefined) {
    const extra = undeclared(rec.body, content[key].schema, '');
    if (extra.length)
      problems.push(`fields the schema does not declare: ${extra.slice(0, 8).join(', ')}` +
        (extra.length > 8 ? ` (${extra.length} in all)` : ''));
  }
  if (media === 'application/problem+json' && typeof rec.body?.status === 'number' && rec.body.status !== rec.status)
    problems.push(`the problem's status ${rec.body.status} is not the HTTP status ${rec.status}`);
  if (media === 'application/problem+json' && rec.headers?.['x-request-id'] !== undefined &&
      typeof rec.body?.request_id === 'string' && rec.body.request_id !== rec.headers['x-request-id'])
    problems.push(`the problem's request_id ${rec.body.request_id} is not the X-Request-Id ${rec.headers['x-request-id']}`);
  return problems;
}

// 4. Every answer, grouped into checks by (operation, status).
const checks = new Map(); // name -> { count, problems: Map(text -> example) }
const seenOps = new Set();
for (const rec of records) {
  const path = rec.path.split('?')[0];
  const template = templateOf(path);
  const opKey = template ? `${rec.method} ${template}` : null;
  let name;
  let problems;
  let respPtr = null;
  if (!template) {
    name = `(no such route) ${rec.status}`;
    const reusable = rec.status === 404 ? 'NotFound' : ANY_ROUTE[rec.status];
    problems = reusable ? checkAgainst(rec, (respPtr = `/components/responses/${reusable}`))
      : [`answered ${rec.status}; a path no template matches is documented as 404 (components/responses/NotFound) only`];
  } else if (!operations.has(opKey)) {
    name = `(method not allowed) ${rec.status}`;
    const reusable = rec.status === 405 ? 'MethodNotAllowed' : ANY_ROUTE[rec.status];
    problems = reusable ? checkAgainst(rec, (respPtr = `/components/responses/${reusable}`))
      : [`answered ${rec.status}; ${template} does not list ${rec.method}, which is documented as 405 (components/responses/MethodNotAllowed) only`];
    // Allow names exactly the methods the spec lists for the path.
    const allow = rec.headers?.allow;
    if (rec.status === 405 && allow !== undefined) {
      const got = allow.split(',').map((m) => m.trim().toUpperCase()).filter(Boolean).sort().join(', ');
      const want = METHODS.filter((m) => spec.paths[template]?.[m]).map((m) => m.toUpperCase()).sort().join(', ');
      if (got !== want) problems.push(`Allow: ${allow} where the spec lists ${want} for ${template}`);
    }
  } else {
    seenOps.add(opKey);
    name = `${opKey} ${rec.status}`;
    const { ptr, op } = operations.get(opKey);
    const key = documented(op.responses, rec.status);
    if (key === null) {
      problems = [`status ${rec.status} is not documented (documented: ${Object.keys(op.responses ?? {}).join(', ')})`];
    } else {
      respPtr = `${ptr}/responses/${escapePointer(key)}`;
      problems = checkAgainst(rec, respPtr);
    }
  }
  // A problem's code must be named (`code`, or an example's "code") by the
  // response documented for its status, or by the operation's description:
  // the spec lists every code an operation answers.
  if (opKey && operations.has(opKey)) problems.push(...checkRateLimit(rec, opKey), ...checkReplayed(rec, opKey));
  else if (RATELIMIT_HEADERS.some((h) => rec.headers?.[h] !== undefined) || rec.headers?.['idempotent-replayed'] !== undefined)
    problems.push('RateLimit or Idempotent-Replayed headers on an answer outside every operation');
  if (respPtr && typeof rec.body?.code === 'string' && mediaOf(rec.content_type) === 'application/problem+json') {
    const [resp] = deref(atPointer(respPtr), respPtr);
    const op = opKey && operations.get(opKey)?.op;
    const text = JSON.stringify([resp, op?.description ?? '', parametersOf(opKey)]);
    if (!text.includes('`' + rec.body.code + '`') && !text.includes(`"code":"${rec.body.code}"`))
      problems.push(`code ${rec.body.code} is named neither by the documented ${rec.status} response nor by the operation`);
  }
  if (!checks.has(name)) checks.set(name, { count: 0, problems: new Map() });
  const c = checks.get(name);
  c.count++;
  if (problems.length) {
    const k = problems.join('; ');
    if (!c.problems.has(k)) c.problems.set(k, { n: 0, rec });
    c.problems.get(k).n++;
  }
}

const body = (rec) => {
  const s = rec.body === null || rec.body === undefined ? String(rec.body_text ?? '') : JSON.stringify(rec.body);
  return s.length > 300 ? s.slice(0, 300) + '…' : s;
};
// 5. Passes, then what is for information, then failures with their
//    examples, last, where a reader of the log's tail sees them.
const sorted = [...checks].sort(([a], [b]) => a.localeCompare(b));
for (const [name, c] of sorted) {
  if (c.problems.size > 0) continue;
  passed++;
  console.log(`PASS ${name} (${c.count} answers)`);
}
const unseen = [...operations.keys()].filter((k) => !seenOps.has(k)).sort();
console.log(`info: ${records.length} answers, ${seenOps.size} of ${operations.size} operations exercised`);
for (const k of unseen) console.log(`info: never exercised: ${k}`);
for (const [name, c] of sorted) {
  if (c.problems.size === 0) continue;
  failed++;
  const bad = [...c.problems.values()].reduce((n, p) => n + p.n, 0);
  console.log(`FAIL ${name}: ${bad} of ${c.count} answers do not conform`);
  let shown = 0;
  for (const [text, p] of c.problems) {
    if (shown++ === SHOWN_PER_CHECK) {
      console.log(`  … ${c.problems.size - SHOWN_PER_CHECK} more kinds`);
      break;
    }
    console.log(`  ${p.n}×: ${text}`);
    console.log(`     e.g. ${p.rec.method} ${p.rec.path} → ${p.rec.status} ${p.rec.content_type}: ${body(p.rec)}`);
  }
}
finish();
