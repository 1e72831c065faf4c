/**
 * Money as texts write it, in any currency: "₹1,299", "Rs. 1,799", "RS 3,999", "Rp874.000",
 * "RM45", "S$ 12.50", "68元", "1.250.000 đ", "USD1,700.00", "500 rupees", "Rp 50 ribu". The
 * signs come from the runtime's own currency data (ISO 4217 codes, CLDR symbols and names), so a
 * currency needs no entry here.
 */
import { escapeRegExp } from './text.js';
import { readings } from './numbers.js';
import { SCALES } from './units.js';

/** Locales whose currency symbols are read besides English: the markets this product is for. */
const SYMBOL_LOCALES = ['en', 'en-IN', 'en-SG', 'id-ID', 'ms-MY', 'vi-VN', 'th-TH', 'fil-PH', 'zh-CN', 'zh-TW', 'ja-JP', 'ko-KR'];

/** Signs CLDR does not list that invoices and tickets write all the same, with the currencies they stand for. */
const INFORMAL_SIGNS: Record<string, readonly string[]> = {
  Rs: ['INR', 'PKR', 'LKR', 'NPR', 'MUR'],
  'Rs.': ['INR', 'PKR', 'LKR', 'NPR', 'MUR'],
  Rps: ['INR'],
  '/-': ['INR', 'PKR'],
  S$: ['SGD'],
  RM: ['MYR'],
  đ: ['VND'],
  VNĐ: ['VND'],
  đồng: ['VND'],
  元: ['CNY', 'TWD', 'HKD'],
  块: ['CNY'],
  円: ['JPY'],
  원: ['KRW'],
  NTD: ['TWD'],
  RMB: ['CNY'],
  'Fr.': ['CHF'],
  'SFr.': ['CHF'],
};

export interface CurrencySigns {
  /** ISO 4217 codes, matched in capitals only ("ALL", "TOP" are words too) */
  codes: readonly string[];
  /** symbols with a non-letter ("₹", "S$", "CN¥") or of two letters and more ("Rp", "RM", "kr"), matched in any case */
  symbols: readonly string[];
  /** the last word of each currency's English name, singular and plural ("rupee", "rupees", "ringgit") */
  names: readonly string[];
  /** each symbol and name (lowercase for letters) -> the currencies it stands for: "$" for many, "₹" for one */
  currencies: ReadonlyMap<string, ReadonlySet<string>>;
}

let signs: CurrencySigns | undefined;

/** Built once, on first use: reading CLDR for every currency takes a moment. */
export function currencySigns(): CurrencySigns {
  if (signs) return signs;
  const codes = Intl.supportedValuesOf('currency');
  const currencies = new Map<string, Set<string>>();
  const add = (sign: string, code: string) => {
    const key = /^\p{L}/u.test(sign) ? sign.toLowerCase() : sign;
    currencies.set(key, (currencies.get(key) ?? new Set()).add(code));
  };
  const symbols = new Set<string>(Object.keys(INFORMAL_SIGNS));
  for (const [sign, cs] of Object.entries(INFORMAL_SIGNS)) for (const c of cs) add(sign, c);
  for (const locale of SYMBOL_LOCALES) {
    for (const currency of codes) {
      for (const currencyDisplay of ['symbol', 'narrowSymbol'] as const) {
        const s = new Intl.NumberFormat(locale, { style: 'currency', currency, currencyDisplay }).formatToParts(1).find((p) => p.type === 'currency')?.value;
        // a single letter ("P", "R", "K") is too often no currency; a bare code is matched as a code
        if (s && !/^[A-Z]{3}$/.test(s) && (/[^\p{L}]/u.test(s) || s.length >= 2)) {
          symbols.add(s);
          add(s, currency);
        }
      }
    }
  }
  const display = new Intl.DisplayNames(['en'], { type: 'currency' });
  const names = new Set<string>();
  // X-codes are no country's money (gold, drawing rights, testing)
  for (const c of codes.filter((x) => !x.startsWith('X'))) {
    const last = display.of(c)?.split(/\s+/).pop()?.toLowerCase();
    if (last && /^\p{L}{3,}$/u.test(last)) {
      names.add(last).add(`${last}s`);
      add(last, c);
      add(`${last}s`, c);
    }
  }
  signs = { codes, symbols: [...symbols], names: [...names], currencies };
  return signs;
}

