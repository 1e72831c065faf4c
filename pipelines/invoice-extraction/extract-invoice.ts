import { z } from 'zod';
import { defineMicroTask, renderContext, type Check, type ContextBlock } from '../../core/contract.js';
import type { Issue } from '../../core/issues.js';
import { cents, numberAppearsIn, numbersIn } from '../../core/numbers.js';
import { countriesIn, currencyOf, dateOrderOf, monthNames, type DateOrder } from '../../core/locale.js';
import { currencyMentions, isCurrencyCode } from '../../core/money.js';
import { appearsIn, escapeRegExp, normalizeText, quote } from '../../core/text.js';

/** Any ISO 4217 currency the runtime knows; which one an invoice is in, it must write. */
const CurrencyCode = z
  .string()
  .regex(/^[A-Z]{3}$/)
  .refine(isCurrencyCode, { message: 'not an ISO 4217 currency code' })
  .describe('ISO 4217 code of the currency the amounts are in, e.g. "INR", "IDR", "USD"');

/** Where the invoice comes from, as far as its text says: the countries named outside the buyer's block. */
export function vendorCountries(text: string): string[] {
  const lines = text.split('\n');
  const buyer = buyerLines(lines);
  return countriesIn(lines.filter((_, i) => !buyer.has(i)).join('\n'));
}

/** The facts the model gets: the currencies this invoice writes, the vendor's conventions, how to write values. */
export function invoiceContext(text: string): ContextBlock[] {
  const mentions = currencyMentions(text);
  const countries = vendorCountries(text);
  const order = countries.length > 0 ? dateOrderOf(countries[0]!) : undefined;
  const region = new Intl.DisplayNames(['en'], { type: 'region' });
  return [
    {
      title: 'Currencies written on this invoice',
      facts: mentions.length > 0 ? Object.fromEntries(mentions.map((m) => [m.sign, m.currencies.length <= 6 ? m.currencies.join(' or ') : `one of ${m.currencies.length} currencies; the vendor's country decides`])) : 'none found',
    },
    {
      title: 'Conventions',
      facts: {
        ...(countries.length > 0 ? { vendorCountry: region.of(countries[0]!) ?? countries[0]! } : {}),
        dates:
          order === 'mdy'
            ? 'write as YYYY-MM-DD; this vendor writes numeric dates month first: 03/04/2025 is 2025-03-04'
            : order === 'dmy'
              ? 'write as YYYY-MM-DD; this vendor writes numeric dates day first: 03/04/2025 is 2025-04-03'
              : 'write as YYYY-MM-DD, whatever format the invoice uses',
        numbers: 'plain numbers without currency signs or separators: "1,250.00", "1.250,00", "3,59,280.50" and "Rp 1.250.000" are 1250, 1250, 359280.5 and 1250000',
        taxes: 'each tax line this invoice prints, with its name as printed and its rate; none it does not print; tax is their sum, or null when it prints none',
        discount: 'a discount taken off the subtotal, as a positive number, or null; a discount printed as a line of its own is a line with a negative amount',
        dueDate: 'null when the invoice gives no due date',
      },
    },
  ];
}

export const ExtractInvoiceInput = z.object({
  text: z.string().min(20).max(20000),
});
export type ExtractInvoiceInput = z.infer<typeof ExtractInvoiceInput>;

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

export const ExtractInvoiceOutput = z.object({
  invoiceNumber: z.string().min(1).max(40).describe('the invoice number as written'),
  issueDate: isoDate.describe('the issue date, YYYY-MM-DD'),
  dueDate: isoDate.nullable().describe('the due date, YYYY-MM-DD, or null'),
  vendor: z.string().min(1).max(120).describe('the company that issued the invoice, as written; not the one billed'),
  currency: CurrencyCode,
  lines: z
    .array(
      z.object({
        description: z.string().min(1).max(200).describe('the line description as written'),
        qty: z.number().positive(),
        unitPrice: z.number().describe('negative for a discount line'),
        amount: z.number().describe('the line total as written; negative for a discount line'),
      }),
    )
    .min(1)
    .max(30),
  subtotal: z.number(),
  discount: z.number().nonnegative().nullable().describe('a discount taken off the subtotal, or null'),
  taxes: z
    .array(
      z.object({
        name: z.string().min(1).max(40).describe('the tax as printed: "CGST", "PPN", "VAT", "SST"'),
        rate: z.number().min(0).max(100).nullable().describe('the rate in percent, or null when not printed'),
        amount: z.number().nonnegative(),
      }),
    )
    .max(8)
    .describe('every tax line as printed; empty when the invoice shows none'),
  tax: z.number().nonnegative().nullable().describe('the total tax: the sum of the tax lines, or null when the invoice shows none'),
  total: z.number(),
});
export type ExtractInvoiceOutput = z.infer<typeof ExtractInvoiceOutput>;

