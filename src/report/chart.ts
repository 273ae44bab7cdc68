import { escapeXml } from '../util/xml.ts';
// The report's chart: clicks per hour over an edition's first 48 hours, as a
// hand-written SVG bar chart — no charting service, no library, no script.
// Accessible: role="img" with a <title> and a <desc> that says what the bars
// show (total, peak hour), axis labels, and a <title> on every bar for a
// pointer or a screen reader's exploration. Presentation attributes only (the
// review app's CSP blocks style attributes). Every text is XML-escaped, so the
// SVG is well-formed on its own as well as inline in HTML.

export interface ChartLabels {
  title: string;
  /** The x axis: hours after the first send. */
  xAxis: string;
  yAxis: string;
  /** One bar's tooltip. */
  bar: (hour: number, clicks: number) => string;
  /** The <desc>: what a reader who cannot see the bars should know. */
  desc: (total: number, peakHour: number, peak: number) => string;
  empty: string;
}

export const ZH_LABELS: ChartLabels = {
  title: '首 48 小時每小時點擊',
  xAxis: '首次發送後（小時）',
  yAxis: '點擊',
  bar: (h, n) => `第 ${h}–${h + 1} 小時：${n} 次點擊`,
  desc: (total, h, peak) =>
    total
      ? `首 48 小時共 ${total} 次點擊（不計連結掃描器）；最多在第 ${h}–${h + 1} 小時，${peak} 次。`
      : '首 48 小時未有點擊記錄。',
  empty: '未有點擊',
};

/** 1, 2, 5 × 10^k at or above n (at least 1): a y axis a reader can read. */
export function niceMax(n: number): number {
  if (n <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

const W = 420;
const H = 220;
const M = { left: 54, right: 10, top: 14, bottom: 44 };

/** An SVG document fragment (no XML declaration): inline it in HTML or serve it as image/svg+xml. */
export function clicksChart(hours: number[], opts: { id?: string; labels?: ChartLabels } = {}): string {
  const L = opts.labels ?? ZH_LABELS;
  const id = (opts.id ?? 'clicks-chart').replace(/[^A-Za-z0-9_-]/g, '');
  const total = hours.reduce((a, b) => a + b, 0);
  const peak = Math.max(0, ...hours);
  const peakHour = hours.indexOf(peak);
  const top = niceMax(peak);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const slot = pw / hours.length;
  const y = (v: number) => M.top + ph - (v / top) * ph;
  const f = (n: number) => Number(n.toFixed(2));
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-labelledby="${id}-t ${id}-d" font-family="system-ui, -apple-system, 'Noto Sans HK', sans-serif" font-size="14">`,
    `<title id="${id}-t">${escapeXml(L.title)}</title>`,
    `<desc id="${id}-d">${escapeXml(L.desc(total, peakHour, peak))}</desc>`,
  );
  // Grid and y labels: 0, half, top.
  for (const v of top === 1 ? [0, 1] : [0, top / 2, top]) {
    const yy = f(y(v));
    out.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${yy}" y2="${yy}" stroke="${v ? '#e2ddd5' : '#5c5c5c'}" stroke-width="1"/>`,
      `<text x="${M.left - 6}" y="${yy}" dy="0.35em" text-anchor="end" fill="#5c5c5c">${escapeXml(v.toLocaleString('en-US'))}</text>`,
    );
  }
  // Bars, each with its own tooltip.
  out.push(`<g fill="#a4161a">`);
  hours.forEach((v, h) => {
    if (!v) return;
    const x = f(M.left + h * slot + slot * 0.12);
    const yy = f(y(v));
    out.push(
      `<rect x="${x}" y="${yy}" width="${f(slot * 0.76)}" height="${f(M.top + ph - yy)}"><title>${escapeXml(L.bar(h, v))}</title></rect>`,
    );
  });
  out.push('</g>');
  if (!total)
    out.push(
      `<text x="${M.left + pw / 2}" y="${M.top + ph / 2}" text-anchor="middle" fill="#5c5c5c">${escapeXml(L.empty)}</text>`,
    );
  // x ticks every 6 hours.
  for (let h = 0; h <= hours.length; h += 6) {
    const x = f(M.left + h * slot);
    out.push(
      `<line x1="${x}" x2="${x}" y1="${M.top + ph}" y2="${M.top + ph + 4}" stroke="#5c5c5c"/>`,
      `<text x="${x}" y="${M.top + ph + 16}" text-anchor="middle" fill="#5c5c5c">${h}</text>`,
    );
  }
  out.push(
    `<text x="${M.left + pw / 2}" y="${H - 6}" text-anchor="middle" fill="#1a1a1a">${escapeXml(L.xAxis)}</text>`,
    `<text transform="translate(14 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle" fill="#1a1a1a">${escapeXml(L.yAxis)}</text>`,
    '</svg>',
  );
  return out.join('\n');
}
