/**
 * Finds instructions aimed at the model inside user text (a ticket, a customer's note, a document),
 * and what they ask the answer to contain. Phrasings are data per language
 * (core/injection-phrases.ts); the mechanisms here are not: the text is read with zero-width
 * characters dropped and look-alike letters (Cyrillic "о" for Latin "o") mapped to the letters they
 * imitate, and what a reader does not see is read too: HTML comments, markdown comments, image alt
 * text, base64 payloads that decode to text. Chat-role headers, text that closes a JSON answer
 * early, requests for the prompt and orders about what the answer must contain are signals of
 * their own. Pure code: it runs in workflow code, where contracts are checked.
 */
import { remove as removeConfusables } from 'confusables';
import { INJECTION_PHRASES } from './injection-phrases.js';
import { moneySpans } from './money.js';
import { escapeRegExp, wordsOf } from './text.js';

export { INJECTION_PHRASES } from './injection-phrases.js';

/** How an injection showed itself. */
export const INJECTION_SIGNALS = [
  'override', // "ignore the above", "you are now", in any of the languages
  'reveal', // a request for the prompt or the instructions
  'directive', // an order about what the answer must contain or be
  'role-header', // a fake system, developer, assistant or tool message
  'json-breakout', // text that closes a JSON answer early and adds keys
  'hidden-comment', // an instruction in an HTML or markdown comment
  'markdown-hidden', // an instruction in an image's alt text, a link's title or a heading; a link that shows one address and goes to another
  'base64', // a base64 payload that decodes to text
  'hidden-characters', // zero-width characters or look-alike letters hiding a word
] as const;
export type InjectionSignal = (typeof INJECTION_SIGNALS)[number];

export interface InjectionSegment {
  signal: InjectionSignal;
  /** the injected text as the model reads it (a base64 payload decoded) */
  text: string;
  /** where it is written in the text, when that is not `text` itself: the base64 token */
  written?: string;
}

export interface InjectionFinding {
  /** the first injected text found: from the start of the trigger's sentence to the end of its paragraph */
  instruction: string;
  signals: InjectionSignal[];
  segments: InjectionSegment[];
  /** phrases, codes, links and addresses the injection asks for; an output containing one has obeyed it */
  demands: string[];
  /** the links of the injected text */
  links: string[];
}

/** Zero-width and invisible formatting characters, which hide a phrase from a reader but not from the model. */
const INVISIBLE = /[\u200B-\u200F\u2060-\u2064\uFEFF\u00AD\u180E\u034F\u061C\u115F\u1160\u3164\uFFA0]/g;

/** Latin letters and look-alikes of another script in one word: "раypal" with a Cyrillic "р". */
const MIXED_SCRIPT_WORD = /(?=\S*\p{Script=Latin})(?=\S*[\p{Script=Cyrillic}\p{Script=Greek}])[\p{L}\p{M}]{3,}/u;

/** How a text reads once invisible characters are gone and look-alikes are the letters they imitate. */
export function readable(text: string): { text: string; hidden: boolean } {
  const visible = text.normalize('NFKC');
  const stripped = visible.replace(INVISIBLE, '');
  // a zero-width joiner belongs inside Indic words; between Latin letters it hides something
  const hidden = /\p{Script=Latin}[\u200B-\u200F\u2060-\u2064\uFEFF\u00AD\u180E\u034F]+\p{Script=Latin}/u.test(visible) || MIXED_SCRIPT_WORD.test(stripped);
  return { text: stripped, hidden };
}

/** The phrasings as the text is read: NFKC, as `readable` makes the text (Thai "ำ" is two characters then). */
const nfkc = (list: readonly RegExp[]) => list.map((re) => new RegExp(re.source.normalize('NFKC'), re.flags));
const LANGUAGES = Object.values(INJECTION_PHRASES).map((l) => ({
  override: nfkc(l.override),
  reveal: nfkc(l.reveal),
  directive: nfkc(l.directive),
  addressee: nfkc(l.addressee),
  imperative: nfkc(l.imperative),
  you: nfkc(l.you),
  roles: l.roles.map((r) => r.normalize('NFKC')),
}));

/** The earliest match of any of the lists in the text or its look-alike-free reading. */
function firstMatch(text: string, latin: string, lists: readonly (readonly RegExp[])[]): number {
  let at = -1;
  for (const list of lists) {
    for (const re of list) {
      // the look-alike-free reading has the same length only where no character was mapped to several: so the offset is capped
      const m = re.exec(text) ?? re.exec(latin);
      if (m && (at < 0 || m.index < at)) at = Math.min(m.index, text.length - 1);
    }
  }
  return at;
}

