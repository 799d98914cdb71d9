// The console's entry: sign-in with the vendor key, the navigation, and the
// page of the location's hash (#/packs?customer_id=...).
import { api, setKey, signOut, signedIn } from './api.js';
import { auditPage } from './audit.js';
import { clonesPage } from './clones.js';
import { customersPage } from './customers.js';
import { groupKeysPage } from './groupkeys.js';
import { licencesPage } from './licences.js';
import { leasesPage, packsPage } from './packs.js';
import { productsPage } from './products.js';
import { el, showProblem } from './ui.js';
import { usagePage } from './usage.js';
import { usersPage } from './users.js';
import { webhooksPage } from './webhooks.js';

const PAGES = [
  ['customers', 'Customers', customersPage],
  ['products', 'Products', productsPage],
  ['packs', 'Packs', packsPage],
  ['leases', 'Leases', leasesPage, { hidden: true }],
  ['licences', 'Licences', licencesPage],
  ['group-keys', 'Group keys', groupKeysPage],
  ['clones', 'Clone queue', clonesPage],
  ['users', 'Users', usersPage],
  ['usage', 'Usage', usagePage],
  ['audit', 'Audit log', auditPage],
  ['webhooks', 'Webhooks', webhooksPage],
];

const $ = (id) => document.getElementById(id);

function pageName() {
  return (location.hash.replace(/^#\/?/, '').split('?')[0]) || 'packs';
}

// Each navigation renders into a new section, swapped in once the page has
// loaded, and only if no later navigation started meanwhile: a slow page
// never overwrites the one asked for after it.
let navigation = 0;
async function route() {
  if (!signedIn()) return showSignIn();
  const mine = ++navigation;
  const name = pageName();
  const page = PAGES.find(([id]) => id === name) || PAGES.find(([id]) => id === 'packs');
  for (const a of $('nav').querySelectorAll('a'))
    a.toggleAttribute('aria-current', a.dataset.page === page[0] || (page[0] === 'leases' && a.dataset.page === 'packs'));
  $('nav').classList.remove('open');
  $('view').setAttribute('aria-busy', 'true');
  showProblem(null);
  const view = el('section', { id: 'view', dataset: { page: page[0], hash: location.hash } });
  try {
    await page[2](view);
  } catch (e) {
    if (mine === navigation) showProblem(e);
  }
  if (mine === navigation) {
    $('view').replaceWith(view);
    view.dispatchEvent(new Event('mounted')); // for what needs a laid-out size (charts)
  }
}

function showSignIn(problem) {
  $('app').hidden = true;
  $('signin').hidden = false;
  $('signin-problem').textContent = problem || '';
  $('signin-problem').hidden = !problem;
  $('key').focus();
}

async function signIn(ev) {
  ev.preventDefault();
  const input = $('key');
  const key = input.value.trim();
  const button = ev.submitter || $('signin').querySelector('button');
  button.disabled = true;
  try {
    const vendor = await api.whoami(key);
    setKey(key);
    input.value = '';
    showApp(vendor);
    await route();
  } catch (e) {
    showSignIn(e.detail || String(e));
  } finally {
    button.disabled = false;
  }
}

function showApp(vendor) {
  $('signin').hidden = true;
  $('app').hidden = false;
  $('vendor').textContent = vendor.name;
}

function buildNav() {
  const nav = $('nav');
  nav.replaceChildren(...PAGES.filter((p) => !p[3]?.hidden).map(([id, label]) =>
    el('a', { href: `#/${id}`, dataset: { page: id } }, label)));
}

async function start() {
  buildNav();
  $('signin').addEventListener('submit', signIn);
  $('signout').addEventListener('click', () => {
    signOut();
    showSignIn('Signed out.');
  });
  $('menu').addEventListener('click', () => $('nav').classList.toggle('open'));
  window.addEventListener('hashchange', route);
  window.addEventListener('licd-unauthorized', () => {
    signOut();
    showSignIn('The key is no longer accepted (rotated or ended); sign in again.');
  });
  if (!signedIn()) return showSignIn();
  try {
    showApp(await api.get('/v1/vendor'));
    await route();
  } catch (e) {
    if (signedIn()) showProblem(e);
  }
}

start();
