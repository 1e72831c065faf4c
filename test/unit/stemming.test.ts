import { describe, expect, it } from 'vitest';
import { fromInput } from '../../core/checks/index.js';
import type { ContextBlock } from '../../core/contract.js';
import { contentWords, languageOf, meaningWords, sharedWords, stem, wordsMatch, type Lang } from '../../core/text.js';
import { summaryFromChunk } from '../../pipelines/document-summary/summarize-chunk.js';
import { featureNamesGrounded } from '../../pipelines/product-review/extract-features.js';

/** The words of two texts that match, both stemmed as `lang` stems. */
const matching = (a: string, b: string, lang: Lang) => sharedWords(contentWords(a, lang), contentWords(b, lang));

describe('stem, per language', () => {
  it('gives an Indonesian root and its prefixed and suffixed forms one stem', () => {
    const families = [
      ['pembayaran', 'bayar', 'dibayar', 'membayar', 'pembayarannya'],
      ['mengirim', 'pengiriman', 'kirim', 'dikirim', 'terkirim', 'dikirimkan', 'ngirim'],
      ['sinkronisasinya', 'sinkronisasi'],
      ['pengembalian', 'kembali', 'dikembalikan', 'mengembalikan'],
      ['memakai', 'pakai', 'pemakaian', 'dipakai'],
      ['menunggu', 'tunggu', 'ditunggu'],
      ['terima', 'diterima', 'menerima', 'penerimaan'],
      ['pesanan', 'pesan', 'memesan', 'dipesan', 'pemesanan'],
      ['memperbaiki', 'perbaikan', 'diperbaiki'],
      ['terlambat', 'keterlambatan'],
      ['rusak', 'kerusakan', 'merusak'],
      ['menggunakan', 'pengguna', 'digunakan', 'penggunaan'],
      ['mengecek', 'cek', 'dicek', 'pengecekan'],
      ['masalah', 'masalahnya', 'permasalahan'],
      ['bantuan', 'bantu', 'membantu', 'bantulah'],
      ['memberikan', 'memberi', 'diberikan', 'pemberian'],
    ];
    for (const family of families) expect(new Set(family.map((w) => stem(w, 'id'))), family.join(' ')).toHaveLength(1);
  });

  it('keeps unrelated Indonesian words apart', () => {
    const pairs = [
      ['kirim', 'terima'],
      ['bayar', 'batal'],
      ['kembali', 'kembang'],
      ['masalah', 'masa'],
      ['pengiriman', 'pengembalian'],
      ['pesanan', 'pesawat'],
      ['keluhan', 'keluar'],
      ['menulis', 'menolak'],
    ];
    for (const [a, b] of pairs) expect(wordsMatch(stem(a!, 'id'), stem(b!, 'id')), `${a} ${b}`).toBe(false);
  });

  it('stems English as it always did, by default and in English text', () => {
    const stems: Record<string, string> = { cancelling: 'cancel', cancellation: 'cancel', cancelled: 'cancel', batteries: 'battery', battery: 'battery', water: 'water', waterproof: 'waterproof', charging: 'charg', charger: 'charg', delivered: 'deliver', headphones: 'headphon', quickly: 'quick' };
    for (const [word, expected] of Object.entries(stems)) {
      expect(stem(word)).toBe(expected);
      expect(stem(word, 'en')).toBe(expected);
    }
    expect(wordsMatch(stem('water'), stem('waterproof'))).toBe(false);
    expect(contentWords('Noise cancelling with long-lasting batteries')).toEqual(contentWords('Noise cancelling with long-lasting batteries', languageOf('Noise cancelling with long-lasting batteries')));
  });

  it('takes English endings off the English words of a Bahasa ticket', () => {
    expect(['cancelled', 'refunds', 'ordernya', 'delivered'].map((w) => stem(w, 'id'))).toEqual(['cancel', 'refund', 'order', 'deliver']);
  });

  it('leaves Chinese, Thai and Vietnamese words as they are, whatever the language', () => {
    for (const lang of ['en', 'id', 'zh', 'th', 'vi', 'de'] as const) {
      for (const w of ['容量', '退款', 'แบตเตอรี่', 'ครับ', 'những', 'khiếu', 'được', 'giao', 'hàng']) expect(stem(w, lang), `${w} ${lang}`).toBe(w);
    }
    expect(contentWords('被扣了68元 退款', 'zh')).toEqual(['被', '扣了', '68', '元', '退款']);
    expect(meaningWords('Đơn hàng của tôi chưa được giao', 'vi')).toEqual(['đơn', 'hàng', 'tôi', 'chưa', 'giao']);
  });

  it('stems German, French and Spanish by Snowball, and drops their stop words only from text in them', () => {
    expect(matching('Die Lieferungen sind beschädigt', 'Lieferung beschädigt', 'de')).toEqual(['liefer', 'beschadigt']);
    expect(matching('Je veux un remboursement', 'rembourser la commande', 'fr')).toEqual(['rembours']);
    expect(matching('Los pedidos no llegaron', 'pedido', 'es')).toEqual(['ped']);
    // "die" is a German article, but an English word
    expect(contentWords('die Lieferung', 'de')).toEqual(['liefer']);
    expect(contentWords('batteries die fast')).toEqual(['battery', 'die', 'fast']);
  });
});