/** Years in the Buddhist era (Thailand: 2568 is 2025) are this far ahead. */
const BUDDHIST_ERA_OFFSET = 543;

/** The ways an invoice may write an ISO date, normalized like `normalizeText` does. */
export function dateSpellings(iso: string): string[] {
  const [y, m, d] = iso.split('-');
  if (!y || !m || !d) return [];
  const names = monthNames(Number(m));
  const mm = [m, String(Number(m))];
  const dd = [d, String(Number(d))];
  // the year as written: in full, in two digits ("3-Apr-25"), in the Buddhist era
  const years = [y, y.slice(2), String(Number(y) + BUDDHIST_ERA_OFFSET)];
  const out: string[] = [];
  for (const a of dd) {
    for (const b of mm) out.push(`${y} ${b} ${a}`, ...years.flatMap((yy) => [`${a} ${b} ${yy}`, `${b} ${a} ${yy}`]));
    for (const name of names) for (const yy of years) out.push(`${a} ${name} ${yy}`, `${name} ${a} ${yy}`);
  }
  return out;
}

/** Ordinal suffixes go too: "March 3rd, 2025" reads as "march 3 2025". */
/** Year, month and day markers of CJK dates ("2025年3月31日", "2025년 3월 31일") read as separators. */
const CJK_DATE_MARKS = /(\d)\s*[年月日년월일]/g;

function normalizeDates(text: string): string {
  return normalizeText(text.replace(CJK_DATE_MARKS, '$1 ')).replace(/\b(\d{1,2})(?:st|nd|rd|th)\b/g, '$1');
}

/** A text ready for `dateIn`: normalized once, however many dates are looked up in it. */
function dateHaystack(text: string): string {
  return ` ${normalizeDates(text)} `;
}

function dateIn(iso: string, haystack: string): boolean {
  return dateSpellings(iso).some((s) => haystack.includes(` ${s} `));
}

function dateAppearsIn(iso: string, text: string): boolean {
  return dateIn(iso, dateHaystack(text));
}

/**
 * Whether the invoice writes this currency: its code, or a sign that stands for it alone, or a
 * sign shared by several ("$", "¥") that the vendor's country settles. The message says why not.
 */
export function currencyProblem(currency: string, text: string): string | undefined {
  const mentions = currencyMentions(text);
  const named = (m: { currencies: readonly string[] }) => m.currencies.includes(currency);
  if (mentions.some((m) => named(m) && m.currencies.length === 1)) return undefined;
  const shared = mentions.filter(named);
  if (shared.length === 0) {
    const written = mentions.map((m) => m.sign);
    return `the invoice writes no sign of ${currency}${written.length > 0 ? ` (it writes ${written.join(', ')})` : ''}; pick the currency its amounts are written in`;
  }
  const countries = vendorCountries(text);
  const home = countries.map(currencyOf).filter((c): c is string => c !== undefined);
  if (home.includes(currency)) return undefined;
  const signs = shared.map((m) => `"${m.sign}"`).join(', ');
  const region = new Intl.DisplayNames(['en'], { type: 'region' });
  return countries.length > 0
    ? `the invoice writes ${currency} only as ${signs}, and its vendor is in ${countries.map((c) => region.of(c) ?? c).join(' or ')}, whose currency is ${home.join(' or ')}`
    : `the invoice writes ${currency} only as ${signs}, which several currencies use, and names no country that would settle which`;
}

