import { describe, expect, it } from 'vitest';
import { moneySpans, readAmount, referenceTokens } from '../../core/money.js';
import { appearsIn, contentWords, normalizeText } from '../../core/text.js';
import { datesIn } from '../../pipelines/invoice-extraction/extract-invoice.js';

describe('money as texts write it', () => {
  it('reads local signs before and after the amount, in any case, glued or spaced', () => {
    const text = 'PAID RS 3,999 TWICE; also Rs. 1,799 and ₹1,299, Rp874.000 dan Rp 50 ribu, RM45, S$ 12.50, 被扣了68元, 1.250.000 đ, USD1,700.00, 500 rupees, 499/-';
    expect(moneySpans(text)).toEqual(['RS 3,999', 'Rs. 1,799', '₹1,299', 'Rp874.000', 'Rp 50 ribu', 'RM45', 'S$ 12.50', '68元', '1.250.000 đ', 'USD1,700.00', '500 rupees', '499/-']);
  });

  it('takes no word for a currency: a code in lower case, a sign inside a word, a bare number', () => {
    expect(moneySpans('all 500 orders, top 10 features, Users 500 saw it, order 771203')).toEqual([]);
  });

  it('offers every token with three digits as a reference, as written', () => {
    const text = 'cancel 552918003471 not OD552918003468; old one ord-705521 (#4471), 发票号码：HD250601-12, call +91-98765-43210 on 3 May';
    expect(referenceTokens(text)).toEqual(['552918003471', 'OD552918003468', 'ord-705521', '#4471', 'HD250601-12', '91-98765-43210']);
  });
});

describe('text without spaces between words', () => {
  it('splits Chinese and Thai at word boundaries, so a value inside a sentence is found', () => {
    expect(normalizeText('被扣了68元')).toBe('被 扣了 68 元');
    expect(appearsIn('68元', '我的账户被扣了68元')).toBe(true);
    expect(appearsIn('8元', '我的账户被扣了68元')).toBe(false);
  });

  it('keeps one- and two-character words of such scripts as content words', () => {
    expect(contentWords('容量 功率')).toEqual(['容量', '功率']);
  });
});

describe('invoice dates in the spellings of the markets', () => {
  it('reads Bahasa month names, two-digit years and Buddhist-era years', () => {
    expect(datesIn('Tanggal: 12 Mei 2025, jatuh tempo 11 Juni 2025')).toEqual(['2025-05-12', '2025-06-11']);
    expect(datesIn('Date 3-Apr-25')).toEqual(['2025-04-03']);
    expect(datesIn('วันที่ 03/04/2568')).toEqual(['2025-03-04', '2025-04-03']);
  });
});

describe('numbers grouped with spaces', () => {
  it('reads "1 234,56" typed or typeset, and keeps numbers a plain space separates apart', async () => {
    const { numbersIn } = await import('../../core/numbers.js');
    expect(numbersIn('Tổng: 1 234,56 đ')).toContain(1234.56);
    expect(numbersIn('Total\u00A012\u202F500 €')).toContain(12500);
    expect(numbersIn('qty 4 189.00')).not.toContain(4189);
  });
});

describe('an amount as written: its currency and value', () => {
  const read = (text: string, preferred?: string) => {
    const { currency, value } = readAmount(text, preferred);
    return [currency, value];
  };
  it('reads the currency its sign names, and the value its separators give', () => {
    expect(read('₹1,299')).toEqual(['INR', 1299]);
    expect(read('Rp 1.250.000')).toEqual(['IDR', 1250000]);
    expect(read('1.250.000 đ')).toEqual(['VND', 1250000]);
    expect(read('RM45')).toEqual(['MYR', 45]);
    expect(read('S$ 12.50')).toEqual(['SGD', 12.5]);
    expect(read('USD1,700.00')).toEqual(['USD', 1700]);
    expect(read('€12,50')).toEqual(['EUR', 12.5]);
  });
  it('multiplies by a scale word', () => {
    expect(read('Rp 50 ribu')).toEqual(['IDR', 50000]);
    expect(read('2 lakh rupees', 'INR')).toEqual(['INR', 200000]);
  });
  it("settles a shared sign by the team's currency only when it is one of the sign's, and leaves it null otherwise", () => {
    expect(read('$49.99')).toEqual([null, 49.99]);
    expect(read('$49.99', 'SGD')).toEqual(['SGD', 49.99]);
    expect(read('Rs. 1,799', 'INR')).toEqual(['INR', 1799]);
    expect(read('Rs. 1,799', 'IDR')).toEqual([null, 1799]);
    expect(read('68元', 'CNY')).toEqual(['CNY', 68]);
  });
  it('reads one separator as grouping when the decimal reading would write more decimals than the currency has, and leaves it null where both stay possible', () => {
    expect(read('12,500 €')).toEqual(['EUR', 12500]);
    expect(read('$1,250')).toEqual([null, 1250]);
    expect(read('Rp1.500')).toEqual(['IDR', 1500]);
    expect(read('Rp899.000')).toEqual(['IDR', 899000]);
    // dinars write three decimals: "1,250" is 1.25 or 1250
    expect(read('KWD 1,250')).toEqual(['KWD', null]);
  });
});

describe('amounts the way the markets group and scale them', () => {
  it('reads thousands grouped with spaces as one amount, not its last group', () => {
    expect(moneySpans('total 1 234,56 € due')).toEqual(['1 234,56 €']);
    expect(readAmount('1 234,56 €')).toMatchObject({ currency: 'EUR', value: 1234.56 });
    expect(moneySpans('phí VND 1 250 000 nhé')).toEqual(['VND 1 250 000']);
    expect(readAmount('VND 1 250 000')).toMatchObject({ currency: 'VND', value: 1250000 });
  });
  it('reads a Han scale word written against the currency sign', () => {
    expect(moneySpans('退我5万元')).toEqual(['5万元']);
    expect(readAmount('5万元', 'CNY')).toMatchObject({ currency: 'CNY', value: 50000 });
    expect(readAmount('1.2万元', 'CNY')).toMatchObject({ value: 12000 });
    expect(readAmount('3千円')).toMatchObject({ currency: 'JPY', value: 3000 });
  });
  it('keeps a Latin scale word to a whole word', () => {
    expect(moneySpans('harganya Rp 50 ribuan')).toEqual(['Rp 50']);
  });
});
