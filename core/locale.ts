/**
 * Which country a text is from, and what that says about how it writes dates and money: the
 * country names come from the runtime's CLDR data in English and each country's own language,
 * the date order from the country's CLDR date pattern, its currency from `country-to-currency`.
 */
import countryToCurrency from 'country-to-currency';
import { findPhoneNumbersInText } from 'libphonenumber-js/min';
import { normalizeText } from './text.js';

export type DateOrder = 'dmy' | 'mdy' | 'ymd';

/** ISO 3166 alpha-2 codes the currency data knows: every country with a currency of its own. */
const COUNTRIES = Object.keys(countryToCurrency as Record<string, string>).filter((c) => /^[A-Z]{2}$/.test(c));

/** Names a text uses for a country besides its CLDR names. */
const ALIASES: Record<string, readonly string[]> = {
  US: ['usa', 'u s a', 'united states of america', 'america'],
  GB: ['uk', 'u k', 'great britain', 'england', 'scotland', 'wales'],
  AE: ['uae', 'u a e'],
  VN: ['viet nam'],
  KR: ['south korea', 'republic of korea'],
  CN: ['prc', 'mainland china'],
};

/** A US address line ("Austin, TX 78701"): the one country whose invoices rarely name it. */
const US_ADDRESS = /\b[A-Z]{2}\s+\d{5}(?:-\d{4})?\b/;

/**
 * Company legal forms and registration words that belong to one country; add a country's here.
 * Matched as words, case aside ("Sdn. Bhd.", "Pvt Ltd", "GSTIN").
 */
const COUNTRY_MARKS: Record<string, readonly string[]> = {
  IN: ['pvt ltd', 'private limited', 'gstin', 'llp india'],
  MY: ['sdn bhd', 'berhad', 'bhd'],
  SG: ['pte ltd', 'uen'],
  ID: ['tbk', 'npwp', 'pt'],
  PH: ['inc philippines', 'tin vat reg'],
  VN: ['tnhh', 'cổ phần', 'mst'],
  TH: ['จำกัด', 'บริษัท'],
  JP: ['株式会社', '有限会社', '合同会社', '〒'],
  CN: ['有限公司', '股份有限公司', '统一社会信用代码'],
};

/** Scripts written in one country only: kana is Japanese, hangul Korean, Thai script Thai. */
const COUNTRY_SCRIPTS: readonly [RegExp, string][] = [
  [/[\p{Script=Hiragana}\p{Script=Katakana}]/u, 'JP'],
  [/\p{Script=Hangul}/u, 'KR'],
  [/\p{Script=Thai}/u, 'TH'],
];

let names: Map<string, string> | undefined;

/** normalized name -> country code, built once. */
function countryNames(): Map<string, string> {
  if (names) return names;
  names = new Map();
  const english = new Intl.DisplayNames(['en'], { type: 'region' });
  for (const cc of COUNTRIES) {
    const own = new Intl.DisplayNames([new Intl.Locale(`und-${cc}`).maximize().language], { type: 'region' });
    for (const name of [english.of(cc), own.of(cc), ...(ALIASES[cc] ?? [])]) {
      const n = name ? normalizeText(name) : '';
      // two Latin letters would be codes, and codes are words too often ("IN", "ID"); "中国" is a name
      if ((n.length >= 3 || /[^\p{Script=Latin}]/u.test(n)) && n !== cc.toLowerCase()) names.set(n, cc);
    }
  }
  return names;
}

/**
 * The countries a text points to, strongest first: countries it names, then phone numbers with
 * their country code, company legal forms and registration words, then a script of one country.
 */
export function countriesIn(text: string): string[] {
  const hay = ` ${normalizeText(text)} `;
  const counts = new Map<string, number>();
  const add = (cc: string, weight: number) => counts.set(cc, (counts.get(cc) ?? 0) + weight);
  for (const [name, cc] of countryNames()) {
    let at = hay.indexOf(` ${name} `);
    while (at >= 0) {
      add(cc, 3);
      at = hay.indexOf(` ${name} `, at + name.length + 1);
    }
  }
  if (US_ADDRESS.test(text)) add('US', 2);
  for (const found of findPhoneNumbersInText(text)) if (found.number.country) add(found.number.country, 2);
  for (const [cc, marks] of Object.entries(COUNTRY_MARKS)) {
    for (const mark of marks) {
      const n = normalizeText(mark);
      if (n !== '' ? hay.includes(` ${n} `) : text.includes(mark)) add(cc, 1);
    }
  }
  for (const [re, cc] of COUNTRY_SCRIPTS) if (re.test(text)) add(cc, 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([cc]) => cc);
}

/** The order a country writes a numeric date in, from its CLDR pattern ("en-SG" day first, "en-US" month first). */
export function dateOrderOf(country: string): DateOrder {
  const language = new Intl.Locale(`und-${country}`).maximize().language;
  const order = new Intl.DateTimeFormat(`${language}-${country}`, { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'UTC' })
    .formatToParts(Date.UTC(2025, 2, 4, 12))
    .filter((p) => p.type === 'day' || p.type === 'month' || p.type === 'year')
    .map((p) => p.type[0])
    .join('');
  return order === 'mdy' ? 'mdy' : order === 'ymd' ? 'ymd' : 'dmy';
}

/** Languages whose month names an invoice may use; the names come from the runtime's calendar data. */
const MONTH_LOCALES = ['en', 'id', 'ms', 'vi', 'fil', 'fr', 'de', 'es', 'pt', 'it', 'nl'];

let months: readonly (readonly string[])[] | undefined;

/**
 * A month's (1-12) names in the month locales, long and short, normalized ("mei", "juni", "thg 5",
 * "okt"). Built once, on first use: reading the calendar data of eleven languages takes a moment.
 */
export function monthNames(month: number): readonly string[] {
  months ??= Array.from({ length: 12 }, (_, m) => {
    const names = new Set<string>();
    for (const locale of MONTH_LOCALES) {
      for (const style of ['long', 'short'] as const) {
        // the 15th at noon UTC is the same month in every time zone
        const name = normalizeText(new Intl.DateTimeFormat(locale, { month: style, timeZone: 'UTC' }).format(Date.UTC(2000, m, 15, 12)));
        if (name !== '' && !/^\d+$/.test(name)) names.add(name);
      }
    }
    const en = [...names][0]!;
    // "Sept", and four-letter cuts of English names ("June", "Augu" would not be written; "Sept" is)
    names.add(en.slice(0, 3)).add(en.slice(0, 4));
    return [...names];
  });
  return months[month - 1] ?? [];
}

/** A country's currency, ISO 4217. */
export function currencyOf(country: string): string | undefined {
  return (countryToCurrency as Record<string, string>)[country];
}