const ROLE_NAMES = [...new Set(LANGUAGES.flatMap((l) => l.roles))].sort((a, b) => b.length - a.length).map((r) => escapeRegExp(r).replace(/\s+/g, '\\s+'));
/** A chat role as a line's header: "System:", "[SYSTEM]", "### Developer message", "> tool output:". */
const ROLE_LINE = new RegExp(`^[\\s>*_#-]*(?:\\[\\s*)?(?:${ROLE_NAMES.join('|')})(?:\\s*\\])?\\s*(?:message|prompt|note|notice|override|update|output|result)?\\s*(?:\\(.{0,30}\\))?\\s*(?:[:：\\]]|-{2,}|$)`, 'imu');
/** Chat-template tokens and tags that have no place in user text: "<|im_start|>", "[INST]", "<<SYS>>", "<system>". */
const ROLE_TOKEN = /<\|[a-z_]{2,20}\|>|\[\/?INST\]|<<\/?SYS>>|<\/?(?:system|developer|assistant|tool|tool_call|tool_response|function_call|instructions?|im_start|im_end|sys)\b[^>]{0,40}>|"role"\s*:\s*"(?:system|developer|tool|assistant|function)"|^#{1,6}\s*(?:system|developer)\s*(?:message|prompt)?\s*:\s*$/imu;

/** A string and its object closed, then a new key: `"}, "priority": "urgent"` or `"} {"category":`. */
const JSON_CLOSE = /["”]\s*[}\]]\s*[,}\]]*\s*\{?\s*["“][\p{L}_][\p{L}\p{N}_ -]{0,30}["”]\s*:/gu;

const URL = /\b(?:https?:\/\/|www\.)[^\s<>"'()\[\]{}]+|\b[a-z0-9][a-z0-9-]{1,62}(?:\.[a-z0-9-]{2,62})*\.(?:com|net|org|info|io|co|xyz|top|site|online|click|link|app|me|ly|vn|id|my|sg|in|cn|th|ph|shop|store|support|help|biz|cc|tk|ru)(?:\/[^\s<>"'()\[\]{}]*)?/gi;
const EMAIL = /\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b/g;
/** Code-like tokens: capitals and digits together (SAVE50, FREE-SHIP-2024), or capitals joined by hyphens (ENT-FREE-YEAR). */
const CODE = /\b(?:(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9][A-Z0-9-]{4,}|[A-Z]{2,}(?:-[A-Z0-9]{2,}){2,})\b/g;
// double quotes and CJK brackets only: single quotes are apostrophes far more often than quotation marks
const QUOTED = /["“„「『]([^"“”„「」『』\n]{3,120})["”」』]/gu;

/** The links of a text, as written, without trailing punctuation. */
export function linksIn(text: string): string[] {
  return [...new Set([...text.normalize('NFKC').replace(INVISIBLE, '').matchAll(URL)].map((m) => m[0].replace(/[.,;:!?)\]}>…。，]+$/u, '')).filter((u) => /[a-z]/i.test(u) && !/^\d/.test(u)))];
}

/** A link reduced to host and path, for comparing one written with or without its scheme, "www." or a closing slash. */
export function linkKey(link: string): string {
  return link.toLowerCase().replace(/^[a-z]+:\/\//, '').replace(/^www\./, '').replace(/[/#?]+$/, '');
}

// ---------------------------------------------------------------------------------------------
// base64, decoded without Buffer or atob: this runs in workflow code too

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Map([...B64].map((c, i) => [c, i] as const));

function decodeBase64(token: string): string | null {
  const clean = token.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (clean.length % 4 === 1) return null;
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const c of clean) {
    const v = B64_INDEX.get(c);
    if (v === undefined) return null;
    buffer = (buffer << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return utf8(bytes);
}

function utf8(bytes: readonly number[]): string | null {
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i]!;
    const n = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
    if (n < 0 || i + n >= bytes.length + (n === 0 ? 1 : 0)) return null;
    let cp = n === 0 ? b : b & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return null;
      cp = (cp << 6) | (c & 0x3f);
    }
    out += String.fromCodePoint(cp);
    i += n + 1;
  }
  return out;
}