let pattern: RegExp | undefined;

const HAN = /\p{Script=Han}/u;

/** Thousands grouped with spaces next to a currency sign: "1 234,56 €", "VND 1 250 000" (a no-break or thin space too). */
const SPACED_AMOUNT = '\\d{1,3}(?:[ \\u00A0\\u202F\\u2009]\\d{3})+(?:[.,]\\d+)?';

function moneyPattern(): RegExp {
  if (pattern) return pattern;
  const { codes, symbols, names } = currencySigns();
  // longest first, so "CN¥" wins over "¥" and "Rs." over "Rs"
  const byLength = (xs: Iterable<string>) => [...new Set(xs)].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|');
  // written in any case: "Rs", "RS", "rs"; "Rupees", "RUPEES" (the runtime has no case-insensitive groups)
  const anyCase = (xs: readonly string[]) => xs.flatMap((x) => [x, x.toLowerCase(), x.toUpperCase(), x.charAt(0).toUpperCase() + x.slice(1).toLowerCase()]);
  const letters = /^\p{L}/u;
  const wordSigns = anyCase(symbols.filter((s) => letters.test(s)));
  const marks = byLength(symbols.filter((s) => !letters.test(s)));
  // a sign that starts with a letter must not end a longer word: "Rs" in "Users" is none
  const prefix = `(?:(?<!\\p{L})(?:${byLength(codes)}|${byLength(wordSigns)})|(?:${marks}))`;
  const suffix = `(?:(?:${byLength([...codes, ...wordSigns, ...anyCase(names)])})(?!\\p{L})|(?:${marks}))`;
  // a scale word of letters ends at a word's end ("ribu", not "ribuan"); one of Han characters may
  // be followed by the currency's own ("5万元")
  const latinScales = [...SCALES.keys()].filter((w) => !HAN.test(w));
  const hanScales = [...SCALES.keys()].filter((w) => HAN.test(w));
  const scale = `(?:\\s?(?:(?:${byLength(anyCase(latinScales))})(?!\\p{L})|(?:${byLength(hanScales)})))?`;
  const amount = `(?:${SPACED_AMOUNT}|\\d(?:[\\d.,']*\\d)?)${scale}`;
  pattern = new RegExp(`${prefix}\\s?${amount}|(?<![\\d.,])${amount}\\s?${suffix}`, 'gu');
  return pattern;
}

/** Every money span of a text, as written, in order, each once. */
export function moneySpans(text: string, maxLength = 40): string[] {
  const found = (text.normalize('NFC').match(moneyPattern()) ?? []).map((s) => s.trim()).filter((s) => s.length <= maxLength);
  return [...new Set(found)];
}

/**
 * Tokens of a text that can be a reference — an order, invoice or booking id: letters, digits and
 * "-", "_", "/", "#" with at least three digits, as written ("ORD-771203", "ord-705521",
 * "552918003471", "#4471", "HD250601-12"). Money and dates may be among them; which one a field
 * wants is the model's choice, but never a token the text does not hold.
 */
