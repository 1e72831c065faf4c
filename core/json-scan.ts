/** Whether the text holds a JSON value that closed: complete, whatever came after it. */
export function closesJson(text: string): boolean {
  return endOfValue(text, firstValueStart(text)) >= 0;
}

/**
 * Where the JSON starts: the first `{` that opens a readable object, else the first `{` or `[`.
 * Outputs are objects, and prose such as "ticket [ORD-1]:" must not be taken for an array.
 */
export function firstValueStart(text: string): number {
  const brace = text.indexOf('{');
  const any = text.search(/[{[]/);
  if (brace < 0 || brace === any) return any;
  const end = endOfValue(text, any);
  // an array that closes before the object starts is prose, not the answer
  return end >= 0 && end <= brace ? brace : any;
}

/** Index just past the JSON value starting at `start`, or -1 if it never closes. */
export function endOfValue(text: string, start: number): number {
  if (start < 0) return -1;
  const stack: string[] = [];
  let inString = false;
  let quote = '';
  for (let i = start; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === quote) inString = false;
      continue;
    }
    if (ch === '"' || ch === "'") {
      inString = true;
      quote = ch;
    } else if (ch === '{' || ch === '[') stack.push(ch === '{' ? '}' : ']');
    else if (ch === '}' || ch === ']') {
      if (stack.pop() !== ch) return -1;
      if (stack.length === 0) return i + 1;
    }
  }
  return -1;
}