/** Base64 tokens of the text that decode to words: a sentence no reader sees, which the model can read. */
function base64Payloads(text: string): { token: string; decoded: string }[] {
  const out: { token: string; decoded: string }[] = [];
  for (const m of text.matchAll(/(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,}={0,2}(?![A-Za-z0-9+/_-])/g)) {
    const token = m[0];
    // an identifier, a hash or a path is not base64 text: it needs both cases, and no run of hex alone
    if (!/[a-z]/.test(token) || !/[A-Z]/.test(token) || /^[0-9a-f-]+$/i.test(token)) continue;
    const decoded = decodeBase64(token);
    if (decoded === null) continue;
    const printable = [...decoded].filter((c) => /[\p{L}\p{N}\p{P}\p{Zs}\n]/u.test(c)).length;
    const words = decoded.split(/[\s,.;:!?，。]+/u).filter((w) => /^\p{L}{2,}/u.test(w));
    const spaced = /\s/.test(decoded) || /[\p{Script=Han}\p{Script=Thai}]{4,}/u.test(decoded);
    if (printable / Math.max(1, [...decoded].length) >= 0.95 && spaced && (words.length >= 3 || /[\p{Script=Han}\p{Script=Thai}]{4,}/u.test(decoded))) out.push({ token, decoded: decoded.trim() });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

/** The sentence and paragraph around an offset: from the start of its sentence to the end of its paragraph. */
function around(text: string, at: number): string {
  const start = Math.max(...['.', '!', '?', '\n', '。', '！', '？'].map((p) => text.lastIndexOf(p, at - 1))) + 1;
  const end = text.indexOf('\n\n', at);
  return text.slice(start, end < 0 ? text.length : end).trim();
}

/** Whether a word is of the vocabulary instructions are written in ("reply", "ignore", "include"), in any of the languages: not a claim of its own. */
export function isInstructionWord(word: string): boolean {
  return LANGUAGES.some((l) => [...l.addressee, ...l.imperative, ...l.you].some((re) => re.test(word)));
}

/** Whether a text names the model or its output and orders it about: one word of each, in any of the languages. */
function addresses(raw: string): boolean {
  // "note_to_assistant" names the assistant too
  const text = raw.replace(/_/g, ' ');
  const latin = removeConfusables(text);
  const any = (lists: readonly (readonly RegExp[])[]) => lists.some((list) => list.some((re) => re.test(text) || re.test(latin)));
  return any(LANGUAGES.map((l) => l.addressee)) && any(LANGUAGES.map((l) => l.imperative));
}

/** Hidden channels: HTML and markdown comments, image alt text and link titles, headings, links that show another address. */
function hiddenChannels(text: string): InjectionSegment[] {
  const out: InjectionSegment[] = [];
  for (const m of text.matchAll(/<!--([\s\S]*?)(?:-->|$)/g)) {
    const body = m[1]!.trim();
    if (/^\[?(?:if|endif)\b/i.test(body)) continue; // an e-mail client's conditional comment
    if ((body.split(/\s+/).length >= 3 || body.length >= 8) && addresses(body)) out.push({ signal: 'hidden-comment', text: body });
  }
  // markdown comments: [//]: # (…) and [comment]: <> (…)
  for (const m of text.matchAll(/^\s*\[[^\]\n]*\]:\s*(?:#|<>)\s*[("'](.+)[)"']\s*$/gm)) if (addresses(m[1]!)) out.push({ signal: 'hidden-comment', text: m[1]!.trim() });
  // image alt text and link titles
  for (const m of text.matchAll(/!\[([^\]\n]{8,})\]\([^)\n]*\)/g)) if (addresses(m[1]!)) out.push({ signal: 'markdown-hidden', text: m[1]!.trim() });
  for (const m of text.matchAll(/\]\(\s*\S+\s+["']([^"'\n]{8,})["']\s*\)/g)) if (addresses(m[1]!)) out.push({ signal: 'markdown-hidden', text: m[1]!.trim() });
  // a link whose text is one address and whose target another
  for (const m of text.matchAll(/(?<!!)\[([^\]\n]+)\]\(\s*([^)\s]+)[^)\n]*\)/g)) {
    const shown = linksIn(m[1]!);
    const target = linksIn(m[2]!);
    if (shown.length > 0 && target.length > 0 && hostOf(shown[0]!) !== hostOf(target[0]!)) out.push({ signal: 'markdown-hidden', text: m[0] });
  }
  // a heading that gives an order: "## New instructions: …", "## Note to the AI summarizer"
  for (const m of text.matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const line = m[1]!;
    if (LANGUAGES.some((l) => [...l.override, ...l.reveal, ...l.directive].some((re) => re.test(line)))) out.push({ signal: 'markdown-hidden', text: around(text, m.index!) });
  }
  return out;
}

