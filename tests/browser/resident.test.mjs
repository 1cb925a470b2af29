// The resident pages in a real browser, in English and Welsh, on a phone-sized screen and a
// desktop one: the language switch, the cookies page, no sideways scrolling at 320 pixels, and
// axe's scan.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { assertAccessible, launchBrowser, newPage, startCasework } from './support.mjs';

let casework;
let browser;

before(async () => {
  casework = await startCasework();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  casework?.stop();
});

for (const width of [320, 1024]) {
  test(`a plan link that does not work, in both languages, at ${width} pixels`, async () => {
    const page = await newPage(browser, { viewport: { width, height: 800 } });
    const response = await page.goto(`${casework.url}/plan/not-a-real-token`);
    assert.equal(response.status(), 404);
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    assert.equal(await page.locator('h1').innerText(), 'This link does not work');
    await assertAccessible(page);
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(scrollWidth <= width, `the page is ${scrollWidth} pixels wide`);

    await page.getByRole('link', { name: /Cymraeg/ }).click();
    await page.waitForURL(/lang=cy/);
    assert.equal(await page.locator('html').getAttribute('lang'), 'cy');
    assert.equal(await page.locator('h1').innerText(), "Nid yw'r ddolen hon yn gweithio");
    await assertAccessible(page);

    // The choice is kept for the next page, without asking again.
    await page.getByRole('link', { name: 'Cwcis' }).click();
    await page.waitForURL(/\/cookies$/);
    assert.equal(await page.locator('html').getAttribute('lang'), 'cy');
    assert.equal(await page.locator('h1').innerText(), 'Cwcis');
    await assertAccessible(page);
    await page.context().close();
  });
}

test('the language switch works from the keyboard', async () => {
  const page = await newPage(browser);
  await page.goto(`${casework.url}/plan/not-a-real-token`);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent.trim()), 'Skip to main content');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('hreflang')), 'cy');
  await page.keyboard.press('Enter');
  await page.waitForURL(/lang=cy/);
  assert.equal(await page.locator('html').getAttribute('lang'), 'cy');
  await page.context().close();
});
