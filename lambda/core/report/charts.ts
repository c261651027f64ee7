import type { Percentiles } from '../summary.js';
import { count, duration, edgeLabel, percent, plural } from './format.js';
import { type Html, html } from './html.js';
import { binPosition, type LatencyBin } from './latency-bins.js';

/**
 * Charts as inline SVG. Geometry is in attributes (percent widths), colours come from
 * the page's stylesheet by class: no style attributes, so the page's CSP needs no
 * 'unsafe-inline'.
 */

/** One row of a bar list. */
export interface BarItem {
  label: string;
  count: number;
  /** CSS class of the bar's fill, e.g. "s2xx". */
  tone: string;
  /** data-* attributes of the row, for tests and scripts reading the page. */
  data: Record<string, string | number>;
}

const pct = (v: number) => `${+(v * 100).toFixed(3)}%`;

function dataAttributes(data: Record<string, string | number>): Html[] {
  return Object.entries(data).map(([k, v]) => html` data-${k.replace(/[^a-z0-9-]/g, '')}="${v}"`);
}

/**
 * Labelled horizontal bars: a bar's length is its share of the largest item, the text
 * gives the count and its share of `whole`.
 */
export function barList(items: readonly BarItem[], whole: number, listId: string): Html {
  const largest = Math.max(0, ...items.map((i) => i.count));
  return html`<ul class="bars" id="${listId}">${items.map((item) => {
    const width = largest > 0 && item.count > 0 ? Math.max(item.count / largest, 0.004) : 0;
    return html`<li${dataAttributes(item.data)} data-count="${item.count}"><span class="bar-label">${item.label}</span><svg class="bar" aria-hidden="true"><rect class="track" width="100%" height="100%" rx="3"/><rect class="${item.tone}" width="${pct(width)}" height="100%" rx="3"/></svg><span class="bar-value">${count(item.count)} <small>${percent(item.count, whole)}</small></span></li>`;
  })}</ul>`;
}

const CHART = { height: 210, plotTop: 46, plotBottom: 180, labelRow: 14 } as const;

function tick(x: number, label: string, odd: boolean): Html {
  return html`<text class="tick${odd ? ' odd' : ''}" x="${pct(x)}" y="${CHART.plotBottom + CHART.labelRow}">${label}</text>`;
}

/** The latency histogram: one bar per 1-2-5 bin, p50/p90/p99 marked. */
export function latencyChart(bins: readonly LatencyBin[], p: Percentiles): Html {
  if (bins.length === 0) return html`<p class="empty">No URLs, no latencies.</p>`;
  const n = bins.length;
  const largest = Math.max(...bins.map((b) => b.count));
  const plot = CHART.plotBottom - CHART.plotTop;
  const bars = bins.map((b, i) => {
    const h = b.count > 0 ? Math.max(1, (b.count / largest) * plot) : 0;
    const range = b.toMs === null ? `≥ ${duration(b.fromMs)}` : `${duration(b.fromMs)} – ${duration(b.toMs)}`;
    return html`<rect class="hist-bar" x="${pct((i + 0.1) / n)}" y="${+(CHART.plotBottom - h).toFixed(1)}" width="${pct(0.8 / n)}" height="${+h.toFixed(1)}" data-from-ms="${b.fromMs}" data-to-ms="${b.toMs ?? ''}" data-count="${b.count}"><title>${range}: ${plural(b.count, 'URL')}</title></rect>`;
  });
  const ticks = bins.map((b, i) =>
    i === 0 && b.fromMs === 0
      ? html`<text class="tick" x="0%" y="${CHART.plotBottom + CHART.labelRow}">0</text>`
      : tick(i / n, edgeLabel(b.fromMs), i % 2 === 1 && n > 10),
  );
  const end = bins[n - 1]?.toMs;
  if (end !== null && end !== undefined) ticks.push(tick(1, edgeLabel(end), n % 2 === 1 && n > 10));
  const markers = (
    [
      ['p50', p.p50],
      ['p90', p.p90],
      ['p99', p.p99],
    ] as const
  ).map(([name, value], row) => {
    if (value === null) return null;
    const x = binPosition(bins, value);
    const y = 12 + row * 12;
    const anchor = x > 0.8 ? html`text-anchor="end" dx="-4"` : html`text-anchor="start" dx="4"`;
    return html`<line class="marker" x1="${pct(x)}" x2="${pct(x)}" y1="${y - 9}" y2="${CHART.plotBottom}"/><text class="marker-label" x="${pct(x)}" y="${y}" ${anchor}>${name}<tspan class="marker-value"> ${duration(value)}</tspan></text>`;
  });
  const label = `Histogram of time per URL over ${n} bins; p50 ${duration(p.p50)}, p90 ${duration(p.p90)}, p99 ${duration(p.p99)}`;
  return html`<div class="chart"><svg class="hist" id="latency-histogram" role="img" aria-label="${label}" width="100%" height="${CHART.height}"><line class="grid" x1="0%" x2="100%" y1="${CHART.plotTop}" y2="${CHART.plotTop}"/><text class="grid-label" x="0%" y="${CHART.plotTop - 4}">${plural(largest, 'URL')}</text>${bars}<line class="axis" x1="0%" x2="100%" y1="${CHART.plotBottom}" y2="${CHART.plotBottom}"/>${ticks}${markers}</svg></div>`;
}

/** The histogram's numbers as a table, for reading exact counts. */
export function latencyTable(bins: readonly LatencyBin[], total: number): Html {
  const rows = bins.map(
    (b) =>
      html`<tr><td>${b.toMs === null ? `≥ ${duration(b.fromMs)}` : `${duration(b.fromMs)} – ${duration(b.toMs)}`}</td><td class="num">${count(b.count)}</td><td class="num">${percent(b.count, total)}</td></tr>`,
  );
  return html`<details><summary>Bin counts</summary><table class="compact"><thead><tr><th>time per URL</th><th class="num">URLs</th><th class="num">share</th></tr></thead><tbody>${rows}</tbody></table></details>`;
}
