// The clone moderation queue: update passwords presented twice, with the
// evidence of each presentation; dismiss, or block the copy's licence.
import { api, enc } from './api.js';
import { act, el, fmtTime, heading, link, pagedTable, showNotice } from './ui.js';

function evidence(p) {
  const rows = (p.evidence || []).map((e) => el('tr', {},
    el('td', { 'data-label': 'Seen' }, e.kind),
    el('td', { 'data-label': 'At' }, fmtTime(e.at)),
    el('td', { 'data-label': 'Address' }, e.ip || '—', e.claimed_ip && e.claimed_ip !== e.ip ? ` (said ${e.claimed_ip})` : ''),
    el('td', { 'data-label': 'Node / app' }, `${e.node_id} / ${e.app_id}`),
    el('td', { 'data-label': 'Container' }, e.container_id || '—'),
    el('td', { 'data-label': 'Domain' }, e.domain || '—'),
    el('td', { 'data-label': 'Licence' }, link(`#/licences?client_id=${enc(e.app_id)}`, e.license_id))));
  return el('details', { class: 'evidence' },
    el('summary', {}, `${p.evidence_count ?? rows.length} presentations`),
    el('div', { class: 'scroll' }, el('table', { class: 'inner' },
      el('thead', {}, el('tr', {}, ['Seen', 'At', 'Address', 'Node / app', 'Container', 'Domain', 'Licence']
        .map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, rows))));
}

export async function clonesPage(view) {
  const table = pagedTable({
    caption: 'Update passwords presented more than once',
    empty: 'The queue is empty: no clone awaits a decision.',
    fetchPage: (cursor) => api.list('/v1/update-passwords', { status: 'cloned' }, cursor),
    columns: [
      ['Id', (p) => el('code', {}, String(p.id))],
      ['Group key', (p) => el('code', {}, p.group_key_prefix)],
      ['Product', (p) => p.product || '—'],
      ['Node / app', (p) => `${p.node_id} / ${p.app_id}`],
      ['First used', (p) => fmtTime(p.first_used_at)],
      ['Cloned', (p) => fmtTime(p.cloned_at)],
      ['Evidence', evidence],
      ['Decision', (p) => el('span', { class: 'links' },
        el('button', { type: 'button', class: 'secondary', onclick: (ev) => resolve(ev, p, 'dismiss') }, 'Dismiss'),
        el('button', { type: 'button', class: 'danger', onclick: (ev) => resolve(ev, p, 'block') }, 'Block copy'))],
    ],
  });
  view.replaceChildren(heading('Clone queue'),
    el('p', { class: 'muted' }, 'Block revokes the licences issued to the later presentations (the suspected copies); the first presenter keeps working.'),
    table);
  await table.ready;

  async function resolve(ev, p, action) {
    if (action === 'block' && !confirm(`Block the copies of password ${p.id} (${p.node_id} / ${p.app_id})? Their licences are refused from now on.`))
      return;
    await act(async () => {
      await api.post(`/v1/update-passwords/${enc(p.id)}/resolve`, { action });
      await clonesPage(view);
      showNotice(`Password ${p.id}: ${action === 'block' ? 'the copy is blocked' : 'dismissed'}.`);
    }, ev.currentTarget);
  }
}
