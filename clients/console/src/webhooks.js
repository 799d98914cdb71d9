// Webhooks and their delivery state (state, last status and error, failures
// in a row), a new webhook (its signing secret shown once), removal; and the
// events licd has published, oldest first, page by page.
import { api, enc } from './api.js';
import { act, el, field, fmtList, fmtTime, form, heading, pagedTable, secret, showNotice } from './ui.js';

const EVENTS = ['license.granted', 'license.temporary', 'seat.denied', 'clone.detected', 'usage.over_limit',
  'pack.low', 'lease.lapsed'];

export async function webhooksPage(view) {
  const hooks = pagedTable({
    caption: 'Webhooks',
    empty: 'No webhook: events are only listed below.',
    fetchPage: (cursor) => api.list('/v1/webhooks', {}, cursor),
    columns: [
      ['URL', (w) => el('code', { class: 'url' }, w.url)],
      ['Events', (w) => fmtList(w.events)],
      ['State', (w) => el('span', { class: `state ${w.state === 'active' ? 'active' : 'blocked'}` }, w.state)],
      ['Last answer', (w) => (w.last_status === null ? 'not tried yet'
        : el('span', {}, w.last_status === 0 ? 'no answer' : `HTTP ${w.last_status}`,
          w.last_error ? el('small', { class: 'muted' }, ` ${w.last_error}`) : ''))],
      ['Last attempt', (w) => fmtTime(w.last_attempt_at)],
      ['Failures in a row', (w) => String(w.failures)],
      ['', (w) => el('button', { type: 'button', class: 'danger', onclick: (ev) => remove(ev, w) }, 'Delete')],
    ],
  });
  const events = pagedTable({
    caption: 'Events',
    empty: 'No event yet.',
    fetchPage: (cursor) => api.list('/v1/events', {}, cursor),
    columns: [
      ['Event', (e) => el('code', {}, String(e.event_id))],
      ['Type', (e) => e.type],
      ['At', (e) => fmtTime(e.created_at)],
      ['Data', (e) => el('code', { class: 'json' }, JSON.stringify(e.data))],
    ],
  });
  const create = el('details', { class: 'create' }, el('summary', {}, 'New webhook'),
    form([
      field('URL', 'url', { type: 'url', required: true, placeholder: 'https://hooks.example.com/licd' }),
      el('fieldset', { class: 'events' }, el('legend', {}, 'Events'),
        EVENTS.map((t) => el('label', { class: 'check' }, el('input', { type: 'checkbox', name: `event:${t}`, checked: true }), t))),
    ], 'Create webhook', async (v) => {
      const chosen = EVENTS.filter((t) => v[`event:${t}`]);
      const w = await api.post('/v1/webhooks', { url: v.url, events: chosen });
      await webhooksPage(view);
      showNotice(secret(`Webhook to ${w.url} created. Its signing secret, shown this once:`, w.secret,
        'Deliveries carry Licd-Signature: t=<unix>,v1=<HMAC-SHA256 of t.body>; refuse a t older than 5 minutes.'));
    }));
  view.replaceChildren(heading('Webhooks', el('button', { type: 'button', class: 'secondary', onclick: () => webhooksPage(view) }, 'Refresh')),
    create, hooks, events);
  await Promise.all([hooks.ready, events.ready]);

  async function remove(ev, w) {
    if (!confirm(`Delete the webhook to ${w.url}? Its events are no longer delivered.`)) return;
    await act(async () => {
      await api.del(`/v1/webhooks/${enc(w.webhook_id)}`);
      await webhooksPage(view);
      showNotice(`Webhook to ${w.url} deleted.`);
    }, ev.currentTarget);
  }
}
