import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Chromium, type ChromiumPage, chromiumMissing, launchChromium } from '../../support/chromium.js';
import { HOSTILE, sampleJob } from './sample-job.js';

/** Screenshots land here for people to look at; the directory is git-ignored. */
const ARTIFACTS = resolve('test-artifacts');
const missing = chromiumMissing();

describe('report.html in headless Chromium (networking off)', () => {
  const { summary, builder } = sampleJob();
  let dir = '';
  let reportUrl = '';
  let chromium: Chromium | null = null;
  let page: ChromiumPage;

  beforeAll(async () => {
    if (missing) {
      if (!process.env.CI) console.warn(`report.chromium.test.ts skipped: ${missing}`);
      return;
    }
    dir = mkdtempSync(join(tmpdir(), 'fanout-report-'));
    const file = join(dir, 'report.html');
    writeFileSync(file, builder.render({ summary, generatedAt: '2026-11-25T22:00:42.000Z' }));
    reportUrl = pathToFileURL(file).href;
    chromium = await launchChromium();
    page = await chromium.newPage();
    await page.setViewport(375, 812, true);
    await page.goto(reportUrl);
  });

  afterAll(async () => {
    await chromium?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  beforeEach((ctx) => {
    if (!missing) return;
    if (process.env.CI) throw new Error(`CI must check the report in Chromium, but ${missing}`);
    ctx.skip(`report not checked in a browser: ${missing}`);
  });

  it('renders without console errors, exceptions or CSP violations, and requests nothing', async () => {
    expect(await page.evaluate('document.readyState')).toBe('complete');
    expect(page.problems).toEqual([]);
    expect(page.requests).toEqual([reportUrl]);
    expect(page.externalRequests()).toEqual([]);
    // The stylesheet applied, so the CSP's hash matches it.
    expect(await page.evaluate(`getComputedStyle(document.querySelector('.totals')).display`)).toBe('grid');
  });

  it("shows the summary's totals", async () => {
    const totals = await page.evaluate<Record<string, { value: number; text: string }>>(`
      Object.fromEntries([...document.querySelectorAll('[data-total]')].map((e) => [
        e.dataset.total,
        { value: Number(e.dataset.value), text: (e.querySelector('.value, dd')?.textContent ?? '').trim() },
      ]))`);
    const { urls } = summary;
    expect(totals).toMatchObject({
      accepted: { value: urls.accepted, text: urls.accepted.toLocaleString('en-US') },
      ok: { value: urls.ok, text: urls.ok.toLocaleString('en-US') },
      failed: { value: urls.failed, text: urls.failed.toLocaleString('en-US') },
      invalid: { value: urls.invalid, text: String(urls.invalid) },
      attempts: { value: summary.attempts },
      retried: { value: summary.retried },
      redirects: { value: summary.redirects },
      bytes: { value: summary.bytes },
      chunks: { value: summary.chunks },
      'wall-ms': { value: summary.wallMs, text: '41.3 s' },
    });
    const counted = await page.evaluate<{
      codes: Record<string, number>;
      errors: Record<string, number>;
      bins: number;
    }>(`({
      codes: Object.fromEntries([...document.querySelectorAll('[data-status-code]')].map((e) => [e.dataset.statusCode, Number(e.dataset.count)])),
      errors: Object.fromEntries([...document.querySelectorAll('[data-error-code]')].map((e) => [e.dataset.errorCode, Number(e.dataset.count)])),
      bins: [...document.querySelectorAll('.hist-bar')].reduce((n, e) => n + Number(e.dataset.count), 0),
    })`);
    expect(counted.codes).toEqual(summary.statusCodes);
    expect(counted.errors).toEqual(summary.errors);
    expect(counted.bins).toBe(urls.accepted);
    expect(await page.evaluate('document.querySelectorAll("#failure-list li").length')).toBe(25);
    expect(await page.evaluate('document.getElementById("job-status").dataset.status')).toBe(summary.status);
  });

  it('shows hostile URLs and messages as text: nothing injected runs or renders as markup', async () => {
    const text = await page.evaluate<string>('document.body.innerText');
    expect(text).toContain(HOSTILE.url);
    expect(text).toContain(HOSTILE.message);
    expect(await page.evaluate('typeof window.__pwned')).toBe('undefined');
    expect(
      await page.evaluate('document.querySelectorAll("script, img, iframe, object, embed").length'),
    ).toBe(0);
    expect(await page.evaluate('document.querySelectorAll("style").length')).toBe(1);
    expect(await page.evaluate('getComputedStyle(document.body).display')).toBe('block');
  });

  it('fits a 375 px phone screen without sideways scrolling; screenshots kept in test-artifacts/', async () => {
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
    expect(
      await page.evaluate(
        `[...document.querySelectorAll('section')].filter((s) => s.scrollWidth > s.clientWidth).map((s) => s.id)`,
      ),
    ).toEqual([]);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot(join(ARTIFACTS, 'report-phone.png'));
    await page.setViewport(1280, 900);
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280);
    await page.screenshot(join(ARTIFACTS, 'report-desktop.png'));
    expect(page.problems).toEqual([]);
  });

  it('would notice an external request: the check is not vacuous, and the request goes nowhere', async () => {
    const probe = join(dir, 'probe.html');
    writeFileSync(probe, '<!doctype html><title>probe</title><img src="http://example.com/pixel.png">');
    const other = await (chromium as Chromium).newPage();
    await other.goto(pathToFileURL(probe).href);
    expect(other.externalRequests()).toEqual(['http://example.com/pixel.png']);
    expect(await other.evaluate('document.images[0].complete && document.images[0].naturalWidth')).toBe(0);
  });
});