describe('languageOf', () => {
  it('tells the language of a ticket by its stop words and markers', () => {
    expect(languageOf('Saya sudah bayar tapi pesanan belum dikirim')).toBe('id');
    expect(languageOf('Barang tak sampai lagi, boleh saya dapat bayaran balik kerana sudah seminggu')).toBe('id');
    expect(languageOf('My order never arrived and the tracking is stuck')).toBe('en');
    expect(languageOf('Mera order abhi tak nahi aaya, kya hoga?')).toBe('hi');
    expect(languageOf('Đơn hàng của tôi chưa được giao')).toBe('vi');
    expect(languageOf('我的订单没有到，被扣了68元')).toBe('zh');
    expect(languageOf('Das Paket ist nicht angekommen und ich warte seit zwei Wochen')).toBe('de');
    expect(languageOf('Le colis est arrivé cassé et je veux un remboursement')).toBe('fr');
  });

  it('reads a Bahasa-English ticket as Bahasa, and falls back to English without evidence', () => {
    expect(languageOf('ordernya udah sampai tapi the box was damaged dan saya mau refund')).toBe('id');
    expect(languageOf('Pengiriman cepat')).toBe('en');
    expect(languageOf('Shipped to Jl. Sudirman di Jakarta on time')).toBe('en');
    // every text of a comparison counts: a short output takes its input's language
    expect(languageOf('Pelanggan menunggu pengiriman yang sudah dibayar dan belum tiba', 'Pengiriman tertunda')).toBe('id');
  });
});

describe('checks on an Indonesian paraphrase', () => {
  it('a summary that rewords an Indonesian part with other affixes is grounded in it', () => {
    const text = 'Pelanggan mengeluhkan pembayaran yang terpotong dua kali. Tim keuangan memeriksa transaksi itu dan berjanji mengembalikan kelebihan dana. Pengiriman pesanan ditunda sampai pembayaran dikonfirmasi.';
    const summary = 'Keluhan soal bayar yang dipotong ganda; pemeriksaan, pengembalian, janji, kiriman menunggu konfirmasi.';
    // with the English stems alone, as before, no word of the summary matched its part
    expect(matching(summary, text, 'en')).toEqual([]);
    expect(summaryFromChunk({ summary }, { input: { text, part: 1, parts: 2 }, context: [] })).toEqual([]);
    // a summary of something else still fails
    expect(summaryFromChunk({ summary: 'Produk baru diluncurkan minggu depan dengan harga promo dan warna pilihan.' }, { input: { text, part: 1, parts: 2 }, context: [] })).toHaveLength(1);
  });

  it('a feature named with another form of a spec sheet word is grounded in it', () => {
    const context: ContextBlock[] = [{ title: 'Spec sheet', facts: { baterai: 'bisa diisi penuh dalam 30 menit', layar: 'tahan goresan dan bisa dipakai di bawah matahari' } }];
    const output = { features: [{ name: 'Pengisian cepat penuh', benefit: 'Baterai penuh lagi sebelum berangkat kerja.' }, { name: 'Pemakaian di luar ruangan', benefit: 'Layar tetap terbaca di bawah matahari.' }, { name: 'Pengiriman gratis', benefit: 'Tidak ada ongkos kirim tambahan.' }] };
    expect(matching('Pengisian cepat penuh', 'bisa diisi penuh dalam 30 menit', 'en')).toEqual(['penuh']);
    const issues = featureNamesGrounded(output, { input: { productName: 'Tablet X', maxFeatures: 5 } as never, context });
    expect(issues.map((i) => i.path)).toEqual(['/features/1/name', '/features/2/name']);
    // the message names the words as the feature writes them, not their stems ("irim")
    expect(issues[1]!.message).toContain('no mention of pengiriman, gratis');
  });

  it('an item must still come from the input in Indonesian: reworded passes, made up fails', () => {
    const refunds = fromInput<{ text: string }, { steps: string[] }>({ items: '/steps/*', sources: (i) => [i.text], match: 'words', noun: 'step' });
    const input = { text: 'Dana akan dikembalikan ke rekening Anda setelah pesanan dibatalkan oleh penjual.' };
    expect(refunds({ steps: ['pengembalian dana ke rekening', 'pembatalan pesanan'] }, { input, context: [] })).toEqual([]);
    const [issue, ...rest] = refunds({ steps: ['pengembalian dana', 'pengiriman ulang gratis'] }, { input, context: [] });
    expect(rest).toEqual([]);
    expect(issue).toMatchObject({ path: '/steps/1', message: expect.stringContaining('no mention of pengiriman, ulang, gratis') });
  });
});
