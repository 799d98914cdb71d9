// Customers: the list, a new customer (its key shown once), key rotation.
import { api, enc } from './api.js';
import { act, el, field, fmtTime, form, heading, link, pagedTable, secret, showNotice } from './ui.js';

export async function customersPage(view) {
  const table = pagedTable({
    caption: 'Customers',
    empty: 'No customers yet.',
    fetchPage: (cursor) => api.list('/v1/customers', {}, cursor),
    columns: [
      ['Name', (c) => c.name],
      ['Customer id', (c) => el('code', {}, c.customer_id)],
      ['Created', (c) => fmtTime(c.created_at)],
      ['See', (c) => el('span', { class: 'links' },
        link(`#/packs?customer_id=${enc(c.customer_id)}`, 'packs'),
        link(`#/licences?customer_id=${enc(c.customer_id)}`, 'licences'),
        link(`#/users?customer_id=${enc(c.customer_id)}`, 'users'),
        link(`#/group-keys?customer_id=${enc(c.customer_id)}`, 'group keys'))],
      ['Key', (c) => el('button', {
        type: 'button', class: 'secondary', onclick: (ev) => rotate(c, ev.currentTarget),
      }, 'Rotate key')],
    ],
  });
  const create = form([field('Name', 'name', { required: true, maxlength: 200, placeholder: 'Example Hosting' })],
    'Create customer', async ({ name }) => {
      const c = await api.post('/v1/customers', { name });
      await customersPage(view);
      showNotice(secret(`Customer ${c.name} created. Its key, shown this once:`, c.customer_key,
        'Hand it to the customer; licd keeps only its hash.'));
    }, { inline: true });
  view.replaceChildren(heading('Customers'), create, table);
  await table.ready;
}

async function rotate(c, button) {
  const grace = prompt(`Rotate the key of ${c.name}. Seconds the old key keeps working (0: stop it now):`, '86400');
  if (grace === null) return;
  await act(async () => {
    const r = await api.post(`/v1/customers/${enc(c.customer_id)}/rotate-key`, { grace_s: Number(grace) });
    showNotice(secret(`New key of ${c.name}, shown this once:`, r.customer_key,
      el('span', {}, 'The previous key works until ', fmtTime(r.previous_valid_until), '.')));
  }, button);
}
