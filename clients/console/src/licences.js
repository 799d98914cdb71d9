// Licences of a client (or of a pack, or a customer): block, unblock,
// deactivate; each with a link to its usage.
import { api, enc } from './api.js';
import { act, el, field, fmtTime, form, heading, link, pagedTable, query, showNotice } from './ui.js';

export async function licencesPage(view) {
  const q = query();
  const filter = { client_id: q.get('client_id') || '', pack_id: q.get('pack_id') || '', customer_id: q.get('customer_id') || '' };
  const search = form([
    field('Client id', 'client_id', { value: filter.client_id, placeholder: 'host-17' }),
    field('Pack id', 'pack_id', { value: filter.pack_id }),
    field('Customer id', 'customer_id', { value: filter.customer_id }),
  ], 'Show licences', async (v) => {
    const s = new URLSearchParams(Object.entries(v).filter(([, x]) => x.trim()));
    location.hash = `#/licences${s.toString() ? '?' + s : ''}`;
  }, { inline: true });
  search.classList.add('filter');

  const table = pagedTable({
    caption: 'Licences',
    empty: 'No licence matches.',
    fetchPage: (cursor) => api.list('/v1/assignments', filter, cursor),
    columns: [
      ['Licence', (a) => el('code', {}, a.license_id)],
      ['Client', (a) => link(`#/licences?client_id=${enc(a.client_id)}`, a.client_id)],
      ['Product', (a) => `${a.product} ${a.version}`],
      ['Pack', (a) => (a.pack_id ? link(`#/licences?pack_id=${enc(a.pack_id)}`, a.pack_id) : '—')],
      ['State', (a) => el('span', { class: `state ${a.blocked ? 'blocked' : a.status}` },
        a.blocked ? 'blocked' : a.status, a.temporary ? ' (temporary)' : '')],
      ['Issued', (a) => fmtTime(a.issued_at)],
      ['Expires', (a) => fmtTime(a.expires_at)],
      ['', (a) => actions(a)],
    ],
  });
  view.replaceChildren(heading('Licences'), search, table);
  await table.ready;

  function actions(a) {
    const buttons = [link(`#/usage?license_id=${enc(a.license_id)}`, 'usage')];
    if (a.status === 'active') {
      buttons.push(a.blocked
        ? el('button', { type: 'button', class: 'secondary', onclick: (ev) => run(ev, 'unblock', a) }, 'Unblock')
        : el('button', { type: 'button', class: 'secondary', onclick: (ev) => run(ev, 'block', a) }, 'Block'));
      buttons.push(el('button', { type: 'button', class: 'danger', onclick: (ev) => run(ev, 'deactivate', a) }, 'Deactivate'));
    }
    return el('span', { class: 'links' }, buttons);
  }

  async function run(ev, what, a) {
    if (what === 'deactivate' && !confirm(`Deactivate licence ${a.license_id} of ${a.client_id}? Its seat goes back to the pack and it is never issued again.`))
      return;
    await act(async () => {
      if (what === 'block') await api.post(`/v1/licenses/${enc(a.license_id)}/block`);
      else if (what === 'unblock') await api.post(`/v1/licenses/${enc(a.license_id)}/unblock`);
      else await api.del(`/v1/licenses/${enc(a.license_id)}`);
      await licencesPage(view);
      showNotice(`Licence ${a.license_id}: ${what === 'deactivate' ? 'deactivated' : what + 'ed'}.`);
    }, ev.currentTarget);
  }
}
