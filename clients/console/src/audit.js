// The audit log: every vendor action, in the order the API lists them.
import { api } from './api.js';
import { el, fmtTime, heading, pagedTable } from './ui.js';

export async function auditPage(view) {
  const table = pagedTable({
    caption: 'Audit log',
    empty: 'Nothing audited yet.',
    fetchPage: (cursor) => api.list('/v1/audit', {}, cursor),
    columns: [
      ['At', (a) => fmtTime(a.at)],
      ['Who', (a) => el('code', {}, a.actor)],
      ['Action', (a) => a.action],
      ['Object', (a) => `${a.object_type} ${a.object_id ?? ''}`],
      ['Details', (a) => (a.details && Object.keys(a.details).length ? el('code', { class: 'json' }, JSON.stringify(a.details)) : '—')],
      ['Request', (a) => el('code', { class: 'muted' }, a.request_id || '—')],
    ],
  });
  view.replaceChildren(heading('Audit log'), table);
  await table.ready;
}