function hostOf(link: string): string {
  return linkKey(link).split('/')[0]!;
}

/** The injected segments of a text that is already readable (no invisible characters). */
function segmentsOf(text: string, depth: number): InjectionSegment[] {
  const latin = removeConfusables(text);
  const out: InjectionSegment[] = [];
  const phrase = (signal: InjectionSignal, lists: readonly (readonly RegExp[])[]) => {
    const at = firstMatch(text, latin, lists);
    if (at >= 0) out.push({ signal, text: around(text, at) });
  };
  phrase('override', LANGUAGES.map((l) => l.override));
  phrase('reveal', LANGUAGES.map((l) => l.reveal));
  phrase('directive', LANGUAGES.map((l) => l.directive));
  const token = ROLE_TOKEN.exec(text);
  if (token) out.push({ signal: 'role-header', text: around(text, token.index) });
  else {
    // a role header counts when what follows it addresses the model, or the next line does
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (out.some((s) => s.signal === 'role-header')) return;
      const fromLatin = removeConfusables(line);
      const m = ROLE_LINE.exec(line) ?? ROLE_LINE.exec(fromLatin);
      if (!m) return;
      const rest = `${line.slice(m[0].length)} ${lines[i + 1] ?? ''}`;
      const latinRest = removeConfusables(rest.replace(/_/g, ' '));
      const spokenTo = LANGUAGES.some((l) => l.you.some((re) => re.test(rest.replace(/_/g, ' ')) || re.test(latinRest)));
      if (addresses(rest) && spokenTo) out.push({ signal: 'role-header', text: around(text, text.indexOf(line)) });
    });
  }
  for (const m of text.matchAll(JSON_CLOSE)) {
    const before = text.slice(0, m.index);
    // the brace closes nothing the text opened: a JSON answer is closed and new keys follow
    if ((before.match(/\{/g) ?? []).length <= (before.match(/\}/g) ?? []).length) {
      out.push({ signal: 'json-breakout', text: text.slice(m.index, text.indexOf('\n\n', m.index) < 0 ? text.length : text.indexOf('\n\n', m.index)).trim() });
      break;
    }
  }
  out.push(...hiddenChannels(text));
  if (depth === 0) {
    for (const { token, decoded } of base64Payloads(text)) {
      out.push({ signal: 'base64', text: decoded, written: token });
      out.push(...segmentsOf(readable(decoded).text, depth + 1).map((s) => ({ ...s, written: token })));
    }
  }
  return out;
}

function demandsOf(segments: readonly InjectionSegment[]): { demands: string[]; links: string[] } {
  const demands = new Set<string>();
  const links = new Set<string>();
  for (const { text } of segments) {
    for (const m of text.matchAll(QUOTED)) {
      const q = m[1]!.trim();
      // a JSON key ("category": …) is structure, not a demand; a demand says something: two words, a figure, or a run of unspaced script
      const key = /^\s*[:：]/.test(text.slice(m.index! + m[0].length));
      if (!key && (wordsOf(q).length >= 2 || /\d/.test(q) || /[\p{Script=Han}\p{Script=Thai}]{3,}/u.test(q))) demands.add(q);
    }
    for (const m of text.matchAll(CODE)) demands.add(m[0]);
    for (const m of text.matchAll(EMAIL)) demands.add(m[0]);
    for (const a of moneySpans(text, 40)) if (/\d/.test(a)) demands.add(a);
    // account, phone and card numbers: six digits or more, grouped as written
    for (const m of text.matchAll(/(?<![\p{L}\p{N}])\d(?:[\d -]*\d)?(?![\p{L}\p{N}])/gu)) if ((m[0].match(/\d/g) ?? []).length >= 6) demands.add(m[0].trim());
    for (const l of linksIn(text)) {
      links.add(l);
      demands.add(l);
    }
  }
  return { demands: [...demands], links: [...links] };
}

/** The injection in a text, if any: what signals it, the injected text, and what it asks the answer to contain. */
export function findInjection(raw: string): InjectionFinding | null {
  const { text, hidden } = readable(raw);
  const segments = segmentsOf(text, 0);
  if (hidden) segments.push({ signal: 'hidden-characters', text: '(text hidden with zero-width or look-alike characters)' });
  if (segments.length === 0) return null;
  const { demands, links } = demandsOf(segments.filter((s) => s.signal !== 'hidden-characters'));
  const first = segments.find((s) => s.signal !== 'hidden-characters') ?? segments[0]!;
  return { instruction: first.text, signals: [...new Set(segments.map((s) => s.signal))], segments, demands, links };
}

