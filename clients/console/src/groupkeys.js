// Group keys of a customer: scheme, products, quotas per node and per
// container, link, limits and the activations held now; revoke and relink.
import { api, enc } from './api.js';
import { act, choice, customerChoice, el, field, fmtList, fmtTime, form, heading, pagedTable, query, secret,
  showNotice } from './ui.js';

const quotas = (q) => (q && Object.keys(q).length
  ? Object.entries(q).map(([p, n]) => `${p}: ${n}`).join(', ') : '—');

export async function groupKeysPage(view) {
  const customer = query().get('customer_id') || '';
  const pick = form([await customerChoice('customer_id', { selected: customer })], 'Show group keys',
    async (v) => { location.hash = `#/group-keys?customer_id=${enc(v.customer_id)}`; }, { inline: true });
  pick.classList.add('filter');
  if (!customer) {
    view.replaceChildren(heading('Group keys'), pick, el('p', { class: 'muted' }, 'Choose a customer.'));
    return;
  }
  const table = pagedTable({
    caption: 'Group keys',
    empty: 'This customer has no group key.',
    fetchPage: (cursor) => api.list('/v1/group-keys', { customer_id: customer }, cursor),
    columns: [
      ['Key', (g) => el('code', {}, g.group_key_prefix)],
      ['Scheme', (g) => g.scheme],
      ['Products', (g) => fmtList(g.products)],
      ['Activations', (g) => el('strong', {}, String(g.activations))],
      ['Quota per node', (g) => quotas(g.quota_per_node)],
      ['Quota per container', (g) => quotas(g.quota_per_container)],
      ['Link', (g) => `${g.link.type}${g.link.value ? ': ' + g.link.value : ' (empty: binds to the next activation)'}`],
      ['Limits', (g) => (g.limits && Object.keys(g.limits).length
        ? Object.entries(g.limits).map(([p, m]) => `${p}: ${quotas(m)}`).join('; ') + ` (${g.on_over_limit})` : '—')],
      ['Expires', (g) => (g.expires ? fmtTime(g.expires) : 'never')],
      ['', (g) => (g.revoked
        ? el('span', { class: 'state blocked' }, 'revoked ', fmtTime(g.revoked_at))
        : el('span', { class: 'links' },
          el('button', { type: 'button', class: 'secondary', onclick: (ev) => run(ev, 'relink', g) }, 'Relink'),
          el('button', { type: 'button', class: 'danger', onclick: (ev) => run(ev, 'revoke', g) }, 'Revoke')))],
    ],
  });
  const create = el('details', { class: 'create' }, el('summary', {}, 'New group key'),
    form([
      field('Scheme', 'scheme', { required: true, placeholder: 'hosting' }),
      field('Products', 'products', { required: true, placeholder: 'mail, web' }),
      field('Instances per node', 'per_node', { type: 'number', min: 1, required: true, value: '2' }),
      field('Instances per container (optional)', 'per_container', { type: 'number', min: 1 }),
      choice('Link', 'link_type', ['ip_range', 'domain', 'node', 'app', 'container']),
      field('Link value (empty: the first activation binds it)', 'link_value', { placeholder: '10.20.0.0/16' }),
      field('Expires (optional)', 'expires', { type: 'date' }),
    ], 'Create group key', async (v) => {
      const products = v.products.split(',').map((s) => s.trim()).filter(Boolean);
      const each = (n) => Object.fromEntries(products.map((p) => [p, Number(n)]));
      const body = { customer_id: customer, scheme: v.scheme, products, quota_per_node: each(v.per_node),
        link: { type: v.link_type } };
      if (v.per_container) body.quota_per_container = each(v.per_container);
      if (v.link_value.trim()) body.link.value = v.link_value.trim();
      if (v.expires) body.expires = `${v.expires}T00:00:00Z`;
      const g = await api.post('/v1/group-keys', body);
      await groupKeysPage(view);
      showNotice(secret(`Group key ${g.group_key_prefix} created. The key, shown this once:`, g.group_key,
        'Hand it to the container manager; licd keeps only its hash.'));
    }));
  view.replaceChildren(heading('Group keys'), pick, create, table);
  await table.ready;

  async function run(ev, what, g) {
    const ask = what === 'revoke'
      ? `Revoke ${g.group_key_prefix}? Later activations are refused (group_key_revoked).`
      : `Empty the link of ${g.group_key_prefix}? It binds to the next activation.`;
    if (!confirm(ask)) return;
    await act(async () => {
      if (what === 'revoke') await api.post(`/v1/group-keys/${enc(g.group_key_prefix)}/revoke`);
      else await api.post(`/v1/group-keys/${enc(g.group_key_prefix)}/relink`);
      await groupKeysPage(view);
      showNotice(`${g.group_key_prefix}: ${what === 'revoke' ? 'revoked' : 'link emptied'}.`);
    }, ev.currentTarget);
  }
}
