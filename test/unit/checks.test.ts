import { describe, expect, it } from 'vitest';
import { completeSentences, distinctItems, fromInput, groundedNumbers, informative, numberMentions, select } from '../../core/checks/index.js';
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
    const { buildModelRequest } = await import('../../core/request.js');
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

describe('distinct items quoting a source', () => {
  it('lets two items quote the same phrase of the input, and still flags a run neither source holds', () => {
    const scenarios = distinctItems<{ notes: string }, { s: { d: string }[] }>({ list: '/s', field: '/d', noun: 'description' });
    const note = 'I wear them on a 50-minute train commute every day';
    const quoting = { s: [{ d: 'Priya rides to work on a 50-minute train commute every day and needs quiet.' }, { d: 'Budi spends a 50-minute train commute every day on calls.' }] };
    expect(run(scenarios, quoting, { notes: note }, [])).toEqual([]);
    const copying = { s: [{ d: 'The cancelling keeps the whole noisy carriage calm and quiet for her.' }, { d: 'On the bus the cancelling keeps the whole noisy carriage calm and quiet too.' }] };
    expect(paths(run(scenarios, copying, { notes: note }, []))).toEqual(['/s/1/d']);
  });
});

describe('grounded numbers in the markets this is for', () => {
  const reply = groundedNumbers<unknown, { text: string }>();
  const facts = (...lines: string[]): ContextBlock[] => [{ title: 'Facts', facts: lines }];

  it('reads lakh grouping, dotted thousands and scale words as the same amounts', () => {
    const ctx = facts('Amount charged: ₹1,29,999 twice', 'Harga: Rp 1.250.000', 'Total 2.500.000₫', 'Invoice total ₹3,59,280.50', '价格 12000元');
    for (const text of ['Kal ₹1,29,999 do baar kata gaya.', 'Tagihan Rp 1,25 juta sudah kami cek.', 'Số tiền 2,5 triệu đồng.', 'The total is ₹3,59,280.50.', '价格为1.2万元。', 'The 12k figure.']) {
      expect(run(reply, { text }, {}, ctx), text).toEqual([]);
    }
    expect(run(reply, { text: 'We refunded ₹1,39,999.' }, {}, ctx)).toHaveLength(1);
  });

  it('matches a dotted date by its digits, and lets story figures in units the facts never use pass', () => {
    expect(run(reply, { text: 'Delivered on 15.08.2024.' }, {}, facts('Order placed 15.08.2024'))).toEqual([]);
    expect(run(reply, { text: 'On her 45-minute KRL ride she takes calls.' }, {}, facts('battery: 30 hours'))).toEqual([]);
    expect(run(reply, { text: 'Lasts 45 hours.' }, {}, facts('battery: 30 hours'))).toHaveLength(1);
  });

  it('does not read a capital letter as a unit', () => {
    expect(numberMentions('works on 5G and 2A chargers')).toMatchObject([{ unit: undefined }, { unit: undefined }]);
  });
});

describe('complete sentences', () => {
  const summary = completeSentences<unknown, { s: string }>({ paths: ['/s'] });

  it('keeps the complete sentences before a cut, without a model call', () => {
    const [issue] = run(summary, { s: 'The limit was lowered to 20 MB. Staging tests used 5 MB files, so the new limit was' });
    expect(issue).toMatchObject({ kind: 'constraint', path: '/s', fix: { value: 'The limit was lowered to 20 MB.' } });
  });

  it('sends a text cut in its first sentence back for repair', () => {
    expect(run(summary, { s: 'The limit was lowered to 20 MB and the' })).toMatchObject([{ path: '/s' }]);
    expect(run(summary, { s: 'The limit was lowered to 20 MB and the' })[0]!.fix).toBeUndefined();
  });

  it('accepts sentence ends of other scripts, closing brackets and a final emoji', () => {
    for (const s of ['适合通勤族。（价格为249美元）', '「非常值得购买。」', 'यह अच्छा है।', 'Cocok untuk pekerja kantoran 👍', 'He said "buy it."']) expect(run(summary, { s }), s).toEqual([]);
  });
});
