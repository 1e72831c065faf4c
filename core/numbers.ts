/** Numbers as a document writes them: "1,250.00", "1.250,00", "1'250.00", "1 250,00", "1,29,999" (Indian grouping), "1250" and "12,5" are all read. */

/** Every value a numeric token can stand for; a single separator is ambiguous, so both readings are kept. */
export function readings(token: string): number[] {
  const out: number[] = [];
  const plain = (s: string) => {
    const n = Number(s);
    if (Number.isFinite(n)) out.push(n);
  };
  const t = token.replace(/['’]/g, '');
  const hasComma = t.includes(',');
  const hasDot = t.includes('.');
  if (hasComma && hasDot) {
    const decimal = t.lastIndexOf(',') > t.lastIndexOf('.') ? ',' : '.';
    const thousands = decimal === ',' ? '.' : ',';
    plain(t.split(thousands).join('').replace(decimal, '.'));
  } else if (hasComma || hasDot) {
    const sep = hasComma ? ',' : '.';
    const groups = t.split(sep);
    if (groups.length === 2) plain(t.replace(sep, '.'));
    if (groups.slice(1).every((g) => g.length === 3)) plain(groups.join(''));
    // lakh grouping: 1,29,999 and 12,50,000
    else if (sep === ',' && /^\d{1,2}(?:,\d{2})+,\d{3}$/.test(t)) plain(groups.join(''));
  } else plain(t);
  return out;
}

/**
 * Thousands grouped with spaces: a no-break or thin space ("1 234,56" as typeset), or a plain
 * space where a decimal comma follows ("1 234,56" typed); a plain space alone separates numbers.
 */
const SPACE_GROUPED = /(?<![\d.,])\d{1,3}(?:[\u00A0\u202F\u2009]\d{3})+(?:[.,]\d+)?(?![\d.,])|(?<![\d.,])\d{1,3}(?: \d{3})+,\d{1,2}(?![\d.,])/g;

/** All the numbers in a text, in every reading of their separators. */
export function numbersIn(text: string): number[] {
  const spaced = (text.match(SPACE_GROUPED) ?? []).map((t) => t.replace(/[\s\u00A0\u202F\u2009]/g, ''));
  return [...(text.match(/\d+(?:[.,'’]\d+)*/g) ?? []), ...spaced].flatMap(readings);
}

export function sameAmount(a: number, b: number, tolerance = 0.0005): boolean {
  return Math.abs(a - b) <= tolerance;
}

/** True when `value` is written somewhere in `text`, with or without thousands separators. */
export function numberAppearsIn(value: number, text: string): boolean {
  return numbersIn(text).some((n) => sameAmount(n, value));
}

/** Rounds to cents, so float sums compare as money. */
export function cents(n: number): number {
  return Math.round(n * 100) / 100;
}
