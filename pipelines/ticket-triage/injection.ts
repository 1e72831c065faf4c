/** Finds instructions aimed at the model inside customer text, and what they ask the reply to contain. */

const TRIGGERS: readonly RegExp[] = [
  /\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+)?(?:of\s+)?(?:the\s+|your\s+|my\s+)?(?:previous|prior|above|earlier|preceding|system|original)?\s*(?:instructions?|rules|prompts?|guidelines|polic(?:y|ies)|directions)\b/i,
  /\byou\s+are\s+now\b/i,
  /\bnew\s+instructions?\s*:/i,
  /\bsystem\s+prompt\b/i,
  /\b(?:as\s+an?\s+)?(?:ai|assistant|language\s+model|chatbot)\s*,?\s+you\s+(?:must|should|will)\b/i,
  /\b(?:respond|reply|answer)\s+only\s+with\b/i,
];

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

export function findInjection(text: string): InjectionFinding | null {
  let at = -1;
  for (const re of TRIGGERS) {
    const m = re.exec(text);
    if (m && (at < 0 || m.index < at)) at = m.index;
  }
  if (at < 0) return null;
  const sentenceStart = Math.max(text.lastIndexOf('.', at - 1), text.lastIndexOf('!', at - 1), text.lastIndexOf('?', at - 1), text.lastIndexOf('\n', at - 1)) + 1;
  const paragraphEnd = text.indexOf('\n\n', at);
  const instruction = text.slice(sentenceStart, paragraphEnd < 0 ? text.length : paragraphEnd).trim();
  const demands = new Set<string>();
  for (const m of instruction.matchAll(QUOTED)) if (m[1]) demands.add(m[1].trim());
  for (const m of instruction.matchAll(CODE)) demands.add(m[0]);
  return { instruction, demands: [...demands] };
}

/** Offers the reply policy forbids whatever the ticket says: discount codes, coupons, free upgrades. */
export const FORBIDDEN_OFFER =
  /\b(?:discount|coupon|promo(?:tion(?:al)?)?|voucher|gift)\s+codes?\b|\b\d{1,3}\s?%\s?off\b|\bfree\s+(?:upgrade|month|months|year|subscription|premium|lifetime)\b|\blifetime\s+(?:premium|access|subscription)\b/i;
