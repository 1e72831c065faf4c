/**
 * How document-summary sizes its calls, and the sections of a long document: the part summaries of
 * a document with more parts than one combine call reads are combined in groups of consecutive
 * parts first (sections), and the final combine reads the section summaries instead.
 *
 * Every size here follows from constants of the contracts, not from the registry a deployment
 * runs with: the grouping is decided in the workflow, so a run must group the same on replay.
 */
import { CHARS_PER_TOKEN } from '../../core/cost.js';
import { combineSummaries } from './combine-summaries.js';
import { SummarizeChunkOutput } from './summarize-chunk.js';
import { SECTION_SUMMARY_CHARS, summarizeSection, type SummarizeSectionInput } from './summarize-section.js';

export const MAX_TITLE_CHARS = 200;
/** the longest document the pipeline takes */
export const MAX_TEXT_CHARS = 60_000;
/** the longest part: what one summarize-chunk call reads */
export const CHUNK_CHARS = 800;
/** the longest part summary summarize-chunk may return */
export const PART_SUMMARY_CHARS = maxLengthOf(SummarizeChunkOutput.shape.summary);

function maxLengthOf(schema: { maxLength: number | null }): number {
  if (schema.maxLength === null) throw new Error('a summary in the contract has no maximum length');
  return schema.maxLength;
}

/**
 * The window a combine call is planned against: the smallest one a small pool is run with here
 * (the test registry's; config/models.json and infra/model-server.sh give 16,384 tokens a slot).
 */
export const PLANNED_WINDOW_TOKENS = 8192;
/**
 * A combine call (a section's or the final one) is planned to take at most a third of that window,
 * prompt and max_tokens together: the estimate of four characters a token may be well off and the
 * call still fits, and a small model is not handed a prompt near the end of its window.
 */
export const COMBINE_BUDGET_TOKENS = Math.floor(PLANNED_WINDOW_TOKENS / 3);
/**
 * Tokens planned for what a combine prompt holds besides the summaries: the system prompt with the
 * note on user text, the document's title and size, the instructions. A unit test holds the real
 * prompts of the longest title and document to it.
 */
export const PROMPT_FRAME_TOKENS = 384;
/** characters a summary's line adds to it: its number, a dot, a space and the line break ("151. …\n") */
const LINE_CHARS = 6;

/**
 * The most parts `chunkText` makes of a text: two consecutive chunks hold at least `chunkChars` − 1
 * characters between them, or the second's first piece would have been packed into the first.
 */
export function maxPartsOf(textChars: number, chunkChars = CHUNK_CHARS): number {
  return 2 * Math.floor(textChars / (chunkChars - 1)) + 1;
}

/** the most parts a document the pipeline takes can have */
export const MAX_PARTS = maxPartsOf(MAX_TEXT_CHARS);

/** How many summaries of `summaryChars` one combine call with this max_tokens reads within the budget, besides its frame. */
function summariesWithinBudget(maxTokens: number, summaryChars: number): number {
  return Math.floor(((COMBINE_BUDGET_TOKENS - maxTokens - PROMPT_FRAME_TOKENS) * CHARS_PER_TOKEN) / (summaryChars + LINE_CHARS));
}

/**
 * The most part summaries one combine call reads: a section's, and those of a document the final
 * combine takes directly (its max_tokens is the larger). A document of more parts is combined in
 * sections of at most this many.
 */
export const SECTION_PARTS = Math.min(summariesWithinBudget(summarizeSection.maxTokens, PART_SUMMARY_CHARS), summariesWithinBudget(combineSummaries.maxTokens, PART_SUMMARY_CHARS));

/** the most section summaries the final combine can be given within its budget */
export const FINAL_SECTIONS = summariesWithinBudget(combineSummaries.maxTokens, SECTION_SUMMARY_CHARS);

/** A run of consecutive parts, as indexes: `start` included, `end` not. */
export interface PartRange {
  start: number;
  end: number;
}

/**
 * The sections of a document of `parts` parts: none when one combine call reads them all, else as
 * few runs of consecutive parts of at most `size` as there can be, their sizes differing by one at
 * most (the longer ones first), in document order.
 */
export function sectionRanges(parts: number, size = SECTION_PARTS): PartRange[] {
  if (size < 2) throw new Error(`a section holds at least two parts, got ${size}`);
  if (parts <= size) return [];
  const count = Math.ceil(parts / size);
  const base = Math.floor(parts / count);
  const longer = parts % count;
  const ranges: PartRange[] = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    const end = start + base + (i < longer ? 1 : 0);
    ranges.push({ start, end });
    start = end;
  }
  return ranges;
}

/** The summarize-section inputs of a document's part summaries: one per section, none for a document of few parts. */
export function sectionInputs(partSummaries: readonly string[], size = SECTION_PARTS): SummarizeSectionInput[] {
  const ranges = sectionRanges(partSummaries.length, size);
  return ranges.map((r, i) => ({ summaries: partSummaries.slice(r.start, r.end), firstPart: r.start + 1, parts: partSummaries.length, section: i + 1, sections: ranges.length }));
}

/**
 * Whole sentences of `pieces` within `maxChars`, taken in turns from the start of each piece and
 * kept in document order, so every piece leads with what it begins with; the pieces themselves
 * where they fit. Calibration's stand-in for a summary of text longer than a summary may be.
 */
export function leadSentences(pieces: readonly string[], maxChars: number): string {
  const whole = pieces.join(' ');
  if (whole.length <= maxChars) return whole;
  const sentences = pieces.map((p) => p.split(/(?<=[.!?])\s+/).filter((s) => s !== ''));
  const taken = sentences.map(() => 0);
  let used = -1;
  for (let more = true; more; ) {
    more = false;
    sentences.forEach((s, i) => {
      const next = s[taken[i]!];
      if (next === undefined || used + 1 + next.length > maxChars) return;
      taken[i]!++;
      used += 1 + next.length;
      more = true;
    });
  }
  const out = sentences.flatMap((s, i) => s.slice(0, taken[i])).join(' ');
  // not one first sentence fits: the first piece's words, as many as fit
  return out !== '' ? out : whole.slice(0, whole.lastIndexOf(' ', maxChars) > 0 ? whole.lastIndexOf(' ', maxChars) : maxChars);
}