/** Every value must come from the invoice text: strings as written, numbers with or without separators, dates in any common spelling. */
export const valuesGrounded: Check<ExtractInvoiceInput, ExtractInvoiceOutput> = (output, { input }) => {
  const text = input.text;
  const issues: Issue[] = [];
  const str = (path: string, value: string) => {
    if (!appearsIn(value, text)) issues.push({ kind: 'grounding', path, message: `${quote(value)} does not appear in the invoice; copy it as written` });
  };
  // a negative amount is printed "-500.00", "(500.00)" or "Less: 500.00"
  const num = (path: string, value: number) => {
    if (!numberAppearsIn(Math.abs(value), text)) issues.push({ kind: 'grounding', path, message: `${value} does not appear in the invoice; copy the number as written` });
  };
  const date = (path: string, value: string) => {
    if (!dateAppearsIn(value, text)) issues.push({ kind: 'grounding', path, message: `the date ${value} does not appear in the invoice in any spelling` });
  };
  str('/invoiceNumber', output.invoiceNumber);
  date('/issueDate', output.issueDate);
  if (output.dueDate !== null) date('/dueDate', output.dueDate);
  str('/vendor', output.vendor);
  const currency = currencyProblem(output.currency, text);
  if (currency) issues.push({ kind: 'grounding', path: '/currency', message: currency });
  output.lines.forEach((line, i) => {
    str(`/lines/${i}/description`, line.description);
    num(`/lines/${i}/qty`, line.qty);
    num(`/lines/${i}/unitPrice`, line.unitPrice);
    num(`/lines/${i}/amount`, line.amount);
  });
  num('/subtotal', output.subtotal);
  if (output.discount !== null) num('/discount', output.discount);
  output.taxes.forEach((t, i) => {
    str(`/taxes/${i}/name`, t.name);
    if (t.rate !== null) num(`/taxes/${i}/rate`, t.rate);
    num(`/taxes/${i}/amount`, t.amount);
  });
  // the total tax may be printed, or only its lines (a rate each): then it is their sum, checked below
  if (output.tax !== null && !(output.taxes.length > 1 && Math.abs(output.tax - cents(output.taxes.reduce((n, t) => n + t.amount, 0))) <= CENT)) num('/tax', output.tax);
  num('/total', output.total);
  return issues;
};

/**
 * Labels that open the buyer's block of an invoice, in the languages it is read in; add a
 * language's labels here. Matched at the start of a line, case aside.
 */
const BUYER_LABELS = [
  'bill to', 'billed to', 'invoice to', 'invoiced to', 'sold to', 'ship to', 'deliver to', 'buyer', 'customer', 'client', 'consignee',
  'kepada', 'ditagihkan kepada', 'pembeli', 'pelanggan', 'dijual kepada', 'kính gửi', 'khách hàng', 'người mua', 'bên mua',
  'rechnungsempfänger', 'kunde', 'facturé à', 'destinataire', '客户', '买方', '购买方', '購入者', 'お客様', '御中',
];
const BUYER_LABEL = new RegExp(`^\\s*(?:${BUYER_LABELS.map(escapeRegExp).join('|')})(?![\\p{L}])\\s*[:：]?`, 'iu');

/** The lines of the buyer's blocks: a buyer label's line and the lines under it, to a blank line (at most 6). */
function buyerLines(lines: readonly string[]): Set<number> {
  const out = new Set<number>();
  lines.forEach((line, i) => {
    if (!BUYER_LABEL.test(line)) return;
    out.add(i);
    for (let k = i + 1; k < lines.length && k <= i + 6 && lines[k]!.trim() !== ''; k++) out.add(k);
  });
  return out;
}

/**
 * The vendor is the issuer, not the party billed: a name that appears only in the invoice's
 * bill-to (ship-to, buyer, kepada, 客户…) block is the buyer's.
 */
export const vendorNotBuyer: Check<ExtractInvoiceInput, ExtractInvoiceOutput> = (output, { input }) => {
  const lines = input.text.split('\n');
  const buyer = buyerLines(lines);
  if (buyer.size === 0) return [];
  let inBuyer = false;
  let elsewhere = false;
  lines.forEach((line, i) => {
    if (!appearsIn(output.vendor, line)) return;
    if (buyer.has(i)) inBuyer = true;
    else elsewhere = true;
  });
  return inBuyer && !elsewhere
    ? [{ kind: 'semantic', check: 'vendor-not-buyer', path: '/vendor', message: `${quote(output.vendor)} appears only in the block of the party billed (the buyer); name the company that issued the invoice` }]
    : [];
};

const CENT = 0.01 + 1e-9;

