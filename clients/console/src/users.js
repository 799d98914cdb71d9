// Users of a customer on shared computers: entitlements per product and
// the machines holding a slot (free one); revoke, unrevoke; new users and
// entitlements.
import { api, enc } from './api.js';
import { act, choice, customerChoice, el, field, fmtList, fmtTime, form, heading, link, pagedTable,
  productChoice, query, showNotice } from './ui.js';

export async function usersPage(view) {
  const q = query();
  const customer = q.get('customer_id') || '';
  const username = q.get('username');
  const pick = form([await customerChoice('customer_id', { selected: customer })], 'Show users',
    async (v) => { location.hash = `#/users?customer_id=${enc(v.customer_id)}`; }, { inline: true });
  pick.classList.add('filter');
  if (!customer) {
    view.replaceChildren(heading('Users'), pick, el('p', { class: 'muted' }, 'Choose a customer.'));
    return;
  }
  if (username) return userPage(view, customer, username);
  const table = pagedTable({
    caption: 'Users',
    empty: 'This customer has no user.',
    fetchPage: (cursor) => api.list('/v1/users', { customer_id: customer }, cursor),
    columns: [
      ['User', (u) => link(`#/users?customer_id=${enc(customer)}&username=${enc(u.username)}`, u.username)],
      ['State', (u) => el('span', { class: `state ${u.revoked ? 'blocked' : 'active'}` }, u.revoked ? 'revoked' : 'active')],
      ['Created', (u) => fmtTime(u.created_at)],
    ],
  });
  const create = el('details', { class: 'create' }, el('summary', {}, 'New user'),
    form([
      field('Username', 'username', { required: true, autocomplete: 'off' }),
      field('Password', 'password', { type: 'password', required: true, autocomplete: 'new-password' }),
    ], 'Create user', async (v) => {
      const u = await api.post('/v1/users', { customer_id: customer, username: v.username, password: v.password });
      location.hash = `#/users?customer_id=${enc(customer)}&username=${enc(u.username)}`;
    }));
  view.replaceChildren(heading('Users'), pick, create, table);
  await table.ready;
}

async function userPage(view, customer, username) {
  const u = await api.get(`/v1/users/${enc(username)}`, { customer_id: customer });
  const back = link(`#/users?customer_id=${enc(customer)}`, '← all users');
  const ents = el('table', {},
    el('caption', {}, 'Entitlements'),
    el('thead', {}, el('tr', {}, ['Product', 'State', 'Features', 'Machines at most', 'Expires'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, u.entitlements.length ? u.entitlements.map((e) => el('tr', {},
      el('td', { 'data-label': 'Product' }, e.product),
      el('td', { 'data-label': 'State' }, el('span', { class: `state ${e.state}` }, e.state)),
      el('td', { 'data-label': 'Features' }, fmtList(e.features)),
      el('td', { 'data-label': 'Machines at most' }, String(e.max_machines)),
      el('td', { 'data-label': 'Expires' }, e.expires ? fmtTime(e.expires) : 'never')))
      : el('tr', {}, el('td', { colspan: 5 }, 'No entitlement: every product is invalid for this user.'))));
  const machines = el('table', {},
    el('caption', {}, 'Machines holding a slot'),
    el('thead', {}, el('tr', {}, ['Machine', 'Last token', 'Token expires', ''].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, u.machines.length ? u.machines.map((m) => el('tr', {},
      el('td', { 'data-label': 'Machine' }, el('code', {}, m.machine_id)),
      el('td', { 'data-label': 'Last token' }, fmtTime(m.last_token_at)),
      el('td', { 'data-label': 'Token expires' }, fmtTime(m.token_expires_at)),
      el('td', {}, el('button', { type: 'button', class: 'danger', onclick: (ev) => free(ev, m) }, 'Free slot'))))
      : el('tr', {}, el('td', { colspan: 4 }, 'No machine holds a slot.'))));
  const entitle = el('details', { class: 'create' }, el('summary', {}, 'Set an entitlement'),
    form([
      await productChoice('product'),
      choice('State', 'state', ['valid', 'intermediate', 'invalid']),
      field('Machines at most', 'max_machines', { type: 'number', min: 1, value: '5' }),
      field('Features (intermediate)', 'features', { placeholder: 'view, print' }),
    ], 'Save entitlement', async (v) => {
      const body = { state: v.state, max_machines: Number(v.max_machines),
        features: v.features.split(',').map((s) => s.trim()).filter(Boolean) };
      await api.put(`/v1/users/${enc(username)}/entitlements/${enc(v.product)}`, body, { customer_id: customer });
      await userPage(view, customer, username);
      showNotice(`${username}: ${v.product} is ${v.state}.`);
    }));
  const toggle = u.revoked
    ? el('button', { type: 'button', class: 'secondary', onclick: (ev) => revoke(ev, 'unrevoke') }, 'Unrevoke')
    : el('button', { type: 'button', class: 'danger', onclick: (ev) => revoke(ev, 'revoke') }, 'Revoke');
  view.replaceChildren(heading(`User ${u.username}`, toggle), back,
    el('p', {}, u.revoked ? el('span', { class: 'state blocked' }, 'revoked: no new or renewed token') : 'active'),
    el('div', { class: 'scroll' }, ents), entitle, el('div', { class: 'scroll' }, machines));

  async function free(ev, m) {
    await act(async () => {
      await api.del(`/v1/users/${enc(username)}/machines/${enc(m.machine_id)}`, { customer_id: customer });
      await userPage(view, customer, username);
      showNotice(`Machine ${m.machine_id} no longer holds a slot of ${username}; its tokens are not renewed.`);
    }, ev.currentTarget);
  }
  async function revoke(ev, what) {
    await act(async () => {
      if (what === 'revoke') await api.post(`/v1/users/${enc(username)}/revoke`, {}, { customer_id: customer });
      else await api.post(`/v1/users/${enc(username)}/unrevoke`, {}, { customer_id: customer });
      await userPage(view, customer, username);
    }, ev.currentTarget);
  }
}
