/** Figures of an evaluation per configuration, from its items: what `npm run eval` prints and writes. */

export interface EvalItem {
  config: string;
  exampleId: string;
  heldOut: boolean;
  status: string;
  fieldsScored: number;
  fieldsCorrect: number;
  silentErrors: number;
  scores: { path: string; pass: boolean }[];
  repairs: number;
  escalations: number;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  referenceCostUsd: number;
  latencyMs: number;
}

export interface ConfigFigures {
  config: string;
  examples: number;
  /** the labelled step ended valid */
  valid: number;
  /** labelled fields right, of all labelled fields (a failed run's fields count as wrong) */
  accuracy: number;
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