export const lineAmountsMultiply: Check<ExtractInvoiceInput, ExtractInvoiceOutput> = (output) =>
  output.lines.flatMap((line, i): Issue[] => {
    const expected = cents(line.qty * line.unitPrice);
    return Math.abs(line.amount - expected) > CENT
      ? [
          {
            kind: 'semantic',
            path: `/lines/${i}/amount`,
            message: `amount ${line.amount} is not qty ${line.qty} × unit price ${line.unitPrice} = ${expected}`,
            // any of the three may be the misread one
            repairAt: [`/lines/${i}`],
          },
        ]
      : [];
  });

/**
 * The lines add up to the subtotal, the tax lines to the tax, and the subtotal less the discount
 * plus the tax to the total (or without the tax, where the invoice says its prices include it). A whole total within one
 * unit is a rounded one. A printed total that does not add up stays as printed and is flagged.
 */
/** Words by which an invoice says its prices include the tax; add a language's here. */
const TAX_INCLUDED = /\b(?:incl(?:\.|uded|uding|usive)?|inclusive of|tax[- ]inclusive|termasuk|sudah termasuk|bao gồm|đã bao gồm|ter(?:masuk)? pajak)\b|含税|税込|內含|含稅/iu;

export const totalsAddUp: Check<ExtractInvoiceInput, ExtractInvoiceOutput> = (output, { input }) => {
  const issues: Issue[] = [];
  const sum = cents(output.lines.reduce((t, l) => t + l.amount, 0));
  if (Math.abs(output.subtotal - sum) > CENT) {
    issues.push({ kind: 'semantic', path: '/subtotal', message: `subtotal ${output.subtotal} is not the sum of the line amounts, ${sum}` });
  }
  if (output.taxes.length > 0) {
    const taxSum = cents(output.taxes.reduce((t, l) => t + l.amount, 0));
    if (output.tax === null || Math.abs(output.tax - taxSum) > CENT) {
      // a total tax left empty (null, or the 0 of the answer's template) is the sum of the lines, without a call
      const empty = (output.tax === null || output.tax === 0) && taxSum > 0;
      issues.push({ kind: 'semantic', path: '/tax', message: `tax ${output.tax} is not the sum of the tax lines, ${taxSum}`, ...(empty ? { fix: { value: taxSum } } : { repairAt: ['/tax', '/taxes'] }) });
    }
  }
  const net = cents(output.subtotal - (output.discount ?? 0));
  const withTax = cents(net + (output.tax ?? 0));
  const close = (a: number, b: number) => Math.abs(a - b) <= CENT || (Number.isInteger(output.total) && Math.abs(a - b) < 1);
  // the total without the tax only where the invoice says its prices include it
  const included = output.tax !== null && TAX_INCLUDED.test(input.text) && close(output.total, net);
  if (!close(output.total, withTax) && !included) {
    const less = output.discount ? ` - discount ${output.discount}` : '';
    issues.push({
      kind: 'semantic',
      path: '/total',
      message: `total ${output.total} is not subtotal ${output.subtotal}${less} + tax ${output.tax ?? 0} = ${withTax}`,
      // the tax or the discount may be the misread one (a rate read as the amount); the subtotal has its own check
      repairAt: ['/tax', '/discount', '/total'],
    });
  }
  return issues;
};

/**
 * A tax line's amount is its rate of some base the invoice prints: the net subtotal, or a taxable
 * value of its own (one per rate on a mixed-rate invoice). A rate taken from another line fails it.
 */
export const taxLinesAtTheirRate: Check<ExtractInvoiceInput, ExtractInvoiceOutput> = (output, { input }) => {
  const bases = [cents(output.subtotal - (output.discount ?? 0)), output.subtotal, ...numbersIn(input.text)];
  return output.taxes.flatMap((t, i): Issue[] => {
    if (t.rate === null) return [];
    // rounded to cents, or to a whole unit where the currency has no minor unit
    const fits = bases.some((b) => Math.abs((b * t.rate!) / 100 - t.amount) <= Math.max(CENT, Number.isInteger(t.amount) ? 1 : 0));
    return fits
      ? []
      : [{ kind: 'semantic', check: 'tax-at-rate', path: `/taxes/${i}`, message: `${t.name} ${t.rate}% of no amount on the invoice is ${t.amount}; read the rate and amount of this tax line again` }];
  });
};

/** Plain arithmetic rather than Date, so the check behaves the same inside a workflow sandbox. */
function validDate(iso: string): boolean {
  const [y, m, d] = iso.split('-').map(Number);
  if (y === undefined || m === undefined || d === undefined || m < 1 || m > 12 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] ?? 0;
  return d <= days;
}