/** Where each injected segment is written in the readable text: the segment, or the token it was decoded from. */
function writtenSpans(text: string, finding: InjectionFinding): string[] {
  const spans = new Set<string>();
  for (const s of finding.segments) {
    const w = s.written ?? s.text;
    if (s.signal !== 'hidden-characters' && w.length > 0 && text.includes(w)) spans.add(w);
  }
  // the longest first, so a segment inside another goes with it
  return [...spans].sort((a, b) => b.length - a.length);
}

/** The text with its injected segments taken out: what the user wrote for the task itself. */
export function withoutInjection(raw: string, finding: InjectionFinding | null = findInjection(raw)): string {
  let { text } = readable(raw);
  if (!finding) return text;
  for (const w of writtenSpans(text, finding)) text = text.split(w).join(' ');
  // comments go whole
  return text.replace(/<!--[\s\S]*?(?:-->|$)/g, ' ');
}

/** What the model reads in place of an instruction found in user text. */
export const WITHHELD = '[withheld: text addressed to the model]';

/**
 * User text as a prompt may carry it: each instruction found in it replaced by WITHHELD, so the
 * model cannot obey what it never reads (the contracts still hold it to what it writes). Text with
 * no injection is returned as it is, character for character.
 */
export function quarantine(raw: string): string {
  const finding = findInjection(raw);
  if (!finding) return raw;
  let { text } = readable(raw);
  for (const w of writtenSpans(text, finding)) text = text.split(w).join(WITHHELD);
  return text.replace(/<!--(?:(?!-->)[\s\S])*\[withheld: text addressed to the model\](?:(?!-->)[\s\S])*(?:-->|$)/g, WITHHELD);
}

/**
 * The values of a closed set (categories, priorities, verdicts) that the injected text names: an
 * output that answers with one of them answers what the injection asked, not what the input says.
 */
export function demandedOptions(finding: InjectionFinding | null, options: readonly string[]): string[] {
  if (!finding) return [];
  const said = finding.segments.map((s) => s.text.normalize('NFKC').toLowerCase()).join('\n');
  return options.filter((o) => {
    const name = o.normalize('NFKC').toLowerCase().trim();
    if (name === '') return false;
    // whole names, hyphens included: "buy" is not named by "strong-buy"
    const re = new RegExp(`(?<![\\p{L}\\p{N}_-])${escapeRegExp(name).replace(/[\s_-]+/g, '[\\s_-]+')}(?![\\p{L}\\p{N}_-])`, 'u');
    return re.test(said);
  });
}

// ---------------------------------------------------------------------------------------------

/** Offers a reply policy forbids whatever the user writes, by language: discount codes, coupons, free upgrades. */
const FORBIDDEN_OFFERS: Readonly<Record<string, RegExp>> = {
  en: /\b(?:discount|coupon|promo(?:tion(?:al)?)?|voucher|gift)\s+codes?\b|\b\d{1,3}\s?%\s?off\b|\bfree\s+(?:upgrade|month|months|year|subscription|premium|lifetime)\b|\blifetime\s+(?:premium|access|subscription)\b/i,
  id: /\bkode\s+(?:diskon|promo|voucher|kupon)\b|\bdiskon\s+\d{1,3}\s?%|\bgratis\s+(?:upgrade|langganan|sebulan|setahun)\b/i,
  hi: /\b(?:discount|coupon)\s+code\s+(?:de|dete|denge|milega)\b|छूट\s+कोड|कूपन/iu,
  vi: /\bmã\s+(?:giảm\s+giá|khuyến\s+mãi|ưu\s+đãi)\b|\bmiễn\s+phí\s+nâng\s+cấp\b/iu,
  zh: /优惠码|折扣码|优惠券|兑换码|免费升级|優惠碼|折扣碼/u,
  th: /โค้ดส่วนลด|คูปอง|อัปเกรดฟรี/u,
};

/** The first forbidden offer in a text, in any language, or null. */
export function forbiddenOffer(text: string): RegExpExecArray | null {
  for (const re of Object.values(FORBIDDEN_OFFERS)) {
    const m = re.exec(text);
    if (m) return m;
  }
  return null;
}
