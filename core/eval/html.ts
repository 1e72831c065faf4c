/**
 * The evaluation report as one self-contained HTML page: figures per configuration, cost against
 * accuracy as a chart, accuracy per field, the worst items with their Temporal UI links, and the
 * change against an earlier evaluation. The chart is inline SVG, so the page needs no script and
 * no network, and its figures are text a test (or a screen reader) can read.
 */
import type { ConfigFigures } from './report.js';

export interface WorstItem {
  config: string;
  exampleId: string;
  status: string;
  fieldsCorrect: number;
  fieldsScored: number;
  link: string;
}

export interface ReportPage {
  evalId: string;
  dataset: string;
  pipeline: string;
  /** the labelled steps, in the order they are declared */
  steps?: readonly string[];
  generatedAt: string;
  figures: readonly ConfigFigures[];
  heldOut: readonly ConfigFigures[];
  worst: readonly WorstItem[];
  comparison?: { against: string; lines: readonly string[] };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const usd = (x: number) => `$${x.toFixed(6)}`;

function figuresHtml(rows: readonly ConfigFigures[], id: string): string {
  const head = ['configuration', 'examples', 'valid', 'accuracy', 'silent errors', 'flagged', 'repairs', 'escalations', 'tokens in / out', 'latency p50 / p95', 'cost', 'reference cost', 'accuracy pts per $'];
  const body = rows
    .map(
      (r) => `<tr data-config="${esc(r.config)}">
<th scope="row">${esc(r.config)}</th><td>${r.examples}</td><td>${r.valid}</td><td data-metric="accuracy">${pct(r.accuracy)}</td>
<td data-metric="silent-errors">${r.silentErrors} (${pct(r.silentErrorRate)})</td><td data-metric="flagged">${r.flagged}</td><td>${r.repairs}</td><td>${r.escalations}</td>
<td>${r.promptTokens} / ${r.completionTokens}</td><td>${(r.latencyP50Ms / 1000).toFixed(1)} s / ${(r.latencyP95Ms / 1000).toFixed(1)} s</td>
<td data-metric="cost">${usd(r.costUsd)}</td><td>${usd(r.referenceCostUsd)}</td><td>${r.accuracyPerUsd === null ? '-' : r.accuracyPerUsd.toFixed(0)}</td></tr>`,
    )
    .join('\n');
  return `<table id="${id}"><thead><tr>${head.map((h) => `<th scope="col">${h}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>`;
}

/** Cost on x, accuracy on y, one labelled point per configuration. */
function costAccuracyChart(rows: readonly ConfigFigures[]): string {
  const W = 640;
  const H = 360;
  const m = { l: 70, r: 30, t: 20, b: 50 };
  const maxCost = Math.max(...rows.map((r) => r.costUsd), 1e-9) * 1.15;
  const x = (c: number) => m.l + (c / maxCost) * (W - m.l - m.r);
  const y = (a: number) => H - m.b - a * (H - m.t - m.b);
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const grid = ticks
    .map((t) => `<line x1="${m.l}" x2="${W - m.r}" y1="${y(t)}" y2="${y(t)}" class="grid"/><text x="${m.l - 8}" y="${y(t) + 4}" text-anchor="end">${(100 * t).toFixed(0)}%</text>`)
    .join('');
  const xticks = [0, 0.5, 1]
    .map((f) => `<text x="${x(f * maxCost)}" y="${H - m.b + 18}" text-anchor="middle">${usd(f * maxCost)}</text>`)
    .join('');
  // points carry a number and a tooltip; the legend under the chart names them, so close points never overlap their labels
  const points = rows
    .map(
      (r, i) =>
        `<g class="point" data-config="${esc(r.config)}"><title>${esc(r.config)}: ${pct(r.accuracy)}, ${usd(r.costUsd)}</title><circle cx="${x(r.costUsd).toFixed(1)}" cy="${y(r.accuracy).toFixed(1)}" r="9" class="c${i % 6}"/><text x="${x(r.costUsd).toFixed(1)}" y="${(y(r.accuracy) + 4).toFixed(1)}" text-anchor="middle" class="n">${i + 1}</text></g>`,
    )
    .join('');
  const legend = rows
    .map((r, i) => `<g transform="translate(${m.l + (i % 2) * 280} ${H + 14 + Math.floor(i / 2) * 20})"><circle r="7" cx="7" cy="-4" class="c${i % 6}"/><text x="7" y="0" text-anchor="middle" class="n">${i + 1}</text><text x="20" y="0">${esc(r.config)}: ${pct(r.accuracy)}, ${usd(r.costUsd)}</text></g>`)
    .join('');
  const legendH = 14 + Math.ceil(rows.length / 2) * 20;
  return `<svg id="cost-accuracy" viewBox="0 0 ${W} ${H + legendH}" role="img" aria-label="cost against accuracy per configuration">
${grid}${xticks}<line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" class="axis"/><line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" class="axis"/>
<text x="${(W + m.l) / 2}" y="${H - 10}" text-anchor="middle">cost of the evaluation (USD)</text><text x="16" y="${H / 2}" transform="rotate(-90 16 ${H / 2})" text-anchor="middle">accuracy of labelled fields</text>
${points}${legend}</svg>`;
}

/** One row per labelled field, named by its path in the label: `/classification/category` names its step too. */
function perFieldTable(rows: readonly ConfigFigures[]): string {
  const fields = [...new Set(rows.flatMap((r) => Object.keys(r.perField)))];
  return `<table id="per-field"><thead><tr><th scope="col">field</th>${rows.map((r) => `<th scope="col">${esc(r.config)}</th>`).join('')}</tr></thead><tbody>
${fields.map((f) => `<tr><th scope="row">${esc(f)}</th>${rows.map((r) => `<td>${r.perField[f] === undefined ? '-' : pct(r.perField[f]!)}</td>`).join('')}</tr>`).join('\n')}
</tbody></table>`;
}

export function reportHtml(p: ReportPage): string {
  const worst = p.worst
    .map((w) => `<li><a href="${esc(w.link)}">${esc(w.config)} / ${esc(w.exampleId)}</a>: ${esc(w.status)}, ${w.fieldsCorrect} of ${w.fieldsScored} fields right</li>`)
    .join('\n');
  const comparison = p.comparison
    ? `<section id="comparison"><h2>Against evaluation ${esc(p.comparison.against)}</h2><ul>${p.comparison.lines.map((l) => `<li>${esc(l)}</li>`).join('')}</ul></section>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Evaluation ${esc(p.evalId)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1b1f24;max-width:1100px}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:right}th[scope=row],thead th{text-align:left;background:#f6f8fa}
svg{max-width:680px;background:#fff;border:1px solid #d0d7de}svg text{font-size:11px;fill:#1b1f24}.grid{stroke:#eaeef2}.axis{stroke:#57606a}
.c0{fill:#0969da}.c1{fill:#cf222e}.c2{fill:#1a7f37}.c3{fill:#9a6700}.c4{fill:#8250df}.c5{fill:#57606a}
.meta{color:#57606a}svg text.n{fill:#fff;font-weight:600}
</style></head><body>
<h1>Evaluation ${esc(p.evalId)}</h1>
<p class="meta">${esc(p.pipeline)} on ${esc(p.dataset)}${p.steps && p.steps.length > 0 ? `, labelled ${p.steps.length === 1 ? 'step' : 'steps'} ${p.steps.map(esc).join(', ')}` : ''}, ${esc(p.generatedAt)}. Accuracy counts the labelled fields a run got right (a failed run's fields count as wrong). Silent errors are wrong fields in outputs every contract accepted; flagged runs ended partial or failed and wait for a person.</p>
<h2>Configurations</h2>
${figuresHtml(p.figures, 'figures')}
<h2>Cost against accuracy</h2>
${costAccuracyChart(p.figures)}
${p.heldOut.some((f) => f.examples > 0) ? `<h2>Held-out examples only</h2>\n${figuresHtml(p.heldOut, 'held-out')}` : ''}
<h2>Accuracy per field</h2>
${perFieldTable(p.figures)}
<h2>Worst items</h2>
<ol id="worst">${worst}</ol>
${comparison}
</body></html>
`;
}