/** How the invoice itself orders numeric dates, where one of them settles it ("15/04/2025" is day first). */
function ownDateOrder(text: string): DateOrder | undefined {
  const seen = new Set<DateOrder>();
  for (const m of text.matchAll(/(?<![\d.])(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})(?![\d.])/g)) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    if (a > 12 && b <= 12) seen.add('dmy');
    if (b > 12 && a <= 12) seen.add('mdy');
  }
  return seen.size === 1 ? [...seen][0] : undefined;
}

/** The numeric-date order of this invoice: its own, else its vendor's country's, else unknown. */
export function invoiceDateOrder(text: string): { order: DateOrder | undefined; why: string } {
  const own = ownDateOrder(text);
  if (own) return { order: own, why: 'another of its dates can only be read that way' };
  const country = vendorCountries(text)[0];
  if (country) return { order: dateOrderOf(country), why: `its vendor is in ${new Intl.DisplayNames(['en'], { type: 'region' }).of(country) ?? country}` };
  return { order: undefined, why: 'nothing on it says which order it writes dates in' };
}

/**
 * A numeric date that reads both ways ("03/04/2025") is read in the invoice's order: day first in
 * India and Southeast Asia, month first in the US, or as another of its dates shows. The other
 * reading is fixed without a model call; where the order cannot be told, the date is flagged.
 */
export const datesInConvention: Check<ExtractInvoiceInput, ExtractInvoiceOutput> = (output, { input }) => {
  const haystack = dateHaystack(input.text);
  const issues: Issue[] = [];
  let convention: ReturnType<typeof invoiceDateOrder> | undefined;
  const check = (path: string, iso: string | null) => {
    if (iso === null || !validDate(iso)) return;
    const [y, m, d] = iso.split('-');
    if (m === d || Number(d) > 12) return;
    const swapped = `${y}-${d}-${m}`;
    // written in an unambiguous spelling too (a month name, year first): nothing to decide
    const unambiguous = dateSpellings(iso).filter((sp) => !numericReading(sp, y!, m!, d!));
    if (unambiguous.some((sp) => haystack.includes(` ${sp} `))) return;
    const dayFirst = numericForms(y!, m!, d!, 'dmy').some((sp) => haystack.includes(` ${sp} `));
    const monthFirst = numericForms(y!, m!, d!, 'mdy').some((sp) => haystack.includes(` ${sp} `));
    if (!dayFirst && !monthFirst) return;
    convention ??= invoiceDateOrder(input.text);
    const { order, why } = convention;
    if (order === 'dmy' && !dayFirst) {
      issues.push({ kind: 'semantic', check: 'date-convention', path, message: `the invoice writes dates day first (${why}): this date is ${swapped}`, fix: { value: swapped } });
    } else if (order === 'mdy' && !monthFirst) {
      issues.push({ kind: 'semantic', check: 'date-convention', path, message: `the invoice writes dates month first (${why}): this date is ${swapped}`, fix: { value: swapped } });
    } else if (order !== 'dmy' && order !== 'mdy') {
      issues.push({ kind: 'semantic', check: 'date-convention', path, message: `the date is written so that it reads ${iso} day first or ${swapped} month first, and ${why}: a person must decide` });
    }
  };
  check('/issueDate', output.issueDate);
  check('/dueDate', output.dueDate);
  return issues;
};

/** The numeric spellings of a date in one order, with the year as `dateSpellings` writes it. */
function numericForms(y: string, m: string, d: string, order: 'dmy' | 'mdy'): string[] {
  const years = [y, y.slice(2), String(Number(y) + BUDDHIST_ERA_OFFSET)];
  const out: string[] = [];
  for (const a of [d, String(Number(d))]) for (const b of [m, String(Number(m))]) for (const yy of years) out.push(order === 'dmy' ? `${a} ${b} ${yy}` : `${b} ${a} ${yy}`);
  return out;
}

function numericReading(spelling: string, y: string, m: string, d: string): boolean {
  return numericForms(y, m, d, 'dmy').includes(spelling) || numericForms(y, m, d, 'mdy').includes(spelling);
}

