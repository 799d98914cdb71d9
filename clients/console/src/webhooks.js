// Webhooks and their delivery state. GET /v1/webhooks (API.md, "events,
// limits, retries") is not served by this licd yet, so this page says so
// instead of calling a route that is not in api-spec/openapi.yaml. Once it
// is: a pagedTable over api.list('/v1/webhooks', {}, cursor) with url,
// events, state (active | dead), last_status and failures, and
// api.del(`/v1/webhooks/${enc(id)}`) to remove one.
import { el, heading, link } from './ui.js';

export async function webhooksPage(view) {
  view.replaceChildren(heading('Webhooks'),
    el('p', {}, 'This licd does not list webhooks yet (GET /v1/webhooks). Events are in the ',
      link('#/audit', 'audit log'), ' meanwhile.'));
}
