// Route parity: the "METHOD PATH" lines `licd routes` printed (file in
// argv[3]) against the operations of the OpenAPI document in argv[2].
// Prints every difference in either direction; exits 1 if there is one.
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

const documented = new Set();
let bad = false;
for (const [path, item] of Object.entries(spec?.paths ?? {})) {
  if (item && item.$ref) {
    // A referenced path item would hide its methods from this check.
    console.error(`parity: ${path} is a $ref; write its operations inline`);
    bad = true;
    continue;
  }
  for (const m of METHODS)
    if (item && item[m]) documented.add(`${m.toUpperCase()} ${path}`);
}

const served = new Set(
  readFileSync(routesPath, 'utf8')
    .split('\n')
    .map((l) => l.trim().replace(/\s+/g, ' '))
    .filter((l) => l !== ''),
);
for (const r of served) {
  if (!/^[A-Z]+ \/\S*$/.test(r)) {
    console.error(`parity: unexpected line from licd routes: ${JSON.stringify(r)}`);
    bad = true;
  }
}

const notInSpec = [...served].filter((r) => !documented.has(r)).sort();
const notServed = [...documented].filter((r) => !served.has(r)).sort();
for (const r of notInSpec) console.error(`parity: served but not in the spec: ${r}`);
for (const r of notServed) console.error(`parity: in the spec but not served: ${r}`);
if (notInSpec.length || notServed.length) bad = true;
console.log(`parity: ${served.size} routes served, ${documented.size} operations in the spec`);
process.exit(bad ? 1 : 0);
