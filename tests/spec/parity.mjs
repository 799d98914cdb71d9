// Route parity: the "METHOD PATH KIND" lines `licd routes` printed (file in
// argv[3]) against the operations of the OpenAPI document in argv[2]: the
// same operations, and each operation's `security` saying what the route's
// declared caller kind takes. Besides, what every route owes the rate
// limits and retries: each one that takes a credential (any kind but
// "public") documents 429 with the RateLimit-Limit, -Remaining and -Reset
// headers (components/responses/RateLimited), and each POST lists the
// IdempotencyKey parameter and documents 409. Prints every difference in
// either direction; exits 1 if there is one.
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const [specPath, routesPath] = process.argv.slice(2);

let spec;
try {
  spec = yaml.load(readFileSync(specPath, 'utf8'));
} catch (e) {
  console.error(`parity: cannot read ${specPath}: ${e.message}`);
  process.exit(1);
}

// The security requirements each caller kind `licd routes` prints stands
// for: a kind is one or more credentials joined by "|"; a group key is sent
// in the body with no Authorization header (an anonymous requirement, {}).
// Public routes and token renewal (the token is in the body) take none.
const SCHEMES = { vendor_key: 'vendorKey', customer_key: 'customerKey', license: 'licenseToken', group_key: '' };
const NO_CREDENTIAL = new Set(['public', 'session_token']);

// One requirement object as text: its scheme names, sorted, joined by "+".
const requirementText = (req) => Object.keys(req ?? {}).sort().join('+');

const documented = new Map(); // "METHOD PATH" -> the operation
let bad = false;
for (const [path, item] of Object.entries(spec?.paths ?? {})) {
  if (item && item.$ref) {
    // A referenced path item would hide its methods from this check.
    console.error(`parity: ${path} is a $ref; write its operations inline`);
    bad = true;
    continue;
  }
  for (const m of METHODS)
    if (item && item[m]) documented.set(`${m.toUpperCase()} ${path}`, item[m]);
}

const served = new Map(); // "METHOD PATH" -> declared caller kind
for (const line of readFileSync(routesPath, 'utf8').split('\n')) {
  const l = line.trim().replace(/\s+/g, ' ');
  if (l === '') continue;
  const m = /^([A-Z]+ \/\S*) (\S+)$/.exec(l);
  if (!m) {
    console.error(`parity: unexpected line from licd routes: ${JSON.stringify(l)}`);
    bad = true;
    continue;
  }
  served.set(m[1], m[2]);
}

// The requirement texts a caller kind stands for, or null for a kind unknown here.
function expectedSecurity(kind) {
  if (NO_CREDENTIAL.has(kind)) return [];
  const parts = kind.split('|');
  return parts.every((p) => p in SCHEMES) ? parts.map((p) => SCHEMES[p]).sort() : null;
}

for (const [route, kind] of served) {
  const op = documented.get(route);
  if (!op) continue;
  const want = expectedSecurity(kind);
  const got = (op.security ?? spec.security ?? []).map(requirementText).sort();
  if (want === null) {
    console.error(`parity: ${route} declares caller kind "${kind}", which this check does not know`);
    bad = true;
  } else if (JSON.stringify(got) !== JSON.stringify(want)) {
    const show = (list) => JSON.stringify(list.map((t) => (t === '' ? '{}' : t)));
    console.error(`parity: ${route} takes ${kind}: its security should be ${show(want)}, not ${show(got)}`);
    bad = true;
  }
}

// A $ref'd object of the document, or the object itself.
function resolve(obj) {
  for (let i = 0; obj && obj.$ref && i < 10; i++) {
    if (!obj.$ref.startsWith('#/')) return undefined;
    obj = obj.$ref.slice(2).split('/').reduce((n, k) => n?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], spec);
  }
  return obj;
}
const RATELIMIT = ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset'];
for (const [route, kind] of served) {
  const op = documented.get(route);
  if (!op) continue;
  if (kind !== 'public') {
    const r429 = resolve(op.responses?.['429']);
    const headers = Object.keys(r429?.headers ?? {}).map((h) => h.toLowerCase());
    const missing = RATELIMIT.filter((h) => !headers.includes(h));
    if (!r429) {
      console.error(`parity: ${route} takes a key but documents no 429 (add '429': $ref: '#/components/responses/RateLimited')`);
      bad = true;
    } else if (missing.length) {
      console.error(`parity: ${route}'s 429 does not document ${missing.join(', ')}`);
      bad = true;
    }
  }
  if (route.startsWith('POST ')) {
    const params = (op.parameters ?? []).map(resolve);
    if (!params.some((p) => p?.in === 'header' && p?.name === 'Idempotency-Key')) {
      console.error(`parity: ${route} does not list the Idempotency-Key parameter (- $ref: '#/components/parameters/IdempotencyKey')`);
      bad = true;
    }
    if (!op.responses?.['409']) {
      console.error(`parity: ${route} documents no 409 (add '409': $ref: '#/components/responses/IdempotencyConflict')`);
      bad = true;
    }
  }
}

const notInSpec = [...served.keys()].filter((r) => !documented.has(r)).sort();
const notServed = [...documented.keys()].filter((r) => !served.has(r)).sort();
for (const r of notInSpec) console.error(`parity: served but not in the spec: ${r}`);
for (const r of notServed) console.error(`parity: in the spec but not served: ${r}`);
if (notInSpec.length || notServed.length) bad = true;
console.log(`parity: ${served.size} routes served, ${documented.size} operations in the spec`);
process.exit(bad ? 1 : 0);
