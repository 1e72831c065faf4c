/**
 * The evaluation report page in a real browser: Debian's chromium, driven by playwright-core.
 * The page is built from the figures of evaluation items; every figure must be on the page.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportHtml } from '../../core/eval/html.js';
import { figuresOf, type EvalItem } from '../../core/eval/report.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

const item = (config: string, exampleId: string, over: Partial<EvalItem>): EvalItem => ({
  config, exampleId, heldOut: false, status: 'valid', fieldsScored: 3, fieldsCorrect: 3, silentErrors: 0,
  scores: [{ path: '/vendor', pass: true }, { path: '/total', pass: true }, { path: '/issueDate', pass: true }],
  repairs: 0, escalations: 0, promptTokens: 500, completionTokens: 200, costUsd: 0.0004, referenceCostUsd: 0.004, latencyMs: 12_000, ...over,
});

const items: EvalItem[] = [
  item('ladder', 'uk', {}),
  item('ladder', 'de', { status: 'partial', fieldsCorrect: 1, scores: [{ path: '/vendor', pass: false }, { path: '/total', pass: true }, { path: '/issueDate', pass: false }], repairs: 1, latencyMs: 20_000 }),
  item('large-only', 'uk', { costUsd: 0.0002 }),
  item('large-only', 'de', { fieldsCorrect: 2, silentErrors: 1, scores: [{ path: '/vendor', pass: false }, { path: '/total', pass: true }, { path: '/issueDate', pass: true }], costUsd: 0.0002, heldOut: true }),
];
const figures = ['ladder', 'large-only'].map((c) => figuresOf(items, c));

let browser: Browser;
let file: string;
beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (npm test does, as root) or set CHROMIUM`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'report-')), 'report.html');
  fs.writeFileSync(
    file,
    reportHtml({
      evalId: 'invoices-test',
      dataset: 'pipelines/invoice-extraction/eval/invoices.jsonl',
      pipeline: 'invoice-extraction',
      generatedAt: '2026-12-01T10:00:00Z',
      figures,
      heldOut: ['ladder', 'large-only'].map((c) => figuresOf(items.filter((i) => i.heldOut), c)),
      worst: [{ config: 'ladder', exampleId: 'de', status: 'partial', fieldsCorrect: 1, fieldsScored: 3, link: 'http://localhost:8233/namespaces/default/workflows/eval-x-ladder-de' }],
      comparison: { against: 'invoices-before', lines: ['ladder: accuracy +5.0 pts, silent errors +0.0 pts, flagged -1, cost +$0.000100'] },
    }),
  );
});
afterAll(async () => browser?.close());

describe('the evaluation report page', () => {
  it('shows every configuration figure from the JSON, the chart, the worst items and the comparison', async () => {
    const page = await browser.newPage();
    await page.goto(`file://${file}`);
    for (const f of figures) {
      const row = page.locator(`#figures tr[data-config="${f.config}"]`);
      await expect(row.locator('[data-metric="accuracy"]').textContent()).resolves.toBe(`${(100 * f.accuracy).toFixed(1)}%`);
      await expect(row.locator('[data-metric="cost"]').textContent()).resolves.toBe(`$${f.costUsd.toFixed(6)}`);
      await expect(row.locator('[data-metric="silent-errors"]').textContent()).resolves.toContain(String(f.silentErrors));
      await expect(row.locator('[data-metric="flagged"]').textContent()).resolves.toBe(String(f.flagged));
      // one labelled point per configuration in the chart, drawn inside it
      const point = page.locator(`#cost-accuracy g.point[data-config="${f.config}"]`);
      await expect(point.textContent()).resolves.toContain(`${(100 * f.accuracy).toFixed(1)}%`);
      const box = await point.locator('circle').boundingBox();
      const chart = await page.locator('#cost-accuracy').boundingBox();
      expect(box!.x).toBeGreaterThanOrEqual(chart!.x);
      expect(box!.y + box!.height).toBeLessThanOrEqual(chart!.y + chart!.height);
    }
    await expect(page.locator('#per-field').textContent()).resolves.toContain('/vendor');
    await expect(page.locator('#worst a').getAttribute('href')).resolves.toBe('http://localhost:8233/namespaces/default/workflows/eval-x-ladder-de');
    await expect(page.locator('#comparison').textContent()).resolves.toContain('accuracy +5.0 pts');
    await expect(page.locator('#held-out').count()).resolves.toBe(1);
    if (process.env.REPORT_SCREENSHOT) await page.screenshot({ path: process.env.REPORT_SCREENSHOT, fullPage: true });
    await page.close();
  });
});
