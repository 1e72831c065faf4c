/**
 * Finds instructions aimed at the model inside customer text, and what they ask the reply to
 * contain. Phrasings are data per language; the text is read with zero-width characters dropped
 * and look-alike letters (Cyrillic "о" for Latin "o") mapped to the letters they imitate.
 */
import { remove as removeConfusables } from 'confusables';

/** Trigger phrasings by language; add a language's here. Matched case aside, after normalization. */
export const INJECTION_PHRASES: Readonly<Record<string, readonly RegExp[]>> = {
  en: [
    /\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+)?(?:of\s+)?(?:the\s+|your\s+|my\s+)?(?:previous|prior|above|earlier|preceding|system|original)?\s*(?:instructions?|rules|prompts?|guidelines|polic(?:y|ies)|directions)\b/i,
    /\byou\s+are\s+now\b/i,
    /\bnew\s+instructions?\s*:/i,
    /\bsystem\s+prompt\b/i,
    /\b(?:as\s+an?\s+)?(?:ai|assistant|language\s+model|chatbot)\s*,?\s+you\s+(?:must|should|will)\b/i,
    /\b(?:respond|reply|answer)\s+only\s+with\b/i,
    /^\s*(?:system|developer|assistant|tool)\s*:/im,
    /<\/?(?:system|instructions?|im_start|im_end)>/i,
  ],
  // Indonesian and Malay
  id: [
    /\b(?:abaikan|lupakan|acuhkan)\s+(?:semua\s+)?(?:instruksi|perintah|arahan|aturan)\b/i,
    /\b(?:instruksi|arahan)\s+baru\s*:/i,
    /\bkamu\s+sekarang\s+(?:adalah)?\b/i,
  ],
  // Hindi and Hinglish
  hi: [/\b(?:pichhle|pichle|upar\s+ke)\s+(?:saare\s+|sab\s+)?(?:instructions?|nirdesh)\s+(?:ko\s+)?(?:ignore|bhool|bhul)/i, /(?:पिछले|ऊपर\s+के)\s+(?:सभी\s+)?निर्देश(?:ों)?\s+(?:को\s+)?(?:अनदेखा|भूल)/u],
  vi: [/\b(?:bỏ\s+qua|phớt\s+lờ|quên)\s+(?:tất\s+cả\s+)?(?:các\s+)?(?:hướng\s+dẫn|chỉ\s+dẫn|lệnh)\b/iu],
  zh: [/(?:忽略|无视|忘记|忽視|無視)(?:之前|以上|上面|所有|先前)?(?:的)?(?:所有)?(?:指令|指示|规则|規則|提示)/u, /你现在是|你現在是/u],
  th: [/(?:เพิกเฉย|ละเว้น|ลืม)(?:คำสั่ง|คำแนะนำ)/u],
};

/** Zero-width and invisible formatting characters, which hide a phrase from a reader but not from the model. */
const INVISIBLE = /[\u200B-\u200F\u2060-\u2064\uFEFF\u00AD\u180E]/g;

/** Latin letters and look-alikes of another script in one word: "раypal" with a Cyrillic "р". */
const MIXED_SCRIPT_WORD = /(?=\S*\p{Script=Latin})(?=\S*[\p{Script=Cyrillic}\p{Script=Greek}])[\p{L}\p{M}]{3,}/u;

/** How a text reads once invisible characters are gone and look-alikes are the letters they imitate. */
export function readable(text: string): { text: string; hidden: boolean } {
  const visible = text.normalize('NFKC');
  const stripped = visible.replace(INVISIBLE, '');
  // a zero-width joiner belongs inside Indic words; between Latin letters it hides something
  const hidden = /\p{Script=Latin}[\u200B-\u200F\u2060-\u2064\uFEFF\u00AD]+\p{Script=Latin}/u.test(visible) || MIXED_SCRIPT_WORD.test(stripped);
  return { text: stripped, hidden };
}

/** The earliest trigger of any language in the text, as an index into `text`, or -1. */
function firstTrigger(text: string): number {
  // English phrasings are matched on the look-alike-free reading too, which has the same length
  // only where no character was mapped to several: so the offset comes from whichever matched
  const latin = removeConfusables(text);
  let at = -1;
  for (const phrases of Object.values(INJECTION_PHRASES)) {
    for (const re of phrases) {
      const m = re.exec(text) ?? re.exec(latin);
      if (m && (at < 0 || m.index < at)) at = Math.min(m.index, text.length - 1);
    }
  }
  return at;
}

/** Code-like tokens: capitals and digits together, e.g. SAVE50 or FREE-SHIP-2024. */
const CODE = /\b(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9][A-Z0-9-]{4,}\b/g;
// double quotes only: single quotes are apostrophes far more often than quotation marks
const QUOTED = /["“„]([^"“”„\n]{3,120})["”]/g;

export interface InjectionFinding {
  /** the injected text, from the start of the trigger's sentence to the end of its paragraph */
  instruction: string;
  /** phrases and codes the injection asks for; a reply containing one has obeyed it */
  demands: string[];
}

export function findInjection(raw: string): InjectionFinding | null {
  const { text, hidden } = readable(raw);
  const at = firstTrigger(text);
  if (at < 0) {
    // hidden characters alone are a sign of a payload; there is no instruction to quote
    return hidden ? { instruction: '(text hidden with zero-width or look-alike characters)', demands: [] } : null;
  }
  const sentenceStart = Math.max(text.lastIndexOf('.', at - 1), text.lastIndexOf('!', at - 1), text.lastIndexOf('?', at - 1), text.lastIndexOf('\n', at - 1), text.lastIndexOf('。', at - 1)) + 1;
  const paragraphEnd = text.indexOf('\n\n', at);
  const instruction = text.slice(sentenceStart, paragraphEnd < 0 ? text.length : paragraphEnd).trim();
  const demands = new Set<string>();
  for (const m of instruction.matchAll(QUOTED)) if (m[1]) demands.add(m[1].trim());
  for (const m of instruction.matchAll(CODE)) demands.add(m[0]);
  return { instruction, demands: [...demands] };
}

/** Offers the reply policy forbids whatever the ticket says, by language: discount codes, coupons, free upgrades. */
const FORBIDDEN_OFFERS: Readonly<Record<string, RegExp>> = {
  en: /\b(?:discount|coupon|promo(?:tion(?:al)?)?|voucher|gift)\s+codes?\b|\b\d{1,3}\s?%\s?off\b|\bfree\s+(?:upgrade|month|months|year|subscription|premium|lifetime)\b|\blifetime\s+(?:premium|access|subscription)\b/i,
  id: /\bkode\s+(?:diskon|promo|voucher|kupon)\b|\bdiskon\s+\d{1,3}\s?%|\bgratis\s+(?:upgrade|langganan|sebulan|setahun)\b/i,
  hi: /\b(?:discount|coupon)\s+code\s+(?:de|dete|denge|milega)\b|छूट\s+कोड|कूपन/iu,
  vi: /\bmã\s+(?:giảm\s+giá|khuyến\s+mãi|ưu\s+đãi)\b|\bmiễn\s+phí\s+nâng\s+cấp\b/iu,
  zh: /优惠码|折扣码|优惠券|兑换码|免费升级|優惠碼|折扣碼/u,
};

/** The first forbidden offer in a text, in any language, or null. */
export function forbiddenOffer(text: string): RegExpExecArray | null {
  for (const re of Object.values(FORBIDDEN_OFFERS)) {
    const m = re.exec(text);
    if (m) return m;
  }
  return null;
}
