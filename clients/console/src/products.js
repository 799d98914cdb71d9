// Products: the list and a new product.
import { api } from './api.js';
import { el, field, fmtList, fmtTime, form, heading, pagedTable, showNotice } from './ui.js';

export async function productsPage(view) {
  const table = pagedTable({
    caption: 'Products',
    empty: 'No products yet.',
    fetchPage: (cursor) => api.list('/v1/products', {}, cursor),
    columns: [
      ['Code', (p) => el('code', {}, p.code)],
      ['Name', (p) => p.name],
      ['Version', (p) => p.version],
      ['Scheme', (p) => p.scheme || '—'],
      ['Features', (p) => fmtList(p.features)],
      ['Challenge', (p) => (p.require_challenge ? 'required' : 'no')],
      ['Created', (p) => fmtTime(p.created_at)],
    ],
  });
  const create = form([
    field('Code', 'code', { required: true, placeholder: 'cad-pro' }),
    field('Name', 'name', { required: true, placeholder: 'CAD Pro' }),
    field('Version', 'version', { required: true, placeholder: '2026.1' }),
    field('Features', 'features', { placeholder: 'render, export' }),
  ], 'Create product', async (v) => {
    const features = v.features.split(',').map((s) => s.trim()).filter(Boolean);
    const p = await api.post('/v1/products', { code: v.code, name: v.name, version: v.version, features });
    await productsPage(view);
    showNotice(`Product ${p.code} ${p.version} created.`);
  });
  view.replaceChildren(heading('Products'), create, table);
  await table.ready;
}
