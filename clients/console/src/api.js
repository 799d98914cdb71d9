// The console's one way to the licd API: every call goes through api.get,
// api.list, api.post, api.put, api.patch or api.del with a literal path
// (tests/spec/console-calls.mjs reads them and holds each against
// api-spec/openapi.yaml). The vendor key lives in this tab's sessionStorage
// only: never in a URL, a cookie or localStorage.

const KEY = 'licd.vendorKey';

export function signedIn() {
  return sessionStorage.getItem(KEY) !== null;
}

export function setKey(key) {
  sessionStorage.setItem(KEY, key);
}

export function signOut() {
  sessionStorage.removeItem(KEY);
}

// A refusal of the API: its problem+json (RFC 9457), kept whole.
export class ApiError extends Error {
  constructor(status, problem) {
    const detail = (problem && (problem.detail || problem.title)) || `HTTP ${status}`;
    super(detail);
    this.status = status;
    this.code = (problem && problem.code) || 'http_' + status;
    this.detail = detail;
    this.requestId = problem && problem.request_id;
  }
}

function url(path, query) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {}))
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

async function call(method, path, { query, body, key } = {}) {
  const headers = { Accept: 'application/json' };
  const bearer = key ?? sessionStorage.getItem(KEY);
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  const init = { method, headers, credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url(path, query), init);
  } catch (e) {
    throw new ApiError(0, { detail: `licd cannot be reached (${e.message})`, code: 'network' });
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    if (res.status === 401 && !key) window.dispatchEvent(new CustomEvent('licd-unauthorized'));
    throw new ApiError(res.status, json);
  }
  return json;
}

// One page of a list: {items, next}; pass the previous page's next as cursor.
export const api = {
  get: (path, query) => call('GET', path, { query }),
  list: (path, query, cursor) => call('GET', path, { query: { ...query, cursor } }),
  post: (path, body, query) => call('POST', path, { body: body ?? {}, query }),
  put: (path, body, query) => call('PUT', path, { body, query }),
  patch: (path, body) => call('PATCH', path, { body }),
  del: (path, query) => call('DELETE', path, { query }),
  // Checks a key before it is kept: the vendor it belongs to, or an ApiError.
  whoami: (key) => call('GET', '/v1/vendor', { key }),
};

// Every item of a list, page after page, up to max items (for pickers).
export async function all(path, query, max = 2000) {
  const items = [];
  let cursor;
  do {
    const page = await api.list(path, { ...query, limit: 500 }, cursor);
    items.push(...page.items);
    cursor = page.next;
  } while (cursor && items.length < max);
  return items;
}

export const enc = encodeURIComponent;
