import type { RepairSpec } from './call-spec.js';
import { splitWords } from './text.js';

const STOPWORDS = new Set('the and for with not one this that from are was were you your its has have but all any per use only each into than then them they their what when which who will would should could must may can'.split(' '));

function words(text: string): string[] {
  return splitWords(text).filter((w) => /^\d/.test(w) || (w.length >= 3 && !STOPWORDS.has(w)));
}

function keyWords(pointer: string): string[] {
  return pointer
    .split('/')
    .filter((seg) => seg !== '' && !/^\d+$/.test(seg))
    .flatMap((seg) => seg.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' ').split(' '));
}

/** Words of validation messages that say nothing about where in the input a value comes from. */
const MESSAGE_NOISE = new Set('invalid input expected received undefined string number array object option options value values field fields null missing must should least most characters items item'.split(' '));

/** What to look for in the input when repairing these paths: their values, their siblings' values, their key names and the issues. */
export function repairHints(repair: RepairSpec): Set<string> {
  const hints = new Set<string>();
  const add = (v: unknown, skip?: Set<string>) => {
    if (typeof v === 'string' || typeof v === 'number') for (const w of words(String(v))) if (!skip?.has(w)) hints.add(w);
  };
  for (const p of repair.paths) {
    const cur = repair.current[p];
    // a whole item under repair (an invoice line) is found by its own fields
    if (cur !== null && typeof cur === 'object' && !Array.isArray(cur)) Object.values(cur).forEach((v) => add(v));
    else add(cur);
    for (const w of keyWords(p)) for (const x of words(w)) hints.add(x);
  }
  Object.values(repair.siblings ?? {}).forEach((v) => add(v));
  for (const i of repair.issues) if (i.kind !== 'missing' && i.kind !== 'type') add(i.message, MESSAGE_NOISE);
  return hints;
}

/**
 * The lines of the original prompt that a repair of these paths needs, in their order: a repair
 * pays for the source lines it uses, not for the whole document again. Lines are taken greedily,
 * each for the hints it adds that the lines taken so far lack, until no line adds one or the
 * excerpt reaches `maxShare` of the text.
 */
export function relevantExcerpt(text: string, hints: Set<string>, maxShare = 0.35): string {
  if (text.length <= 600 || hints.size === 0) return text;
  const lines = text.split('\n');
  const found = lines.map((line) => new Set(words(line).filter((w) => hints.has(w))));
  const budget = Math.max(300, text.length * maxShare);
  const covered = new Set<string>();
  const keep = new Set<number>();
  let used = 0;
  for (;;) {
    let best = -1;
    let gain = 0;
    found.forEach((ws, i) => {
      if (keep.has(i)) return;
      let g = 0;
      for (const w of ws) if (!covered.has(w)) g++;
      if (g > gain) [best, gain] = [i, g];
    });
    if (best < 0) break;
    const len = lines[best]!.length + 1;
    if (used + len > budget) {
      found[best] = new Set(); // too long for what is left; a shorter line may still fit
      continue;
    }
    keep.add(best);
    used += len;
    for (const w of found[best]!) covered.add(w);
  }
  if (keep.size === 0) return text;
  const out: string[] = [];
  let last = -1;
  for (const i of [...keep].sort((a, b) => a - b)) {
    if (last >= 0 && i > last + 1) out.push('…');
    out.push(lines[i]!.trim());
    last = i;
  }
  return out.join('\n');
}
