/** The figures of the benchmark reports, formatted alike: counts, shares, ratios and markdown tables. */

export const int = (n: number) => n.toLocaleString('en-US');
export const pct = (n: number, d: number) => (d === 0 ? '–' : `${Math.round((100 * n) / d)}%`);
export const ratio = (a: number, b: number) => (b === 0 ? (a === 0 ? '–' : '∞') : (a / b).toFixed(2));

export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
