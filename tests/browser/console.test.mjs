// The vendor console in headless Chromium (Debian's /usr/bin/chromium,
// driven by playwright-core) against a running licd: facts are made over
// the API, then read and changed through the page the way a person would,
// and the effects checked over the API again.
// Usage: node console.test.mjs URL VENDOR_KEY OUTDIR   (LICD_BIN: the licd
// binary, whose `licd routes` every request of the page must be among).
// Saves a screenshot of each page in OUTDIR; ends with "N passed, N failed".
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [base, vendorKey, outDir] = process.argv.slice(2);
if (!base || !vendorKey || !outDir) {
  console.error('usage: node console.test.mjs URL VENDOR_KEY OUTDIR');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
const started = Date.now();
let passed = 0;
let failed = 0;

function check(name, ok, info = '') {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${name}${!ok && info ? ': ' + info : ''}`);
  return ok;
}

// --- the API, for the facts the test makes and checks ---------------------
async function call(method, path, { bearer, body, auth } = {}) {
  const headers = {};
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (auth) headers.Authorization = auth;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  return { status: res.status, json };
}
async function must(method, path, opts, want) {
  const r = await call(method, path, opts);
  if (!(want ? r.status === want : r.status < 300))
    throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}
const V = { bearer: vendorKey };
const tag = Math.random().toString(36).slice(2, 8);

async function makeFacts() {
  const f = {};
  const cust = await must('POST', '/v1/customers', { ...V, body: { name: `Browser Hosting ${tag}` } }, 201);
  f.customer = cust.customer_id;
  f.ckey = cust.customer_key;
  const C = { bearer: f.ckey };
  f.product = `cad-${tag}`;
  await must('POST', '/v1/products', { ...V, body: { code: f.product, name: 'CAD Pro', version: '2026.1', features: ['render', 'export'] } }, 201);
  f.pack = `PO-${tag}`;
  await must('POST', '/v1/packs', { ...V, body: { pack_id: f.pack, customer_id: f.customer, product: f.product, version: '2026.1', type: 'per_device', quantity: 5 } }, 201);
  for (const client of ['host-1', 'host-2', 'host-3']) {
    const g = await must('POST', '/v1/get_key', { ...C, body: { product: f.product, client_id: client } }, 201);
    if (client === 'host-1') f.license = g.license_id;
    if (client === 'host-1') f.jwt = g.license;
  }
  // a floating pack with one live lease
  f.floating = `FL-${tag}`;
  f.fproduct = `viewer-${tag}`;
  await must('POST', '/v1/products', { ...V, body: { code: f.fproduct, name: 'Viewer', version: '1.0' } }, 201);
  await must('POST', '/v1/packs', { ...V, body: { pack_id: f.floating, customer_id: f.customer, product: f.fproduct, version: '1.0', type: 'concurrent', quantity: 3 } }, 201);
  f.lease = (await must('POST', '/v1/leases', { ...C, body: { product: f.fproduct, client_id: 'desk-7' } }, 201)).lease_id;
  // usage reported under host-1's licence at three times
  const now = Date.now();
  await must('POST', '/v1/report_usage', { auth: `License ${f.jwt}`, body: { records: [
    { metric: 'renders', value: 12, at: new Date(now - 3 * 3600e3).toISOString() },
    { metric: 'renders', value: 30, at: new Date(now - 2 * 3600e3).toISOString() },
    { metric: 'renders', value: 21, at: new Date(now - 3600e3).toISOString() },
  ] } }, 202);
  // a group key, its original and a copy presenting the same password
  f.mail = `mail-${tag}`;
  await must('POST', '/v1/products', { ...V, body: { code: f.mail, name: 'Mail', version: '1.0' } }, 201);
  const gk = await must('POST', '/v1/group-keys', { ...V, body: { customer_id: f.customer, scheme: 'hosting', products: [f.mail], quota_per_node: { [f.mail]: 4 }, link: { type: 'node' } } }, 201);
  f.gkPrefix = gk.group_key_prefix;
  const ask = (pw) => call('POST', '/v1/get_key', { body: { group_key: gk.group_key, scheme: 'hosting', product: f.mail, app_id: 'shop', node_id: 'n1', ...(pw ? { update_password: pw } : {}) } });
  const first = await ask();
  const original = await ask(first.json.update_password);
  const copy = await ask(first.json.update_password);
  if (first.status !== 201 || original.status !== 201 || copy.status !== 201) throw new Error('group key activations failed');
  f.ask = ask;
  f.copyPassword = copy.json.update_password;
  f.originalPassword = original.json.update_password;
  f.copyLicense = copy.json.license_id;
  // a user with one machine allowed, holding it from m1
  f.user = `ana-${tag}`;
  await must('POST', '/v1/users', { ...V, body: { customer_id: f.customer, username: f.user, password: 'correct horse battery' } }, 201);
  await must('PUT', `/v1/users/${f.user}/entitlements/${f.product}?customer_id=${f.customer}`, { ...V, body: { state: 'valid', max_machines: 1 } }, 200);
  const token = (m) => call('POST', '/v1/tokens', { ...C, body: { username: f.user, password: 'correct horse battery', machine_id: m, products: [f.product] } });
  f.token = token;
  if ((await token('m1')).status !== 201) throw new Error('token for m1 refused');
  f.m2Before = (await token('m2')).json?.code;
  return f;
}

// --- the page -------------------------------------------------------------
const routes = execFileSync(process.env.LICD_BIN || 'licd', ['routes'], { encoding: 'utf8' })
  .split('\n').filter(Boolean).map((l) => l.split(' ').slice(0, 2));
function documented(method, path) {
  const segs = path.split('/');
  return routes.some(([m, t]) => {
    if (m !== method) return false;
    const ts = t.split('/');
    return ts.length === segs.length && ts.every((s, i) => (s.startsWith('{') && s.endsWith('}') ? segs[i] !== '' : s === segs[i]));
  });
}

let browser;
async function main() {
  const facts = await makeFacts();
  browser = await chromium.launch({ executablePath: process.env.LICD_CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  const requests = [];
  const errors = [];
  page.on('request', (r) => requests.push({ method: r.method(), url: r.url() }));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of (40[0-9]|409)/.test(m.text())) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('dialog', (d) => d.accept(d.type() === 'prompt' ? (page.promptAnswer ?? d.defaultValue()) : undefined));
  const shot = (name) => page.screenshot({ path: `${outDir}/${name}.png`, fullPage: true });
  const banner = () => page.locator('#problem');
  // the page of the location's hash is in place (app.js marks each view with its hash)
  const rendered = () => page.waitForFunction(() => {
    const v = document.getElementById('view');
    return v.dataset.hash === location.hash && !v.hasAttribute('aria-busy');
  });
  const go = async (hash, ready) => {
    await page.evaluate((h) => { location.hash = h; }, hash);
    await rendered();
    if (ready) await page.locator(ready).first().waitFor();
  };

  // sign-in: a wrong key is refused with the API's detail, the right one kept in sessionStorage only
  await page.goto(`${base}/console/`);
  await page.locator('#key').fill('lv_' + '0'.repeat(64));
  await page.locator('#signin button[type=submit]').click();
  await page.locator('#signin-problem:not([hidden])').waitFor();
  check('a wrong key is refused at sign-in, with its detail', (await page.locator('#signin-problem').textContent()).length > 5,
    await page.locator('#signin-problem').textContent());
  await shot('signin');
  await page.locator('#key').fill(vendorKey);
  await page.locator('#signin button[type=submit]').click();
  await page.locator('#app:not([hidden])').waitFor();
  const storage = await page.evaluate(() => ({ s: JSON.stringify(sessionStorage), l: JSON.stringify(localStorage), c: document.cookie, u: location.href }));
  check('signed in: the key is in sessionStorage only (no localStorage, cookie or URL)',
    storage.s.includes(vendorKey) && !storage.l.includes(vendorKey) && !storage.c.includes(vendorKey) && !storage.u.includes(vendorKey));

  // packs: the pack made over the API, its seats in use, the filter
  await go(`#/packs?customer_id=${facts.customer}`, `tr:has-text("${facts.pack}")`);
  const row = page.locator(`tr:has-text("${facts.pack}")`);
  const meter = await row.locator('meter').evaluate((m) => ({ v: m.value, max: m.max }));
  check('packs: the pack shows 3 of 5 seats in use as a bar', meter.v === 3 && meter.max === 5 &&
    (await row.locator('.seat-count').textContent()).includes('3 / 5'), JSON.stringify(meter));
  check('packs: the customer filter shows only that customer\'s packs (2)', (await page.locator('#view tbody tr').count()) === 2);
  await page.locator('#view form.filter select[name=product]').selectOption(facts.fproduct);
  await page.locator('#view form.filter button[type=submit]').click();
  await page.waitForFunction((p) => location.hash.includes(p), facts.fproduct);
  await rendered();
  check('packs: the product filter narrows to the floating pack', (await page.locator('#view tbody tr').count()) === 1);
  await go(`#/packs?customer_id=${facts.customer}`, `tr:has-text("${facts.pack}")`);
  await shot('packs');

  // a refusal's detail: fewer seats than in use
  page.promptAnswer = '1';
  await page.locator(`tr:has-text("${facts.pack}") button:has-text("Change quantity")`).click();
  await page.locator('#problem.problem:not([hidden])').waitFor();
  const refused = await call('PATCH', `/v1/packs/${facts.pack}`, { ...V, body: { quantity: 1 } });
  const shown = await banner().textContent();
  check('a refusal shows the problem\'s detail and code', refused.status === 409 && shown.includes(refused.json.detail) &&
    shown.includes('quantity_below_assigned'), `${shown} / ${JSON.stringify(refused.json)}`);
  await shot('refusal');
  page.promptAnswer = undefined;

  // live leases of the floating pack
  await go(`#/leases?pack_id=${facts.floating}`, `tr:has-text("${facts.lease}")`);
  check('leases: the live lease of the floating pack is listed', (await page.locator(`tr:has-text("desk-7")`).count()) === 1);
  await shot('leases');

  // licences of a client: block it in the page, get_key refuses it; unblock
  await go(`#/licences?client_id=host-2`, 'tr:has-text("host-2")');
  const host2 = page.locator('#view tbody tr', { hasText: facts.pack });
  await host2.locator('button:has-text("Block")').click();
  await page.locator('#problem.notice').waitFor();
  const blocked = await call('POST', '/v1/get_key', { bearer: facts.ckey, body: { product: facts.product, client_id: 'host-2' } });
  check('licences: Block makes get_key refuse the client (license_blocked)', blocked.status === 403 && blocked.json.code === 'license_blocked', JSON.stringify(blocked.json));
  await shot('licences');
  await page.locator('#view tbody tr', { hasText: facts.pack }).locator('button:has-text("Unblock")').click();
  await page.locator('#problem.notice').waitFor();
  const unblocked = await call('POST', '/v1/get_key', { bearer: facts.ckey, body: { product: facts.product, client_id: 'host-2' } });
  check('licences: Unblock gives the client its licence back', unblocked.status === 200, JSON.stringify(unblocked.json));
  await go(`#/licences?client_id=host-3`, 'tr:has-text("host-3")');
  const host3 = page.locator('#view tbody tr', { hasText: facts.pack });
  const oldId = (await host3.locator('td[data-label=Licence]').textContent()).trim();
  await host3.locator('button:has-text("Deactivate")').click();
  await page.locator('#problem.notice').waitFor();
  const after = await call('POST', '/v1/get_key', { bearer: facts.ckey, body: { product: facts.product, client_id: 'host-3' } });
  check('licences: Deactivate returns the seat; the client\'s next get_key takes a new licence',
    (await page.locator('#view tbody tr', { hasText: facts.pack }).locator('td[data-label=State]').textContent()).trim() === 'deactivated' &&
    after.status === 201 && after.json.license_id !== oldId, `${oldId} -> ${after.status} ${after.json?.license_id}`);

  // customers and products
  await go('#/customers', `tr:has-text("Browser Hosting ${tag}")`);
  await page.locator('#view form input[name=name]').fill(`Second ${tag}`);
  await page.locator('#view form button[type=submit]').click();
  await page.locator('#problem.notice .key').waitFor();
  const newKey = (await page.locator('#problem .key').textContent()).trim();
  check('customers: a new customer\'s key is shown once and works', newKey.startsWith('lc_') &&
    (await call('POST', '/v1/get_key', { bearer: newKey, body: { product: facts.product, client_id: 'x' } })).json?.code === 'no_matching_pack');
  await shot('customers');
  await go('#/products', `tr:has-text("${facts.product}")`);
  await shot('products');

  // group keys with their activations and quotas; a new one made in the page works
  await go(`#/group-keys?customer_id=${facts.customer}`, `tr:has-text("${facts.gkPrefix}")`);
  const gkApi = await must('GET', `/v1/group-keys/${facts.gkPrefix}`, V, 200);
  const gkRow = page.locator(`tr:has-text("${facts.gkPrefix}")`);
  const gkCells = { act: await gkRow.locator('td[data-label=Activations]').textContent(), quota: await gkRow.locator('td[data-label="Quota per node"]').textContent() };
  check('group keys: the activations held and the quota per node are shown', gkApi.activations > 0 &&
    gkCells.act === String(gkApi.activations) && gkCells.quota === `${facts.mail}: 4`, JSON.stringify({ gkCells, activations: gkApi.activations }));
  await shot('group-keys');
  await page.locator('#view details.create summary').click();
  const gkForm = page.locator('#view details.create form');
  await gkForm.locator('input[name=scheme]').fill('hosting');
  await gkForm.locator('input[name=products]').fill(facts.mail);
  await gkForm.locator('input[name=per_node]').fill('1');
  await gkForm.locator('select[name=link_type]').selectOption('app');
  await gkForm.locator('button[type=submit]').click();
  await page.locator('#problem.notice .key').waitFor();
  const newGk = (await page.locator('#problem .key').textContent()).trim();
  const act1 = await call('POST', '/v1/get_key', { body: { group_key: newGk, scheme: 'hosting', product: facts.mail, app_id: 'crm', node_id: 'n9' } });
  const act2 = await call('POST', '/v1/get_key', { body: { group_key: newGk, scheme: 'hosting', product: facts.mail, app_id: 'other', node_id: 'n9' } });
  check('group keys: a key made in the page activates, its link binds to the first app',
    newGk.startsWith('lg_') && act1.status === 201 && act2.status === 403 && act2.json.code === 'link_mismatch',
    `${act1.status} ${act2.status} ${JSON.stringify(act2.json)}`);

  // the clone queue: evidence, block the copy, get_key refuses the copy
  await go('#/clones', `tr:has-text("${facts.gkPrefix}")`);
  const clone = page.locator('#view > .table tbody > tr', { hasText: facts.gkPrefix });
  await clone.locator('details.evidence summary').click();
  check('clone queue: the evidence lists the presentations', (await clone.locator('table.inner tbody tr').count()) >= 2);
  await shot('clones');
  await clone.locator('button:has-text("Block copy")').click();
  await page.locator('#problem.notice').waitFor();
  check('clone queue: the resolved item leaves the queue', (await page.locator(`#view tr:has-text("${facts.gkPrefix}")`).count()) === 0);
  const copyAgain = await facts.ask(facts.copyPassword);
  const originalAgain = await facts.ask(facts.originalPassword);
  check('clone queue: Block makes get_key refuse the copy (license_blocked), the original keeps working',
    copyAgain.status === 403 && copyAgain.json.code === 'license_blocked' && originalAgain.status === 201,
    `${copyAgain.status} ${JSON.stringify(copyAgain.json)} / original ${originalAgain.status}`);

  // users: entitlements and machines; free the slot, the other machine gets its token
  await go(`#/users?customer_id=${facts.customer}&username=${facts.user}`, 'text=Machines holding a slot');
  check('users: the entitlement and the machine holding the slot are shown',
    (await page.locator(`#view td:has-text("${facts.product}")`).count()) >= 1 && (await page.locator('#view code:text-is("m1")').count()) === 1);
  await shot('user');
  await page.locator('#view tr:has(code:text-is("m1")) button:has-text("Free slot")').click();
  await page.locator('#problem.notice').waitFor();
  const m2 = await facts.token('m2');
  check('users: Free slot lets another machine take it (was machine_limit_reached)',
    facts.m2Before === 'machine_limit_reached' && m2.status === 201, `${facts.m2Before} then ${m2.status}`);
  await go(`#/users?customer_id=${facts.customer}`, `a:has-text("${facts.user}")`);
  await shot('users');

  // usage as a time-series chart (uPlot draws a canvas)
  await go(`#/usage?license_id=${facts.license}`, '.chart canvas');
  const chart = await page.locator('.chart').first().evaluate((c) => ({ w: c.querySelector('canvas').width, cap: c.querySelector('figcaption').textContent }));
  check('usage: a chart of the metric is drawn', chart.cap === 'renders' && chart.w > 100, JSON.stringify(chart));
  await shot('usage');

  // audit log and webhooks
  await go('#/audit', '#view tbody tr');
  check('audit: the page\'s own actions are in the log', (await page.locator('#view tbody tr', { hasText: 'block' }).count()) >= 1);
  await shot('audit');
  // webhooks: one made in the page, its failing deliveries shown, deleted
  await go('#/webhooks', '#view details.create');
  await page.locator('#view details.create summary').click();
  const hookUrl = `http://127.0.0.1:9/licd-${tag}`; // the discard port: nobody answers
  await page.locator('#view details.create input[name=url]').fill(hookUrl);
  await page.locator('#view details.create button[type=submit]').click();
  await page.locator('#problem.notice .key').waitFor();
  const whsec = (await page.locator('#problem .key').textContent()).trim();
  check('webhooks: a new webhook\'s signing secret is shown once', /^whsec_[0-9a-f]{64}$/.test(whsec), whsec);
  await call('POST', '/v1/get_key', { bearer: facts.ckey, body: { product: facts.product, client_id: 'host-4' } });
  let failures = '0';
  for (let i = 0; i < 40 && failures === '0'; i++) {
    await page.waitForTimeout(250);
    await go('#/webhooks?again=' + i, `tr:has-text("${hookUrl}")`);
    failures = (await page.locator(`#view tr:has-text("${hookUrl}") td[data-label="Failures in a row"]`).textContent()).trim();
  }
  const hookRow = await page.locator(`#view tr:has-text("${hookUrl}")`).textContent();
  check('webhooks: the delivery state shows the failed attempts', Number(failures) >= 1 && /no answer|HTTP/.test(hookRow), hookRow);
  check('webhooks: events are listed', (await page.locator('#view .table').nth(1).locator('tbody tr').count()) >= 1);
  await shot('webhooks');
  await page.locator(`#view tr:has-text("${hookUrl}") button:has-text("Delete")`).click();
  await page.locator('#problem.notice').waitFor();
  const hooksLeft = await must('GET', '/v1/webhooks?limit=500', V, 200);
  check('webhooks: Delete removes it', !hooksLeft.items.some((w) => w.url === hookUrl) &&
    (await page.locator(`#view tr:has-text("${hookUrl}")`).count()) === 0);

  // a narrow window: the menu folds, rows become cards, nothing overflows sideways
  await page.setViewportSize({ width: 375, height: 800 });
  await go(`#/packs?customer_id=${facts.customer}`, `tr:has-text("${facts.pack}")`);
  const narrow = await page.evaluate(() => ({
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    navHidden: getComputedStyle(document.getElementById('nav')).display === 'none',
    menu: getComputedStyle(document.getElementById('menu')).display !== 'none',
    cards: getComputedStyle(document.querySelector('#view tbody tr')).display === 'block',
  }));
  check('narrow window: menu button, folded navigation, rows as cards, no sideways scroll',
    narrow.overflow <= 1 && narrow.navHidden && narrow.menu && narrow.cards, JSON.stringify(narrow));
  await shot('narrow-packs');
  await page.locator('#menu').click();
  check('narrow window: the menu opens the navigation', await page.locator('#nav').isVisible());
  await shot('narrow-menu');
  await page.locator('#nav a[data-page=clones]').click();
  await page.waitForFunction(() => location.hash === '#/clones');
  await rendered();
  await go(`#/usage?license_id=${facts.license}`, '.chart canvas');
  const narrowUsage = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check('narrow window: the usage chart fits', narrowUsage <= 1, `overflow ${narrowUsage}px`);
  await shot('narrow-usage');

  // sign out forgets the key
  await page.locator('#signout').click();
  check('sign out forgets the key', (await page.evaluate(() => sessionStorage.length)) === 0 && await page.locator('#signin').isVisible());

  // what the page asked for: only documented routes, never the key in a URL
  const api = requests.filter((r) => new URL(r.url).pathname.startsWith('/v1/'));
  const undocumented = api.filter((r) => !documented(r.method, new URL(r.url).pathname));
  check(`every API request of the page (${api.length}) is a route licd serves and the spec lists`, api.length > 20 && undocumented.length === 0,
    undocumented.slice(0, 3).map((r) => `${r.method} ${r.url}`).join(', '));
  check('the key never appears in a URL', !requests.some((r) => r.url.includes(vendorKey)));
  check('no script error or CSP violation in the page', errors.length === 0, errors.slice(0, 3).join(' | '));
}

try {
  await main();
} catch (e) {
  check('the console test ran to its end', false, e.stack || String(e));
} finally {
  if (browser) await browser.close();
}
console.log(`browser test: ${((Date.now() - started) / 1000).toFixed(1)} s, screenshots in ${outDir}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
