/**
 * Units of measure a generated text may put after a number, with their spellings, so "30 hours"
 * and "30-hour" and "30 h" are one claim, and "254 mm" is not "254 g". Data, not rules: add a
 * language's spellings here.
 */
export const UNITS: Record<string, readonly string[]> = {
  second: ['s', 'sec', 'secs', 'second', 'seconds', 'detik', 'giây', '秒'],
  minute: ['min', 'mins', 'minute', 'minutes', 'menit', 'phút', '分钟'],
  hour: ['h', 'hr', 'hrs', 'hour', 'hours', 'jam', 'giờ', '小时'],
  day: ['day', 'days', 'hari', 'ngày', '天'],
  week: ['week', 'weeks', 'wk', 'minggu', 'tuần', '周'],
  month: ['month', 'months', 'mo', 'bulan', 'tháng', '个月'],
  year: ['year', 'years', 'yr', 'yrs', 'tahun', 'năm', '年'],
  millimetre: ['mm', 'millimetre', 'millimetres', 'millimeter', 'millimeters'],
  centimetre: ['cm', 'centimetre', 'centimetres', 'centimeter', 'centimeters'],
  metre: ['m', 'metre', 'metres', 'meter', 'meters', 'mét'],
  kilometre: ['km', 'kilometre', 'kilometres', 'kilometer', 'kilometers'],
  inch: ['in', 'inch', 'inches', 'inci'],
  foot: ['ft', 'foot', 'feet'],
  gram: ['g', 'gram', 'grams', 'gramme', 'grammes', 'gr'],
  kilogram: ['kg', 'kgs', 'kilogram', 'kilograms', 'kilo', 'kilos'],
  pound: ['lb', 'lbs', 'pound', 'pounds'],
  ounce: ['oz', 'ounce', 'ounces'],
  litre: ['l', 'litre', 'litres', 'liter', 'liters', 'lít'],
  millilitre: ['ml', 'millilitre', 'millilitres', 'milliliter', 'milliliters'],
  watt: ['w', 'watt', 'watts'],
  kilowatt: ['kw', 'kilowatt', 'kilowatts'],
  kilowatthour: ['kwh'],
  volt: ['v', 'volt', 'volts'],
  milliamphour: ['mah'],
  hertz: ['hz', 'hertz'],
  kilohertz: ['khz'],
  megahertz: ['mhz'],
  gigahertz: ['ghz'],
  byte: ['b', 'byte', 'bytes'],
  kilobyte: ['kb', 'kilobyte', 'kilobytes'],
  megabyte: ['mb', 'megabyte', 'megabytes'],
  gigabyte: ['gb', 'gigabyte', 'gigabytes'],
  terabyte: ['tb', 'terabyte', 'terabytes'],
  megabit: ['mbps', 'mbit'],
  bar: ['bar', 'bars'],
  decibel: ['db', 'decibel', 'decibels'],
  degree: ['degree', 'degrees', 'derajat', 'độ'],
  celsius: ['celsius'],
  // "%" is read apart: it is no word
  percent: ['percent', 'persen'],
  pixel: ['px', 'pixel', 'pixels'],
  megapixel: ['mp', 'megapixel', 'megapixels'],
  rpm: ['rpm'],
};

const BY_SPELLING = new Map<string, string>(Object.entries(UNITS).flatMap(([unit, spellings]) => spellings.map((s) => [s, unit] as const)));

/** The unit a word names ("hrs" -> "hour"), or undefined when it is no known unit. */
export function unitOf(word: string): string | undefined {
  // a capital letter alone is no unit ("5G", "2A"), except litre, watt, volt and byte
  if (word.length === 1 && word !== word.toLowerCase() && !'LWVB'.includes(word)) return undefined;
  return BY_SPELLING.get(word.normalize('NFKC').toLowerCase());
}

/** Words that scale the number before them: "Rp 1,25 juta" is 1,250,000, "3.6 lakh" 360,000, "1.2万" 12,000. */
export const SCALES = new Map<string, number>([
  ['k', 1e3], ['thousand', 1e3], ['mn', 1e6], ['million', 1e6], ['bn', 1e9], ['billion', 1e9],
  ['rb', 1e3], ['ribu', 1e3], ['jt', 1e6], ['juta', 1e6], ['miliar', 1e9], ['triliun', 1e12],
  ['nghìn', 1e3], ['ngàn', 1e3], ['tr', 1e6], ['triệu', 1e6], ['tỷ', 1e9], ['tỉ', 1e9],
  ['lakh', 1e5], ['lakhs', 1e5], ['lac', 1e5], ['lacs', 1e5], ['crore', 1e7], ['crores', 1e7], ['cr', 1e7],
  ['千', 1e3], ['万', 1e4], ['萬', 1e4], ['亿', 1e8], ['億', 1e8],
]);

/** Number words a source may spell a figure with; add a language's words here. */
const SPELLED: Record<string, readonly string[]> = {
  en: ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen', 'twenty'],
  id: ['nol', 'satu', 'dua', 'tiga', 'empat', 'lima', 'enam', 'tujuh', 'delapan', 'sembilan', 'sepuluh'],
};
const TENS_EN = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];

export const NUMBER_WORDS = new Map<string, number>([
  ...Object.values(SPELLED).flatMap((words) => words.map((w, i) => [w, i] as const)),
  ...TENS_EN.flatMap((w, i) => (w ? [[w, i * 10] as const] : [])),
  ['hundred', 100],
  ['thousand', 1000],
]);
