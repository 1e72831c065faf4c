import { describe, expect, it } from 'vitest';
import { distinctItems, fromInput, groundedNumbers, informative, numberMentions, select } from '../../core/checks/index.js';
import type { Check, ContextBlock } from '../../core/contract.js';
import type { Issue } from '../../core/issues.js';

const specs: ContextBlock[] = [{ title: 'Spec sheet', facts: { weight: '254 g', drivers: '40 mm dynamic drivers', 'battery life': '30 hours with ANC on', bluetooth: 'Bluetooth 5.3' } }];
const run = <I, O>(check: Check<I, O>, output: O, input: I = {} as I, context: readonly ContextBlock[] = specs): Issue[] => check(output, { input, context });
const paths = (issues: Issue[]) => issues.map((i) => i.path);

describe('select', () => {
  it('walks a pattern with * over arrays and objects', () => {
    const value = { a: [{ b: 'x' }, { b: 'y' }, { c: 1 }], d: { e: 'z', f: 'w' } };
    expect(select(value, '/a/*/b')).toEqual([
      { path: '/a/0/b', value: 'x' },
      { path: '/a/1/b', value: 'y' },
    ]);
    expect(select(value, '/d/*').map((s) => s.path)).toEqual(['/d/e', '/d/f']);
    expect(select(value, '/missing/*')).toEqual([]);
  });
});

describe('distinct items', () => {
  const buyers = distinctItems<unknown, { buyIf: string[] }>({ list: '/buyIf', noun: 'buyer' });

  it('flags an item repeated word for word, ignoring case and punctuation', () => {
    const issues = run(buyers, { buyIf: ['Headphones', 'headphones.', 'Commuters on long trains'] });
    expect(paths(issues)).toEqual(['/buyIf/1']);
    expect(issues[0]!.message).toContain('repeats buyer 1');
  });

  it('drops exact repeats without a model call while enough remain', () => {
    const dropping = distinctItems<unknown, { buyIf: string[] }>({ list: '/buyIf', noun: 'buyer', dropWhileAtLeast: 1 });
    const [issue, ...rest] = run(dropping, { buyIf: ['headphones', 'headphones', 'headphones'] });
    expect(rest).toEqual([]);
    expect(issue).toMatchObject({ path: '/buyIf', fix: { value: ['headphones'] } });
  });

  it('flags items that say the same with nearly the same words', () => {
    const issues = run(buyers, { buyIf: ['Commuters who ride noisy trains every day', 'commuters who ride noisy trains, each day', 'Runners at the gym'] });
    expect(paths(issues)).toEqual(['/buyIf/1']);
    expect(issues[0]!.message).toContain('says the same as buyer 1');
  });

  it('flags a run of words copied from another item', () => {
    const scenarios = distinctItems<{ name: string }, { s: { d: string }[] }>({ list: '/s', field: '/d', noun: 'description', ignore: (i) => [i.name] });
    const shared = 'the noise cancelling keeps the carriage quiet for the whole ride';
    const issues = run(scenarios, { s: [{ d: `A commuter takes the train and ${shared}.` }, { d: `On a night bus ${shared} home.` }] }, { name: 'Aurora ANC 700' });
    expect(paths(issues)).toEqual(['/s/1/d']);
    expect(issues[0]!.message).toContain('copies');
  });

  it('lets items share the subject name they both mention', () => {
    const scenarios = distinctItems<{ name: string }, { s: { d: string }[] }>({ list: '/s', field: '/d', noun: 'description', ignore: (i) => [i.name] });
    const out = { s: [{ d: 'The Aurora ANC 700 Wireless Headphones are ideal for a commuter on a loud train.' }, { d: 'The Aurora ANC 700 Wireless Headphones are ideal for a flight across an ocean.' }] };
    expect(run(scenarios, out, { name: 'Aurora ANC 700 Wireless Headphones' })).toEqual([]);
  });

  it('accepts different items, in any script', () => {
    expect(run(buyers, { buyIf: ['Commuters on noisy trains', 'Frequent flyers on long trips'] })).toEqual([]);
    expect(run(buyers, { buyIf: ['经常出差的商务人士', '每天坐地铁通勤的上班族'] })).toEqual([]);
    expect(paths(run(buyers, { buyIf: ['经常出差的商务人士', '经常出差的商务人士'] }))).toEqual(['/buyIf/1']);
  });
});

