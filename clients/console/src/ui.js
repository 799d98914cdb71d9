// DOM helpers of the console: elements, the problem banner, paged tables,
// forms, and the pickers of customers and products.
import { ApiError, all } from './api.js';

// el('td', {class: 'num', onclick: f}, 'text', child, ...): an element.
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k in e && typeof v !== 'string') e[k] = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// A time as YYYY-MM-DD HH:MM in the browser's zone (the full time on hover).
export function fmtTime(t) {
  if (!t) return '—';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  const p = (n) => String(n).padStart(2, '0');
  return el('time', { datetime: d.toISOString(), title: d.toString() },
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`);
}
export const fmtList = (a) => (a && a.length ? a.join(', ') : '—');
export const link = (href, text) => el('a', { href }, text);

// The banner above each page: the detail of the last refusal, or a notice.
export function showProblem(err) {
  const box = document.getElementById('problem');
  box.replaceChildren();
  if (!err) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  box.className = 'problem';
  if (err instanceof ApiError) {
    box.append(el('strong', {}, err.detail), ' ', el('code', {}, err.code));
    if (err.requestId) box.append(el('span', { class: 'muted' }, ` request ${err.requestId}`));
  } else {
    box.append(el('strong', {}, String(err.message || err)));
  }
}

export function showNotice(...children) {
  const box = document.getElementById('problem');
  box.replaceChildren(...children);
  box.className = 'notice';
  box.hidden = false;
}

// Runs an action of a button or form; a refusal shows its detail (clear:
// false keeps what the banner shows until then, for loads).
export async function act(fn, button, { clear = true } = {}) {
  if (button) button.disabled = true;
  try {
    if (clear) showProblem(null);
    return await fn();
  } catch (e) {
    showProblem(e);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

// A table filled page by page from a list route: fetchPage(cursor) answers
// {items, next}; columns are [label, item => cell content]. "Load more"
// stays while there is a next page.
export function pagedTable({ columns, fetchPage, empty = 'Nothing yet.', caption }) {
  const tbody = el('tbody');
  const more = el('button', { type: 'button', class: 'more', hidden: true }, 'Load more');
  const status = el('p', { class: 'muted' });
  const table = el('table', {},
    caption ? el('caption', {}, caption) : null,
    el('thead', {}, el('tr', {}, columns.map(([label]) => el('th', { scope: 'col' }, label)))),
    tbody);
  let cursor = null;
  let count = 0;
  async function load() {
    await act(async () => {
      const page = await fetchPage(cursor);
      for (const item of page.items) {
        tbody.append(el('tr', {}, columns.map(([label, render]) =>
          el('td', { 'data-label': label }, render(item)))));
      }
      count += page.items.length;
      cursor = page.next;
      more.hidden = !cursor;
      status.textContent = count ? `${count} shown${cursor ? ', more to load' : ''}` : empty;
    }, more, { clear: false });
  }
  more.addEventListener('click', load);
  const wrap = el('div', { class: 'table' }, el('div', { class: 'scroll' }, table), status, more);
  wrap.ready = load();
  return wrap;
}

// A form whose submit runs onsubmit(values) (values by input name); a
// refusal's detail shows in the banner and the form keeps what was typed.
export function form(fields, label, onsubmit, { inline = false } = {}) {
  const f = el('form', { class: inline ? 'form inline' : 'form', method: 'post', action: '#' },
    fields, el('button', { type: 'submit' }, label));
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const values = Object.fromEntries(new FormData(f).entries());
    await act(() => onsubmit(values, f), f.querySelector('button[type=submit]'));
  });
  return f;
}

export function field(label, name, attrs = {}) {
  return el('label', {}, el('span', {}, label), el('input', { name, ...attrs }));
}

export function choice(label, name, options, attrs = {}) {
  return el('label', {}, el('span', {}, label),
    el('select', { name, ...attrs }, options.map((o) =>
      Array.isArray(o) ? el('option', { value: o[0] }, o[1]) : el('option', { value: o }, o))));
}

// A select of the vendor's customers (loaded page by page).
export async function customerChoice(name = 'customer_id', { any = false, selected } = {}) {
  const customers = await all('/v1/customers');
  const opts = customers.map((c) => [c.customer_id, c.name]);
  if (any) opts.unshift(['', 'All customers']);
  const sel = choice('Customer', name, opts);
  if (selected) sel.querySelector('select').value = selected;
  return sel;
}

export async function productChoice(name = 'product', { any = false, selected } = {}) {
  const products = await all('/v1/products');
  const opts = products.map((p) => [p.code, `${p.name} (${p.code})`]);
  if (any) opts.unshift(['', 'All products']);
  const sel = choice('Product', name, opts);
  if (selected) sel.querySelector('select').value = selected;
  return sel;
}

// A key shown once (a new customer key): selectable, never stored.
export function secret(label, value, note) {
  return el('div', { class: 'secret' }, el('span', {}, label),
    el('output', { class: 'key' }, value), note ? el('p', { class: 'muted' }, note) : null);
}

export function heading(title, ...extra) {
  return el('header', { class: 'page-head' }, el('h1', {}, title), ...extra);
}

export const query = () => new URLSearchParams(location.hash.split('?')[1] || '');
