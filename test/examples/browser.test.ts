// The browser demo, headless. The page loads the prebuilt trainer (the dense network, or with
// ?model=digits-cnn the convolutional one),
// trains in a Web Worker within its time budget to ≥ 90 % test accuracy, classifies a drawn
// stroke, and its screenshot shows the curve — checked on the screenshot's own pixels.
// NABLA_UPDATE_SCREENSHOT=1 writes the screenshot to docs/browser-demo.png (shown in the README).
import { writeFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemo, DEMO_DIR } from '../../examples/browser/build.ts';
import { serveStatic, type Served } from '../../examples/browser/serve.ts';
import { chromiumAvailable, withChromium } from '../support/chromium.ts';

const TIME_BUDGET_MS = 60_000;
const skip = !chromiumAvailable() && process.env.CI !== 'true';

/** Draws a "1" (a vertical stroke in the middle of the pad) and expects the demo to name a digit. */
async function expectDrawnDigitRead(page: Page): Promise<void> {
  const pad = (await page.locator('#pad').boundingBox())!;
  await page.mouse.move(pad.x + pad.width / 2, pad.y + pad.height * 0.15);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) await page.mouse.move(pad.x + pad.width / 2, pad.y + pad.height * (0.15 + 0.07 * i));
  await page.mouse.up();
  await page.waitForFunction(() => document.getElementById('answer')!.dataset.digit !== undefined, undefined, { timeout: 10_000 });
  expect(await page.locator('#answer').textContent()).toMatch(/^It looks like a \d \(\d+\.\d %\)\.$/);
}

if (skip) console.warn('browser demo test: /usr/bin/chromium is not installed, skipped (apt-get install chromium); under CI=true it is required');

describe.skipIf(skip)('the browser demo (examples/browser), in headless Chromium', () => {
  let served: Served;
  beforeAll(async () => {
    await buildDemo();
    served = await serveStatic(DEMO_DIR, 0, { crossOriginIsolated: true });
  });
  afterAll(() => served?.close());

  it('trains to ≥ 90 % test accuracy, draws the curve, classifies a drawing', async () => {
    await withChromium(async (context) => {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.setViewportSize({ width: 900, height: 600 });
      await page.goto(served.url);
      await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), undefined, { timeout: TIME_BUDGET_MS });
      const state = await page.evaluate(() => ({
        state: document.body.dataset.state,
        accuracy: Number(document.body.dataset.testAccuracy),
        status: document.getElementById('status')!.textContent,
        threads: Number(document.body.dataset.threads),
        threadsReason: document.body.dataset.threadsReason,
      }));
      expect(errors).toEqual([]);
      expect(state.state, state.status ?? '').toBe('done');
      expect(state.accuracy).toBeGreaterThanOrEqual(0.9);
      // The server sends COOP/COEP, so the page is cross-origin isolated and may start workers; the
      // digits MLP's products (32 × 64 × 32 multiply-adds) are too small to gain from them, so it
      // stays on one thread and says so (a page without isolation would give that reason instead).
      expect(state.threads).toBe(1);
      expect(state.threadsReason).toMatch(/^no product of this model is large enough to gain from threads/);
      expect(state.status).toMatch(/^1 thread · epoch/);

      await expectDrawnDigitRead(page);

      const png = await page.screenshot();
      if (process.env.NABLA_UPDATE_SCREENSHOT === '1') writeFileSync(new URL('../../docs/browser-demo.png', import.meta.url), png);
      // Read the screenshot back through the browser's PNG decoder and look inside the curve's box:
      // the loss line's blue must run across most of the plot's width.
      const box = (await page.locator('#curve').boundingBox())!;
      const columns = await page.evaluate(
        async ({ src, box }) => {
          const image = new Image();
          image.src = src;
          await image.decode();
          const canvas = new OffscreenCanvas(image.width, image.height);
          const g = canvas.getContext('2d')!;
          g.drawImage(image, 0, 0);
          const { data, width, height } = g.getImageData(Math.round(box.x), Math.round(box.y), Math.round(box.width), Math.round(box.height));
          const blue = new Set<number>();
          for (let y = 0; y < height; y++) {
            for (let x = 0; x < width; x++) {
              const i = (y * width + x) * 4;
              if (Math.abs(data[i]! - 0x25) < 40 && Math.abs(data[i + 1]! - 0x63) < 40 && data[i + 2]! > 0xb0) blue.add(x);
            }
          }
          return { blue: blue.size, width };
        },
        { src: `data:image/png;base64,${png.toString('base64')}`, box },
      );
      expect(columns.blue).toBeGreaterThan(columns.width * 0.6);
    });
  });

  it('offers the convolutional network: ?model=digits-cnn trains it to ≥ 95 % test accuracy and classifies a drawing', async () => {
    await withChromium(async (context) => {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      await page.goto(`${served.url}?model=digits-cnn`);
      await page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state ?? ''), undefined, { timeout: TIME_BUDGET_MS });
      const state = await page.evaluate(() => ({ state: document.body.dataset.state, model: document.body.dataset.model, accuracy: Number(document.body.dataset.testAccuracy), status: document.getElementById('status')!.textContent }));
      expect(errors).toEqual([]);
      expect(state.state, state.status ?? '').toBe('done');
      expect(state.model).toBe('digits_cnn');
      expect(state.accuracy).toBeGreaterThanOrEqual(0.95);
      await expectDrawnDigitRead(page);
    });
  });
});
