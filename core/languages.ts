/**
 * What text matching knows of each language, as data: its stop words, the words that tell a text
 * is in it, and how its words are stemmed. Add a language's row here, and `languageOf` finds it and
 * `contentWords` stems its words (see core/text.ts, core/stemmers.ts).
 */

/** How a language's Latin-script words are stemmed; words of other scripts are never stemmed. */
export type StemmerName = 'english' | 'indonesian' | 'german' | 'french' | 'spanish' | 'portuguese' | 'italian' | 'dutch';

export interface LanguageData {
  /** function words, dropped before words are matched */
  stopWords: readonly string[];
  /**
   * Dropped from every text, whatever its language: the languages that share one ticket (a Bahasa
   * or Hinglish ticket is half English). The others' stop words are dropped only from text in them,
   * since many are English content words ("die", "come", "son").
   */
  everywhere?: true;
  /** more words that tell a text is in this language: counted by `languageOf`, never dropped */
  markers?: readonly string[];
  stemmer: StemmerName;
}

const words = (s: string) => s.split(/\s+/).filter(Boolean);

export const LANGUAGES = {
  en: {
    everywhere: true,
    stopWords: words(`a an and are as at be been but by can could did do does for from had has have he her his how i if in into is it its
      itself just may me more most my no not of on or our out over own she should so some such than that the their them then
      there these they this those through to too under up very was we were what when where which while who whom why will with
      would you your yours also about after again all any because before being between both during each few further here
      other same only once until off s t don now per via etc
      section text document article part describes discusses explains covers outlines notes mentions says`),
    stemmer: 'english',
  },
  // Indonesian and Malay share one row: the same affixes, and their function words mostly shared
  id: {
    everywhere: true,
    stopWords: words('yang dan di ke dari untuk dengan ini itu atau pada adalah juga tidak akan sudah bisa saya kami kita anda ada'),
    markers: words(`belum tapi tetapi karena kerana sangat masih jika kalau agar oleh mereka dia aku kamu telah sedang hanya saja sahaja
      tak boleh daripada dalam tentang seperti sebagai tolong mohon sampai kenapa mengapa bagaimana apakah sih dong kok nggak gak`),
    stemmer: 'indonesian',
  },
  // Hinglish: romanized Hindi has no stemmer to take; its English words take the English one
  hi: {
    everywhere: true,
    stopWords: words('hai hain ka ki ke ko se mein aur bhi nahi'),
    markers: words('kya hoga tha thi raha rahi kar karo kiya gaya mera meri mujhe aap apna abhi kab kyun wala wali hoon yeh woh'),
    stemmer: 'english',
  },
  // Vietnamese, Chinese and Thai do not inflect: their words are never stemmed (a Latin word among them is English)
  vi: {
    everywhere: true,
    stopWords: words('và của là có cho với những các một được không này khi ở thì đã sẽ rất cũng'),
    stemmer: 'english',
  },
  zh: {
    everywhere: true,
    stopWords: words('的 了 和 是 在 也 就 都 而 及 与 着 或 一个 没有 我 你 他 她 它 我们 这 那'),
    stemmer: 'english',
  },
  th: {
    stopWords: [],
    markers: words('ที่ และ ของ ใน เป็น ไม่ ได้ ให้ มี การ ว่า จะ ก็ กับ แล้ว ครับ ค่ะ'),
    stemmer: 'english',
  },
  de: {
    stopWords: words('der die das und ist nicht ein eine einen einem mit für auf den dem des ich sie es wir ihr zu von im sich auch wie bei oder aber noch nach wenn nur kann war sind'),
    stemmer: 'german',
  },
  fr: {
    stopWords: words('le la les des du un une et est que qui pas pour dans sur avec ne au aux ce cette il elle nous vous je mais plus ou son sa ses été très'),
    stemmer: 'french',
  },
  es: {
    stopWords: words('el la los las de del que y es en un una por con no para se lo al su sus como pero más mi muy está están'),
    stemmer: 'spanish',
  },
  pt: {
    stopWords: words('o os as de do da dos das que e é em um uma para com não no na por se mais mas seu sua foi está muito'),
    stemmer: 'portuguese',
  },
  it: {
    stopWords: words('il lo la gli le di del della che e è un una per con non nel sono ma come anche mi si questo questa molto'),
    stemmer: 'italian',
  },
  nl: {
    stopWords: words('de het een en is van dat niet op te met voor zijn ik je maar ook er aan bij wordt werd heeft'),
    stemmer: 'dutch',
  },
} as const satisfies Record<string, LanguageData>;

export type Lang = keyof typeof LANGUAGES;

