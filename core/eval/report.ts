/** Figures of an evaluation per configuration, from its items: what `npm run eval` prints and writes. */
import type { Totals } from '../ladder/machine.js';

/** One example under one configuration: its scores and what its run spent. */
export interface EvalItem extends Omit<Totals, 'attempts'> {
  config: string;
  exampleId: string;
  heldOut: boolean;
  /** valid when every labelled step ended valid; else partial, or failed when one failed */
  status: string;
  fieldsScored: number;
  fieldsCorrect: number;
  silentErrors: number;
  /** per labelled field: its JSON pointer in the label (`/orderId`; `/fields/orderId` where labels are per step) and its step */
  scores: { path: string; pass: boolean; step?: string }[];
  latencyMs: number;
}

export interface ConfigFigures {
  config: string;
  examples: number;
  /** every labelled step ended valid */
  valid: number;
  /** labelled fields right, of all labelled fields (a failed run's fields count as wrong) */
  accuracy: number;
  /** accuracy per labelled field, by the field's path in the label (`/classification/category`) */
  perField: Record<string, number>;
  /** wrong fields in outputs the contracts accepted, per labelled field */
  silentErrorRate: number;
  silentErrors: number;
  /** runs that ended partial or failed: a person must look */
  flagged: number;
  repairs: number;
  escalations: number;
  promptTokens: number;
  completionTokens: number;
  latencyP50Ms: number;
  latencyP95Ms: number;
  costUsd: number;
  referenceCostUsd: number;
  /** accuracy points (0-100) per dollar spent */
  accuracyPerUsd: number | null;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

export function figuresOf(items: readonly EvalItem[], config: string): ConfigFigures {
  const mine = items.filter((i) => i.config === config);
  const sum = (f: (i: EvalItem) => number) => mine.reduce((a, i) => a + f(i), 0);
  const scored = sum((i) => i.fieldsScored);
  const fields = new Map<string, { n: number; ok: number }>();
  for (const i of mine) {
    for (const s of i.scores) {
      const f = fields.get(s.path) ?? { n: 0, ok: 0 };
      f.n++;
      if (s.pass) f.ok++;
      fields.set(s.path, f);
    }
  }
  const accuracy = scored === 0 ? 0 : sum((i) => i.fieldsCorrect) / scored;
  const cost = sum((i) => i.costUsd);
  return {
    config,
    examples: mine.length,
    valid: mine.filter((i) => i.status === 'valid').length,
    accuracy,
    perField: Object.fromEntries([...fields].map(([k, v]) => [k, v.ok / v.n])),
    silentErrors: sum((i) => i.silentErrors),
    silentErrorRate: scored === 0 ? 0 : sum((i) => i.silentErrors) / scored,
    flagged: mine.filter((i) => i.status !== 'valid').length,
    repairs: sum((i) => i.repairs),
    escalations: sum((i) => i.escalations),
    promptTokens: sum((i) => i.promptTokens),
    completionTokens: sum((i) => i.completionTokens),
    latencyP50Ms: percentile(mine.map((i) => i.latencyMs), 0.5),
    latencyP95Ms: percentile(mine.map((i) => i.latencyMs), 0.95),
    costUsd: cost,
    referenceCostUsd: sum((i) => i.referenceCostUsd),
    accuracyPerUsd: cost > 0 ? (100 * accuracy) / cost : null,
  };
}

/** A terminal table of the figures, one row per configuration. */
export function figuresTable(rows: readonly ConfigFigures[]): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const lines = [
    '| config | examples | valid | accuracy | silent errors | flagged | repairs | escalations | tokens in / out | latency p50 / p95 s | cost $ | reference $ | accuracy pts per $ |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.config} | ${r.examples} | ${r.valid} | ${pct(r.accuracy)} | ${r.silentErrors} (${pct(r.silentErrorRate)}) | ${r.flagged} | ${r.repairs} | ${r.escalations} | ${r.promptTokens} / ${r.completionTokens} | ${(r.latencyP50Ms / 1000).toFixed(1)} / ${(r.latencyP95Ms / 1000).toFixed(1)} | ${r.costUsd.toFixed(6)} | ${r.referenceCostUsd.toFixed(6)} | ${r.accuracyPerUsd === null ? '-' : r.accuracyPerUsd.toFixed(0)} |`,
    );
  }
  return lines.join('\n');
}

export interface Gate {
  /** 0..1 */
  minAccuracy?: number;
  /** silent errors per labelled field, 0..1 */
  maxSilentErrors?: number;
}

/** The configurations below the gate, each with why: a CI step fails on any. */
export function gateFailures(rows: readonly ConfigFigures[], gate: Gate): string[] {
  return rows.flatMap((r) => [
    ...(gate.minAccuracy !== undefined && r.accuracy < gate.minAccuracy ? [`${r.config}: accuracy ${(100 * r.accuracy).toFixed(1)}% is below ${(100 * gate.minAccuracy).toFixed(1)}%`] : []),
    ...(gate.maxSilentErrors !== undefined && r.silentErrorRate > gate.maxSilentErrors
      ? [`${r.config}: silent errors ${(100 * r.silentErrorRate).toFixed(1)}% of labelled fields are above ${(100 * gate.maxSilentErrors).toFixed(1)}%`]
      : []),
  ]);
}

/** What changed against an earlier evaluation of the same dataset, per configuration both have. */
export function comparison(now: readonly ConfigFigures[], before: readonly ConfigFigures[]): string[] {
  const pts = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)} pts`;
  return now.flatMap((r) => {
    const b = before.find((x) => x.config === r.config);
    if (!b) return [];
    return [`${r.config}: accuracy ${pts(r.accuracy - b.accuracy)}, silent errors ${pts(r.silentErrorRate - b.silentErrorRate)}, flagged ${r.flagged - b.flagged >= 0 ? '+' : ''}${r.flagged - b.flagged}, cost ${r.costUsd - b.costUsd >= 0 ? '+' : ''}$${(r.costUsd - b.costUsd).toFixed(6)}`];
  });
}
