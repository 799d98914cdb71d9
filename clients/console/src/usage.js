// Usage of one licence: its aggregates per metric, and a time series per
// metric drawn by uPlot. GET /v1/usage aggregates over [from, to): the span
// from the first to the last report is cut into up to 24 equal windows,
// each asked for on its own, and each window's largest and latest values
// are plotted at its start.
import uPlot from './uPlot.esm.js';
import { api, enc } from './api.js';
import { el, field, fmtTime, form, heading, link } from './ui.js';
import { query } from './ui.js';

const WINDOWS = 24;

// The width inside an element's padding: what a chart may take.
function innerWidth(box) {
  const cs = getComputedStyle(box);
  return Math.max(200, box.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight));
}
const charts = new Set();

function resizeCharts() {
  for (const c of charts) {
    if (!c.root.isConnected) {
      charts.delete(c);
      c.destroy();
    } else {
      c.setSize({ width: innerWidth(c.root.parentElement), height: 220 });
    }
  }
}
window.addEventListener('resize', resizeCharts);

export async function usagePage(view) {
  const licenseId = query().get('license_id') || '';
  const pick = form([field('Licence id', 'license_id', { value: licenseId, required: true, placeholder: 'G41' })],
    'Show usage', async (v) => { location.hash = `#/usage?license_id=${enc(v.license_id.trim())}`; }, { inline: true });
  pick.classList.add('filter');
  if (!licenseId) {
    view.replaceChildren(heading('Usage'), pick,
      el('p', { class: 'muted' }, 'Enter a licence id, or open one from ', link('#/licences', 'Licences'), '.'));
    return;
  }
  const total = await api.get('/v1/usage', { license_id: licenseId });
  const summary = el('table', {},
    el('caption', {}, `Usage reported under ${licenseId}`),
    el('thead', {}, el('tr', {}, ['Metric', 'Reports', 'Sum', 'Largest', 'Latest', 'First', 'Last'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, total.metrics.length ? total.metrics.map((m) => el('tr', {},
      el('td', { 'data-label': 'Metric' }, m.metric),
      el('td', { 'data-label': 'Reports' }, String(m.count)),
      el('td', { 'data-label': 'Sum' }, String(m.sum)),
      el('td', { 'data-label': 'Largest' }, String(m.max)),
      el('td', { 'data-label': 'Latest' }, String(m.latest)),
      el('td', { 'data-label': 'First' }, fmtTime(m.first_at)),
      el('td', { 'data-label': 'Last' }, fmtTime(m.last_at))))
      : el('tr', {}, el('td', { colspan: 7 }, 'Nothing reported yet.'))));
  const chartsBox = el('div', { class: 'charts' });
  view.replaceChildren(heading('Usage'), pick, el('div', { class: 'scroll' }, summary), chartsBox);
  if (!total.metrics.length) return;

  const first = Math.min(...total.metrics.map((m) => Date.parse(m.first_at)));
  const last = Math.max(...total.metrics.map((m) => Date.parse(m.last_at))) + 1000;
  const n = Math.max(1, Math.min(WINDOWS, Math.ceil((last - first) / 60000)));
  const step = Math.ceil((last - first) / n);
  const starts = Array.from({ length: n }, (_, i) => first + i * step);
  const windows = await Promise.all(starts.map((t) => api.get('/v1/usage', {
    license_id: licenseId, from: new Date(t).toISOString(), to: new Date(t + step).toISOString() })));

  const draw = () => {
    for (const m of total.metrics) {
      const xs = [], max = [], latest = [];
      windows.forEach((w, i) => {
        const row = w.metrics.find((x) => x.metric === m.metric);
        xs.push(starts[i] / 1000);
        max.push(row ? row.max : null);
        latest.push(row ? row.latest : null);
      });
      const box = el('figure', { class: 'chart' }, el('figcaption', {}, m.metric));
      chartsBox.append(box);
      const chart = new uPlot({
        width: innerWidth(box),
        height: 220,
        scales: { x: { time: true } },
        series: [
          {},
          { label: 'largest', stroke: '#b4481e', width: 2, spanGaps: true, points: { show: true } },
          { label: 'latest', stroke: '#1e6fb4', width: 2, spanGaps: true, points: { show: true } },
        ],
        axes: [{}, { label: m.metric, size: 60 }],
      }, [xs, max, latest], box);
      charts.add(chart);
    }
  };
  // uPlot measures its box: draw once the page is in the document.
  if (view.isConnected) draw();
  else view.addEventListener('mounted', draw, { once: true });
}