export const datesOrdered: Check<ExtractInvoiceInput, ExtractInvoiceOutput> = (output) => {
  const issues: Issue[] = [];
  if (!validDate(output.issueDate)) issues.push({ kind: 'semantic', path: '/issueDate', message: `${output.issueDate} is not a calendar date` });
  if (output.dueDate !== null) {
    if (!validDate(output.dueDate)) issues.push({ kind: 'semantic', path: '/dueDate', message: `${output.dueDate} is not a calendar date` });
    // ISO dates compare as strings
    else if (output.dueDate < output.issueDate) {
      // either date may be the wrong one, so both are open to repair
      const message = `due date ${output.dueDate} is before the issue date ${output.issueDate}`;
      issues.push({ kind: 'semantic', path: '/issueDate', message }, { kind: 'semantic', path: '/dueDate', message });
    }
  }
  return issues;
};

/** The ISO dates an invoice writes, in any spelling `dateAppearsIn` reads ("12.11.2024" gives both readings). */
export function datesIn(text: string): string[] {
  const years = new Set(text.match(/\b(?:19|20)\d{2}\b/g) ?? []);
  // Buddhist-era years, and two-digit years closing a date ("3-Apr-25", "03/04/25")
  for (const be of text.match(/\b2[5-6]\d{2}\b/g) ?? []) years.add(String(Number(be) - BUDDHIST_ERA_OFFSET));
  for (const m of text.matchAll(/\b\d{1,2}[-/. ](?:\p{L}{3,9}\.?|\d{1,2})[-/. ](\d{2})\b/gu)) years.add(`20${m[1]}`);
  const haystack = dateHaystack(text);
  const out: string[] = [];
  for (const y of [...years].filter((x) => /^(?:19|20)\d{2}$/.test(x))) {
    for (let m = 1; m <= 12; m++) {
      for (let d = 1; d <= 31; d++) {
        const iso = `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
        if (validDate(iso) && dateIn(iso, haystack)) out.push(iso);
      }
    }
  }
  return out.sort();
}

/** What follows an invoice-number label on its line: "Invoice No: INV 2024 0042" gives "INV 2024 0042". */
const NUMBER_LABEL = /(?:invoice\s*(?:no\.?|number|nr\.?|#)|rechnungs?(?:nummer|nr\.?)|facture\s*n[°o]\.?|n[°º])\s*[:#]?\s*([^\n]{1,40}?)\s*$/gim;

/** "12.11.2024", "03/15/2025", "2024-11-02": a day, month and year in some order. */
function looksLikeDate(token: string): boolean {
  const parts = token.split(/[./-]/).map(Number);
  if (parts.length !== 3 || parts.some((p) => !Number.isInteger(p))) return false;
  const [a, b, c] = parts as [number, number, number];
  const year = (n: number) => n >= 1900 && n <= 2100;
  const dm = (x: number, y: number) => x >= 1 && y >= 1 && ((x <= 31 && y <= 12) || (x <= 12 && y <= 31));
  return (year(a) && dm(b, c)) || (year(c) && dm(a, b)) || (c < 100 && dm(a, b));
}

/**
 * The candidates for an invoice number: the text after an invoice-number label, and every
 * whitespace-separated token with a digit (also its parts after a ":", a "#" or a "No."), stripped of the
 * punctuation around it, that is not an amount ("1,866.96", "3'580.00"), a date or a one- or
 * two-digit number.
 */
export function idTokensIn(text: string): string[] {
  const labelled = [...text.matchAll(NUMBER_LABEL)].map((m) => m[1]!.trim()).filter((t) => /\d/.test(t));
  const tokens = text
    .normalize('NFKC')
    .split(/\s+/)
    .flatMap((t) => [t, ...t.split(/[:#]/).slice(1), ...(/^\p{L}+\.(.+)$/u.exec(t)?.slice(1) ?? [])])
    .map((t) => t.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, ''))
    .filter((t) => t.length >= 3 && t.length <= 40 && /\d/.test(t))
    .filter((t) => !/^\d{1,3}(?:[,']\d{3})*[.,]\d{2}$/.test(t) && !/^\d+[.,']\d+$/.test(t))
    .filter((t) => !looksLikeDate(t));
  return [...new Set([...labelled, ...tokens])];
}

/**
 * Guided decoding offers only what the invoice writes: its id-like tokens for the number, its
 * dates for the dates, its numbers for every amount, and not many more lines than it has lines
 * with three numbers on them. A grammar-following model cannot invent a value, and cannot
 * loop over made-up lines until it is cut off. The checks still hold where an endpoint ignores
 * the schema; where a list of candidates comes out empty, the contract's own type applies.
 */
function invoiceCandidates(input: ExtractInvoiceInput): z.ZodType<ExtractInvoiceOutput> {
  const text = input.text;
  const ids = idTokensIn(text);
  const dates = datesIn(text);
  const numbers = [...new Set(numbersIn(text))].filter((n) => n <= 1e15);
  const currencies = [...new Set(currencyMentions(text).flatMap((m) => m.currencies))].sort();
  // lines with a quantity, a price and an amount on them; a layout with none gets the contract's bound
  const itemLines = text.split('\n').filter((l) => numbersIn(l).length >= 3).length;
  const date = dates.length > 0 ? z.enum(dates as [string, ...string[]]) : isoDate;
  const amount = numbers.length > 0 ? z.literal(numbers) : z.number().nonnegative();
  // a discount line's price and amount are printed without their sign, or in brackets
  const signed = numbers.length > 0 ? z.literal([...new Set([...numbers, ...numbers.filter((n) => n > 0).map((n) => -n)])]) : z.number();
  const positive = numbers.some((n) => n > 0) ? z.literal(numbers.filter((n) => n > 0)) : z.number().positive();
  const rate = numbers.some((n) => n <= 100) ? z.literal(numbers.filter((n) => n <= 100)) : z.number().min(0).max(100);
  const taxLine = ExtractInvoiceOutput.shape.taxes.element;
  // not more tax lines than lines with a rate on them (and one where none has)
  const rated = text.split('\n').filter((l) => /\d\s?%/.test(l)).length;
  return ExtractInvoiceOutput.extend({
    invoiceNumber: ids.length > 0 ? z.enum(ids as [string, ...string[]]) : ExtractInvoiceOutput.shape.invoiceNumber,
    issueDate: date,
    dueDate: date.nullable(),
    currency: currencies.length > 0 ? z.enum(currencies as [string, ...string[]]) : ExtractInvoiceOutput.shape.currency,
    lines: z
      .array(z.object({ description: ExtractInvoiceOutput.shape.lines.element.shape.description, qty: positive, unitPrice: signed, amount: signed }))
      .min(1)
      .max(itemLines > 0 ? Math.min(30, Math.max(2 * itemLines, itemLines + 4)) : 30),
    subtotal: amount,
    discount: amount.nullable(),
    taxes: z.array(z.object({ name: taxLine.shape.name, rate: rate.nullable(), amount })).max(Math.min(8, Math.max(1, rated))),
    // the total tax may be printed only as its lines: their sum is no number of the text
    tax: z.number().nonnegative().nullable(),
    total: amount,
  }) as unknown as z.ZodType<ExtractInvoiceOutput>;
}

export const extractInvoice = defineMicroTask<ExtractInvoiceInput, ExtractInvoiceOutput>({
  name: 'extract-invoice',
  version: 6,
  formatName: 'extract_invoice',
  description: 'Extracts the header, lines and totals of an invoice into a fixed schema, every value copied from the text.',
  input: ExtractInvoiceInput,
  output: ExtractInvoiceOutput,
  guidedSchema: invoiceCandidates,
  prompt: (input, context) => ({
    system: 'You extract data from invoices. Copy every value from the invoice text; never compute or guess a value that is not written there.',
    user: `${renderContext(context)}

<invoice>
${input.text}
</invoice>

Extract invoiceNumber, issueDate, dueDate, vendor (the issuer, not the party billed), currency, every line (description, qty, unitPrice, amount), subtotal, discount, every tax line (name, rate, amount), tax and total.
Return JSON of this shape: {"invoiceNumber":"...","issueDate":"YYYY-MM-DD","dueDate":"YYYY-MM-DD","vendor":"...","currency":"...","lines":[{"description":"...","qty":1,"unitPrice":0,"amount":0}],"subtotal":0,"discount":null,"taxes":[{"name":"...","rate":0,"amount":0}],"tax":0,"total":0}`,
  }),
  checks: [valuesGrounded, vendorNotBuyer, lineAmountsMultiply, totalsAddUp, taxLinesAtTheirRate, datesOrdered, datesInConvention],
  pool: 'small',
  maxTokens: 700,
  temperature: 0,
  allowPartial: true,
  // every field but the due date: an invoice without a settled due date is still booked, flagged for review
  critical: ['/invoiceNumber', '/issueDate', '/vendor', '/currency', '/lines', '/subtotal', '/discount', '/taxes', '/tax', '/total'],
});
