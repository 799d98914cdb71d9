// Packs: seats in use per pack as a bar, filtered by customer and product;
// a new pack; a pack's quantity changed; the live leases of a pack.
import { all, api, enc } from './api.js';
import { act, choice, customerChoice, el, field, fmtTime, form, heading, link, pagedTable,
  productChoice, query, showNotice } from './ui.js';

function seats(p) {
  const pct = p.quantity ? Math.round((100 * p.assigned) / p.quantity) : 0;
  return el('div', { class: 'seats' },
    el('meter', { min: 0, max: p.quantity, low: p.quantity * 0.75, high: p.quantity * 0.9,
      optimum: 0, value: p.assigned, title: `${p.assigned} of ${p.quantity} seats in use` }),
    el('span', { class: 'seat-count' }, `${p.assigned} / ${p.quantity}`, el('small', {}, ` ${pct}%`)));
}

export async function packsPage(view) {
  const q = query();
  const filter = { customer_id: q.get('customer_id') || '', product: q.get('product') || '' };
  const names = new Map((await all('/v1/customers')).map((c) => [c.customer_id, c.name]));
  const filterForm = form([
    await customerChoice('customer_id', { any: true, selected: filter.customer_id }),
    await productChoice('product', { any: true, selected: filter.product }),
  ], 'Filter', async (v) => {
    const s = new URLSearchParams(Object.entries(v).filter(([, x]) => x));
    location.hash = `#/packs${s.toString() ? '?' + s : ''}`;
  }, { inline: true });
  filterForm.classList.add('filter');

  const table = pagedTable({
    caption: 'Packs',
    empty: 'No pack matches.',
    fetchPage: (cursor) => api.list('/v1/packs', { customer_id: filter.customer_id, product: filter.product }, cursor),
    columns: [
      ['Pack', (p) => el('code', {}, p.pack_id)],
      ['Customer', (p) => names.get(p.customer_id) || p.customer_id],
      ['Product', (p) => `${p.product} ${p.version}`],
      ['Type', (p) => p.type.replace('_', ' ')],
      ['Seats in use', seats],
      ['Expires', (p) => (p.expires ? fmtTime(p.expires) : 'never')],
      ['', (p) => el('span', { class: 'links' },
        p.type === 'concurrent' ? link(`#/leases?pack_id=${enc(p.pack_id)}`, 'leases') : null,
        link(`#/licences?pack_id=${enc(p.pack_id)}`, 'licences'),
        el('button', { type: 'button', class: 'secondary', onclick: (ev) => changeQuantity(p, ev.currentTarget) },
          'Change quantity'))],
    ],
  });

  const create = el('details', { class: 'create' }, el('summary', {}, 'New pack'),
    form([
      await customerChoice('customer_id', { selected: filter.customer_id }),
      await productChoice('product', { selected: filter.product }),
      field('Version', 'version', { required: true, placeholder: '2026.1' }),
      choice('Type', 'type', ['per_device', 'per_user', 'concurrent', 'upgrade']),
      field('Seats', 'quantity', { type: 'number', min: 1, required: true, value: '10' }),
      field('Pack id (optional)', 'pack_id', { placeholder: 'PO-2026-0042' }),
      field('Expires (optional)', 'expires', { type: 'date' }),
    ], 'Create pack', async (v) => {
      const body = { customer_id: v.customer_id, product: v.product, version: v.version, type: v.type,
        quantity: Number(v.quantity) };
      if (v.pack_id) body.pack_id = v.pack_id;
      if (v.expires) body.expires = `${v.expires}T00:00:00Z`;
      const p = await api.post('/v1/packs', body);
      await packsPage(view);
      showNotice(`Pack ${p.pack_id} of ${p.quantity} seats created.`);
    }));

  view.replaceChildren(heading('Packs'), filterForm, create, table);
  await table.ready;

  async function changeQuantity(p, button) {
    const n = prompt(`Seats of pack ${p.pack_id} (${p.assigned} in use now):`, String(p.quantity));
    if (n === null) return;
    await act(async () => {
      const up = await api.patch(`/v1/packs/${enc(p.pack_id)}`, { quantity: Number(n) });
      await packsPage(view);
      showNotice(`Pack ${up.pack_id} now has ${up.quantity} seats.`);
    }, button);
  }
}

export async function leasesPage(view) {
  const packId = query().get('pack_id');
  if (!packId) {
    view.replaceChildren(heading('Live leases'), el('p', {}, 'Open a concurrent pack from ', link('#/packs', 'Packs'), '.'));
    return;
  }
  const pack = await api.get(`/v1/packs/${enc(packId)}`);
  const table = pagedTable({
    caption: `Live leases of ${packId}`,
    empty: 'No live lease: every seat is free.',
    fetchPage: (cursor) => api.list('/v1/leases', { pack_id: packId }, cursor),
    columns: [
      ['Lease', (l) => el('code', {}, l.lease_id)],
      ['Client', (l) => l.client_id],
      ['Checked out', (l) => fmtTime(l.checked_out_at)],
      ['Expires', (l) => fmtTime(l.expires_at)],
    ],
  });
  view.replaceChildren(heading(`Live leases of ${packId}`,
    el('button', { type: 'button', class: 'secondary', onclick: () => leasesPage(view) }, 'Refresh')),
  el('p', {}, `${pack.product} ${pack.version}, ${pack.type}: `, seats(pack)), table);
  await table.ready;
}
