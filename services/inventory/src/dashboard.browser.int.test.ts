/// <reference lib="dom" />
/**
 * The release-audit dashboard in real headless Chromium (Debian's, driven by playwright-core):
 * the page loads its rows, a filter by order id shows that row, paging moves, Export CSV
 * downloads the file, and a reason containing <script> renders as text. Screenshots are saved
 * under test-artifacts/ (CI keeps them).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DB_MODES, startTestIssuer, type TestIssuer } from '@ecom/platform/testing';
import { type Browser, chromium } from 'playwright-core';
import { type Inventory, seedReleaseEvents, startInventory } from './test-support/harness.js';

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const ARTIFACTS = new URL('../../../test-artifacts/', import.meta.url).pathname;
const HOSTILE = '<script>window.__pwned = true</script><img src=x onerror="window.__pwned=true">';

for (const mode of DB_MODES) {
  describe(`release dashboard in headless Chromium on ${mode}`, () => {
    let issuer: TestIssuer;
    let inv: Inventory;
    let browser: Browser;
    let hostileOrder = '';

    before(async () => {
      assert.ok(CHROMIUM, 'this test needs Debian chromium: apt-get install -y chromium (.ci/run installs it)');
      issuer = await startTestIssuer();
      inv = await startInventory(mode, issuer, {
        listen: true,
        env: { ORDER_SERVICE_URL: 'http://orders.example:8081' },
      });
      const base = Date.now();
      const rows = await seedReleaseEvents(
        inv.service,
        Array.from({ length: 45 }, (_, i) => ({
          reason: i === 7 ? HOSTILE : i % 3 === 0 ? 'SAGA_TIMEOUT' : 'PAYMENT_FAILED',
          createdAt: new Date(base - i * 60_000),
        })),
      );
      hostileOrder = rows[7]!.orderId;
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-dev-shm-usage',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
      mkdirSync(ARTIFACTS, { recursive: true });
    });

    after(async () => {
      await browser?.close();
      await inv?.close();
      await issuer?.close();
    });

    test('loads, pages, filters by order id, exports CSV, and renders a hostile reason as text', async () => {
      const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 1000 } });
      const page = await context.newPage();
      const external: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith(inv.url) && !r.url().startsWith('blob:') && !r.url().startsWith('data:'))
          external.push(r.url());
      });
      let pwned = false;
      page.on('dialog', () => (pwned = true));
      try {
        await page.goto(`${inv.url}/release-dashboard.html`);
        await page.waitForFunction(() => document.querySelectorAll('#rows tr').length > 0);
        assert.equal(await page.locator('#rows tr').count(), 20, 'first page of 20');
        assert.match((await page.locator('#page-indicator').textContent()) ?? '', /Page 1 \/ 3/);
        await page.screenshot({ path: join(ARTIFACTS, `dashboard-${mode}.png`), fullPage: true });

        await page.click('#next');
        await page.waitForFunction(() => document.querySelector('#page-indicator')?.textContent?.startsWith('Page 2'));
        assert.equal(await page.locator('#rows tr').count(), 20);
        await page.click('#next');
        await page.waitForFunction(() => document.querySelector('#page-indicator')?.textContent?.startsWith('Page 3'));
        assert.equal(await page.locator('#rows tr').count(), 5, 'last page holds the remaining 5');

        await page.fill('#order-id', hostileOrder);
        await page.click('#load');
        await page.waitForFunction(() => document.querySelectorAll('#rows tr').length === 1);
        const row = page.locator('#rows tr').first();
        assert.ok(((await row.textContent()) ?? '').includes(HOSTILE), 'the reason is shown verbatim, as text');
        assert.equal(await page.locator('#rows script, #rows img').count(), 0, 'no element was created from the data');
        assert.equal(await page.evaluate(() => (window as { __pwned?: boolean }).__pwned ?? false), false);
        assert.equal(pwned, false);
        assert.equal(
          await row.locator('a').first().getAttribute('href'),
          `http://orders.example:8081/api/orders/${hostileOrder}/timeline`,
        );
        await page.screenshot({ path: join(ARTIFACTS, `dashboard-filtered-${mode}.png`) });

        const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
        const file = join(ARTIFACTS, `export-${mode}.csv`);
        await download.saveAs(file);
        const csv = readFileSync(file, 'utf8').trim().split('\n');
        assert.equal(csv[0], 'release_id,order_id,reservation_id,reason,created_at');
        assert.equal(csv.length, 2, 'the export follows the order-id filter');
        assert.ok(csv[1]!.includes(hostileOrder));
        assert.deepEqual(external, [], 'no request left the service (no CDN)');
      } finally {
        await context.close();
      }
    });
  });
}