/**
 * Indonesian and Malay affixes, for the stripper in core/stemmers.ts. No npm stemmer fits here:
 * the Snowball one (in @orama/stemmers and @nlpjs/lang-id) leaves "mengirim" as "irim" but "kirim"
 * as "kirim", and strips "kembali" three ways ("mbali", "kembali", "embali") by the affixes around
 * it; the dictionary one (sastrawijs) ships a 300 kB word list yet leaves a loanword's affixes on
 * ("direfund"). What matching needs is one key per word family, the same on both sides of a
 * comparison, not the dictionary root: so a root is written as meN- sounds it (`initial`), and
 * "kirim", "mengirim", "dikirim" and "pengiriman" all give "irim".
 */
export interface AffixRule {
  /** what the rule removes from the front, with a lookahead for what must follow */
  re: RegExp;
  /** what stands in its place (a nasal kept: "memakai" -> "makai") */
  to: string;
  /** no prefix precedes the root after this one (the nasal of meN- and peN-) */
  last?: true;
  /** only in a word that ends in this suffix (ke-…-an: "kerusakan", never "kembali") */
  confix?: string;
  /** the rest may be one syllable ("dicek" -> "cek"), when it is one of `monosyllables` */
  mono?: true;
  /** only as a word's first prefix ("keterlambatan"; "dikeluarkan" is di- + "keluar" + -kan) */
  first?: true;
}

export const INDONESIAN = {
  /** particles, then possessives, each stripped once from the end */
  particles: words('lah kah pun'),
  possessives: words('nya ku mu'),
  /** derivational suffixes, stripped while two vowels remain ("dikembalikan" -> "kembal") */
  suffixes: words('kan an i'),
  prefixes: [
    { re: /^(?:me|pe)?nge(?=(?:cek|tes|cat|bom|cas|lap|las|pel|rem|sah|tik|bor|print|scan)(?:kan|an|i)?$)/, to: '', last: true, mono: true },
    { re: /^[mp]eng(?=[aeiou])/, to: '', last: true },
    { re: /^[mp]eng(?=[ghkq])/, to: '' },
    { re: /^[mp]eny(?=[aeiou])/, to: 'ny', last: true },
    { re: /^[mp]en(?=[aeiou])/, to: 'n', last: true },
    { re: /^[mp]en(?=[cdjstz])/, to: '' },
    { re: /^[mp]em(?=[aeiou])/, to: 'm', last: true },
    { re: /^[mp]em(?=[bfpv])/, to: '' },
    { re: /^[mp]em(?=r[aeiou])/, to: 'p' },
    { re: /^[bp]el(?=ajar)/, to: '' },
    { re: /^(?:ber|per|ter)(?=[aeiou])/, to: '' },
    { re: /^[mp]e(?=[lrwy][aeiou])/, to: '' },
    { re: /^[bp]e(?=[^aeiou]er)/, to: '' },
    { re: /^(?:ber|per|ter)/, to: '' },
    { re: /^pe(?=[^aeiou])/, to: '' },
    { re: /^di/, to: '', mono: true },
    { re: /^ke/, to: '', confix: 'an', first: true },
  ] satisfies readonly AffixRule[],
  /** how every rule of `prefixes` starts: the other words skip them at once */
  prefixed: /^(?:[mpbt]e|di|ke|nge)/,
  /** one-syllable roots that take menge- and di- ("mengecek", "dicek", colloquial "ngecas") */
  monosyllables: words('cek tes cat bom cas lap las pel rem sah tik bor print scan'),
  /**
   * Roots that begin or end like an affix, left whole: "terima" is not ter- + "ima", "pesanan" not
   * pe- + "sanan", "masalah" not "masa" + -lah, "bertanya" not "berta" + -nya.
   */
  roots: words('terima periksa pesan beri masalah sekolah jumlah istilah kalah olah lelah sebelah nikah langkah perintah tanya punya temu laku'),
  /**
   * A root's first consonant as meN- sounds it, so that the root and its prefixed forms agree:
   * k and ng drop ("kirim", "mengirim" -> "irim"), p is m ("pakai", "memakai" -> "makai"), t is n
   * ("tunggu", "menunggu" -> "nunggu"), s is ny ("sapu", "menyapu" -> "nyapu").
   */
  initial: [
    [/^(?:k|ng)(?=[aeiou])/, ''],
    [/^p(?=[aeiou])/, 'm'],
    [/^t(?=[aeiou])/, 'n'],
    [/^s(?=[aeiou])/, 'ny'],
  ] as const satisfies readonly (readonly [RegExp, string])[],
  /** a root's final k after a vowel drops, as -kan and -an cannot be told apart after it ("kerusakan", "rusak" -> "rusa") */
  finalK: /(?<=[aeiou])k$/,
};
