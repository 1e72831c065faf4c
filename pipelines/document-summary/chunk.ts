/**
 * Splits a document into chunks of at most `maxChars`: whole paragraphs where they fit, else
 * sentences, else words. Splits only at whitespace, so no text is lost or cut mid-word
 * (except a single word longer than a chunk).
 */
export function chunkText(text: string, maxChars = 800): string[] {
  if (maxChars < 20) throw new Error(`chunk size must be at least 20 characters, got ${maxChars}`);
  const paragraphs = text
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter((p) => p !== '');
  const pieces = paragraphs.flatMap((p) => (p.length <= maxChars ? [p] : splitParagraph(p, maxChars)));
  return pack(pieces, '\n\n', maxChars);
}

function splitParagraph(paragraph: string, maxChars: number): string[] {
  const sentences = paragraph.split(/(?<=[.!?])\s+/).flatMap((s) => (s.length <= maxChars ? [s] : splitSentence(s, maxChars)));
  return pack(sentences, ' ', maxChars);
}

function splitSentence(sentence: string, maxChars: number): string[] {
  const words = sentence.split(/\s+/).flatMap((w) => {
    const parts: string[] = [];
    for (let i = 0; i < w.length; i += maxChars) parts.push(w.slice(i, i + maxChars));
    return parts;
  });
  return pack(words, ' ', maxChars);
}

/** Greedily joins consecutive pieces while the result fits. */
function pack(pieces: readonly string[], sep: string, maxChars: number): string[] {
  const out: string[] = [];
  let cur = '';
  for (const piece of pieces) {
    if (cur === '') cur = piece;
    else if (cur.length + sep.length + piece.length <= maxChars) cur += sep + piece;
    else {
      out.push(cur);
      cur = piece;
    }
  }
  if (cur !== '') out.push(cur);
  return out;
}