describe('grounded numbers', () => {
  const benefits = groundedNumbers<unknown, { benefit: string }>();

  it('finds numbers with the unit that follows them', () => {
    expect(numberMentions('254 g with 254 mm drivers, 30-hour battery, 50% off, 30小时, seventeen minutes', true).map((n) => [n.written, n.unit])).toEqual([
      ['254 g', 'gram'],
      ['254 mm', 'millimetre'],
      ['30-hour', 'hour'],
      ['50%', 'percent'],
      ['30小时', 'hour'],
      ['seventeen', 'minute'],
    ]);
  });

  it('flags a number given with a unit the facts do not hold it with', () => {
    const issues = run(benefits, { benefit: 'Light at 254 g with 254 mm dynamic drivers.' });
    expect(issues).toHaveLength(1);
    expect(issues[0]!.message).toMatch(/"254 mm" is not a figure the facts state: they give that number only in "weight: 254 g"/);
  });

  it('flags a number that appears in no fact', () => {
    const issues = run(benefits, { benefit: 'Up to 45 hours of playback on one charge.' });
    expect(issues.map((i) => [i.path, i.kind])).toEqual([['/benefit', 'grounding']]);
    expect(issues[0]!.message).toContain('"45 hours"');
  });

  it('accepts the facts in other spellings, and small counts in prose', () => {
    expect(run(benefits, { benefit: 'A 30-hour battery, 40mm drivers and Bluetooth 5.3 for 2 devices.' })).toEqual([]);
    expect(run(benefits, { benefit: 'Weighs only 254 grams.' })).toEqual([]);
  });

  it('reads the input as a source too, by default', () => {
    expect(run(benefits, { benefit: 'Ships in 14 days.' }, { note: 'delivery within 14 days' }, [])).toEqual([]);
  });
});

describe('items from the input', () => {
  const named = fromInput<{ names: string[] }, { items: { name: string }[] }>({ items: '/items/*/name', sources: (i) => i.names, match: 'exact', noun: 'feature' });

  it('flags an item that is none of the given ones, naming the options', () => {
    const issues = run(named, { items: [{ name: 'Battery life' }, { name: 'Wireless charging' }] }, { names: ['battery life', 'fast charging'] });
    expect(paths(issues)).toEqual(['/items/1/name']);
    expect(issues[0]!.message).toContain('"fast charging"');
  });

  it('matches contained text as whole words', () => {
    const lines = fromInput<{ text: string }, { lines: string[] }>({ items: '/lines/*', sources: (i) => [i.text], match: 'contained', noun: 'line' });
    const text = 'Ergonomic office chair, grey  4 x 189.00\nMonitor arm, dual';
    expect(run(lines, { lines: ['ergonomic office chair grey', 'Monitor arm'] }, { text })).toEqual([]);
    expect(paths(run(lines, { lines: ['office desk', 'arm, du'] }, { text }))).toEqual(['/lines/0', '/lines/1']);
  });

  it('matches by words when the item may be worded differently', () => {
    const words = fromInput<unknown, { f: string[] }>({ items: '/f/*', sources: (_i, c) => c.map((b) => JSON.stringify(b.facts)), match: 'words', noun: 'feature' });
    expect(run(words, { f: ['dynamic drivers', 'waterproof design'] })).toMatchObject([{ path: '/f/1', message: expect.stringContaining('waterproof') }]);
  });
});

describe('informative items', () => {
  const buyers = informative<{ name: string }, { buyIf: string[] }>({ items: '/buyIf/*', subject: (i) => [i.name, 'Headphones'], noun: 'buyer', instead: 'describe a buyer', minWords: 3 });

  it('flags an item that only repeats the subject, and a bare label', () => {
    const issues = run(buyers, { buyIf: ['headphones', 'laptop phones', 'Commuters who want quiet trains'] }, { name: 'Aurora ANC 700 Wireless Headphones' });
    expect(issues.map((i) => [i.path, i.message.includes('only repeats') ? 'subject' : 'label'])).toEqual([
      ['/buyIf/0', 'subject'],
      ['/buyIf/1', 'label'],
    ]);
  });
});

describe('repair prompts for values to write anew', () => {
  it('give what the path must say instead of the rejected value, which small models copy back', async () => {
    const { buildModelRequest } = await import('../../core/repair.js');
    const { writeAdvice } = await import('../../pipelines/product-review/write-advice.js');
    const input = { productName: 'Aurora ANC 700', features: ['battery life'], scenarios: [] };
    const issues: Issue[] = [
      { kind: 'semantic', path: '/buyIf/1', message: 'buyer "headphones" only repeats the subject', rewrite: 'describe a kind of buyer' },
      { kind: 'semantic', path: '/total', message: 'total is not the sum of the items' },
    ];
    const req = buildModelRequest(writeAdvice, input, [], {
      kind: 'repair',
      repair: { paths: ['/buyIf/1', '/summary'], current: { '/buyIf/1': 'headphones', '/summary': 'Good.' }, issues, siblings: {} },
    });
    const user = req.messages.at(-1)!.content;
    expect(user).toContain('- "/buyIf/1": write a new value: describe a kind of buyer');
    expect(user).not.toContain('"headphones"');
    // a path without such an instruction still shows its current value
    expect(user).toContain('- "/summary": now "Good."');
  });
});