export function referenceTokens(text: string, maxLength = 40): string[] {
  const found = text.normalize('NFKC').match(/(?<![\p{L}\p{N}_#/-])#?[\p{L}\p{N}](?:[\p{L}\p{N}_/-]*[\p{L}\p{N}])?(?![\p{L}\p{N}_/-])/gu) ?? [];
  return [...new Set(found.filter((t) => t.length >= 4 && t.length <= maxLength && (t.match(/\p{N}/gu)?.length ?? 0) >= 3))];
}

/** Whether a code is an ISO 4217 currency the runtime knows. */
export function isCurrencyCode(code: string): boolean {
  // the runtime's code list alone, not the sign table: checking an input's currency in workflow
  // code must not build every currency's symbols in a dozen locales
  currencyCodes ??= new Set(Intl.supportedValuesOf('currency'));
  return /^[A-Z]{3}$/.test(code) && currencyCodes.has(code);
}

let currencyCodes: ReadonlySet<string> | undefined;

export interface CurrencyMention {
  /** as written: "USD", "₹", "Rp", "$" */
  sign: string;
  /** the currencies it can stand for; one for a code or a sign of one currency */
  currencies: readonly string[];
}

/** The currency signs and codes a text writes next to its amounts, or as codes anywhere. */
export function currencyMentions(text: string): CurrencyMention[] {
  const { codes, currencies } = currencySigns();
  const out = new Map<string, CurrencyMention>();
  // a code is a currency wherever it stands as a word, or glued to an amount ("USD1,700.00")
  for (const m of text.matchAll(/(?<!\p{L})([A-Z]{3})(?!\p{L})/gu)) {
    if (codes.includes(m[1]!)) out.set(m[1]!, { sign: m[1]!, currencies: [m[1]!] });
  }
  for (const span of moneySpans(text, 60)) {
    // a Han scale word is written against the sign: "5万元"
    const bare = [...SCALES.keys()].filter((w) => HAN.test(w)).reduce((t, w) => t.split(w).join(' '), span.replace(/[\d.,'\s]+/gu, ' '));
    const sign = bare.trim().split(' ').filter((w) => w !== '' && !SCALES.has(w.toLowerCase()));
    for (const w of sign) {
      const key = /^\p{L}/u.test(w) ? w.toLowerCase() : w;
      const cs = currencies.get(key);
      if (cs && !out.has(w)) out.set(w, { sign: w, currencies: [...cs].sort() });
    }
  }
  return [...out.values()];
}

/** An amount as written, with what it says: its currency (ISO 4217) and value, each null where the text does not decide it. */
export interface MoneyAmount {
  text: string;
  currency: string | null;
  value: number | null;
}

/** Digits after the decimal separator a currency's amounts are written with (2 for INR, 0 for IDR and VND, 3 for KWD). */
function minorDigits(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/**
 * What an amount as written says. Its currency: the one its sign or code names, or `preferred`
 * where the sign is shared ("$", "Rs.") and `preferred` is among its currencies; else null. Its
 * value: the one reading of its separators, or, where a single separator reads both ways
 * ("1,299", "12.500"), the grouping reading when the decimal one would write more decimals than
 * any currency it can be in does (2 for most, 0 for IDR); else null. A scale word ("50 ribu",
 * "2 lakh") multiplies the value.
 */
export function readAmount(text: string, preferred?: string): MoneyAmount {
  const candidates = [...new Set(currencyMentions(text).flatMap((m) => m.currencies))];
  const currency = candidates.length === 1 ? candidates[0]! : preferred !== undefined && candidates.includes(preferred) ? preferred : null;
  const number = text.match(new RegExp(`${SPACED_AMOUNT}|\\d(?:[\\d.,'’]*\\d)?`, 'u'))?.[0]?.replace(/[ \u00A0\u202F\u2009]/g, '');
  if (number === undefined) return { text, currency, value: null };
  let values = [...new Set(readings(number))];
  if (values.length > 1) {
    // one separator, read as a decimal point and as grouping: the digits after it decide
    const decimals = number.split(/[.,]/).at(-1)!.length;
    const most = Math.max(...(currency !== null ? [currency] : candidates.length > 0 ? candidates : ['USD']).map(minorDigits));
    if (decimals > most) values = [Number(number.replace(/[.,'’]/g, ''))];
  }
  let value = values.length === 1 ? values[0]! : null;
  const scale = [...SCALES.entries()].find(([word]) => new RegExp(`\\d\\s?${escapeRegExp(word)}${HAN.test(word) ? '' : '(?!\\p{L})'}`, 'iu').test(text));
  if (value !== null && scale) value *= scale[1];
  return { text, currency, value };
}
