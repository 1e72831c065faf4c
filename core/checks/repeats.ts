import type { Issue } from '../issues.js';
import { quote } from '../text.js';

export interface RepeatsOptions<T> {
  /** what makes two items the same */
  key: (item: T) => string;
  /** the item's text, quoted in the message */
  text: (item: T) => string;
  noun: string;
  /** the list's JSON pointer; item i is at `${listPath}/${i}${itemSuffix}` */
  listPath: string;
  itemSuffix?: string;
  /** what the model is told to do about a repeat it must replace */
  instead: string;
  /** the contract's minimum length of the list */
  min: number;
}

/**
 * Repeated items of a list. While at least `min` distinct items remain, one issue drops the
 * repeats (a fix without a model call; the first of each is kept); otherwise each later copy is
 * flagged for the model to replace.
 */
export function repeatIssues<T>(items: readonly T[], o: RepeatsOptions<T>): Issue[] {
  const seen = new Map<string, number>();
  const issues: Issue[] = [];
  const distinct: T[] = [];
  items.forEach((item, i) => {
    const key = o.key(item);
    const first = seen.get(key);
    if (first !== undefined) {
      issues.push({ kind: 'semantic', path: `${o.listPath}/${i}${o.itemSuffix ?? ''}`, message: `${o.noun} ${quote(o.text(item))} repeats ${o.noun} ${first}; ${o.instead}` });
    } else {
      seen.set(key, i);
      distinct.push(item);
    }
  });
  if (issues.length > 0 && distinct.length >= o.min) {
    return [{ kind: 'semantic', path: o.listPath, message: `${issues.length} ${o.noun}(s) repeat others; drop the repeats`, fix: { value: distinct } }];
  }
  return issues;
}
