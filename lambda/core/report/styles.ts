/** The report's only stylesheet. The page's CSP allows exactly this text, by its hash. */
export const REPORT_CSS = `
:root {
  --bg: #f4f6f8; --panel: #fff; --text: #17202a; --muted: #5d6875; --line: #e1e5ea; --track: #edf0f3;
  --ok: #1d8f50; --warn: #c27c00; --bad: #d23c3c; --info: #2f6fde; --none: #8d97a3; --accent: #3d5afe;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #101418; --panel: #181e24; --text: #e6eaee; --muted: #9aa6b2; --line: #2a323b; --track: #232b33;
    --ok: #3fbf7a; --warn: #e0a030; --bad: #ef6262; --info: #6a9cff; --none: #6f7a86; --accent: #7c8cff;
  }
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--text);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
}
main { max-width: 1040px; margin: 0 auto; padding: 16px 12px 32px; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.92em; }
h1 { font-size: 1.35rem; margin: 0; line-height: 1.25; overflow-wrap: anywhere; }
h2 { font-size: 1.05rem; margin: 0 0 12px; }
h3 { font-size: 0.95rem; margin: 16px 0 8px; color: var(--muted); font-weight: 600; }
section, header.job { background: var(--panel); border: 1px solid var(--line); border-radius: 12px; padding: 16px; margin: 0 0 12px; }
header.job .eyebrow { margin: 0 0 2px; color: var(--muted); font-size: 0.78rem; text-transform: uppercase; letter-spacing: 0.06em; }
h1 code { font-size: 1em; }
header.job .meta { margin: 6px 0 0; color: var(--muted); font-size: 0.88rem; }
.pill { display: inline-block; padding: 2px 10px; border-radius: 999px; font-size: 0.8rem; font-weight: 600; color: #fff; vertical-align: middle; background: var(--none); }
.pill.succeeded { background: var(--ok); }
.pill.completed_with_errors { background: var(--warn); }
.totals { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 10px; margin: 0 0 14px; }
.total { border: 1px solid var(--line); border-left: 4px solid var(--info); border-radius: 10px; padding: 10px 12px; }
.total.ok { border-left-color: var(--ok); }
.total.failed { border-left-color: var(--bad); }
.total.invalid { border-left-color: var(--warn); }
.total .label { display: block; color: var(--muted); font-size: 0.78rem; text-transform: uppercase; letter-spacing: 0.04em; }
.total .value { display: block; font-size: 1.7rem; font-weight: 700; font-variant-numeric: tabular-nums; line-height: 1.2; }
.total small { color: var(--muted); font-size: 0.8rem; }
.facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 8px 16px; margin: 0; }
.facts div { min-width: 0; }
.facts dt { color: var(--muted); font-size: 0.78rem; }
.facts dd { margin: 0; font-weight: 600; font-variant-numeric: tabular-nums; }
.cols { display: grid; grid-template-columns: 1fr; gap: 0 24px; }
@media (min-width: 760px) { .cols { grid-template-columns: 1fr 1fr; } }
.cols > * { min-width: 0; }
.bars { list-style: none; margin: 0; padding: 0; }
.bars li { display: grid; grid-template-columns: 1fr auto; grid-template-areas: "label value" "bar bar"; gap: 2px 8px; align-items: center; padding: 5px 0; }
@media (min-width: 480px) {
  .bars { display: grid; grid-template-columns: minmax(3em, max-content) minmax(60px, 1fr) max-content; column-gap: 12px; }
  .bars li { grid-column: 1 / -1; grid-template-columns: subgrid; grid-template-areas: "label bar value"; }
}
.bar-label { grid-area: label; overflow-wrap: anywhere; font-family: ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.85rem; }
.bar-value { grid-area: value; text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.bar-value small { color: var(--muted); margin-left: 4px; }
svg.bar { grid-area: bar; width: 100%; height: 12px; display: block; }
.track { fill: var(--track); }
.s2xx { fill: var(--ok); } .s3xx { fill: var(--info); } .s4xx { fill: var(--warn); } .s5xx { fill: var(--bad); }
.s1xx, .snone { fill: var(--none); } .err { fill: var(--bad); } .inv { fill: var(--warn); }
.chart { padding: 0 14px 0 8px; }
svg.hist { display: block; width: 100%; height: 210px; overflow: visible; }
.hist-bar { fill: var(--accent); }
.axis { stroke: var(--muted); stroke-width: 1; }
.grid { stroke: var(--line); stroke-dasharray: 3 3; }
.grid-label, .tick { fill: var(--muted); font-size: 11px; }
.tick { text-anchor: middle; }
.marker { stroke: var(--text); stroke-width: 1; stroke-dasharray: 2 3; opacity: 0.7; }
.marker-label { fill: var(--text); font-size: 11px; font-weight: 600; }
@media (max-width: 479px) { .tick.odd, .marker-value { display: none; } }
.chart-note { color: var(--muted); font-size: 0.85rem; margin: 6px 0 0; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 6px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
th { color: var(--muted); font-size: 0.78rem; font-weight: 600; }
td { font-size: 0.9rem; }
.num { text-align: right; width: 5.2em; white-space: nowrap; }
table.compact .num { width: 6em; }
table.compact th, table.compact td { padding: 4px 6px; }
th.host, td.host { width: auto; }
td.host { font-family: ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.84rem; }
td .sub { display: block; color: var(--muted); font-size: 0.78rem; }
@media (max-width: 559px) {
  /* Host tables become one block per host: the name on its own line, the numbers under it, labelled. */
  table.hosts, table.hosts tbody { display: block; }
  table.hosts thead { display: none; }
  table.hosts tr { display: grid; grid-template-columns: repeat(3, 1fr); gap: 0 8px; padding: 8px 0; border-bottom: 1px solid var(--line); }
  table.hosts td { border: 0; padding: 0; width: auto; text-align: left; }
  table.hosts td.host { grid-column: 1 / -1; margin-bottom: 2px; }
  table.hosts td.num::before { content: attr(data-label); display: block; color: var(--muted); font-size: 0.72rem; }
}
.pct-table th:first-child { width: 5.5em; }
details { margin-top: 10px; }
summary { cursor: pointer; color: var(--muted); font-size: 0.88rem; }
ol.failures { list-style: none; margin: 0; padding: 0; }
ol.failures li { border-top: 1px solid var(--line); padding: 10px 0; min-width: 0; }
ol.failures li:first-child { border-top: 0; padding-top: 0; }
.failure-head { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: baseline; font-size: 0.84rem; color: var(--muted); }
.code { display: inline-block; background: var(--bad); color: #fff; border-radius: 6px; padding: 0 7px; font-size: 0.78rem; font-weight: 600; font-family: ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; }
.code.inv { background: var(--warn); }
.request dd, .options dd { overflow-wrap: anywhere; }
.request div[data-field="source"] { grid-column: span 2; }
.options dd { font-weight: 500; }
.failure-url { display: block; margin: 4px 0 2px; overflow-wrap: anywhere; font-family: ui-monospace, Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.85rem; }
.failure-message { margin: 0; color: var(--muted); font-size: 0.85rem; overflow-wrap: anywhere; }
.empty, .note { color: var(--muted); font-size: 0.88rem; margin: 8px 0 0; }
footer { color: var(--muted); font-size: 0.8rem; text-align: center; margin: 16px 0 0; overflow-wrap: anywhere; }
`;
