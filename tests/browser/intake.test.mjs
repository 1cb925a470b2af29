// The resident request form in a real browser: a missed bin reported without the page's
// JavaScript on a 320 pixel screen, axe's scan on every page of the journey (errors included),
// and the same journey once with the keyboard alone.
//
// axe runs its checks as JavaScript in the page, so the journey blocks every script the page
// itself loads rather than switching JavaScript off in the browser: the form works exactly as
// it would without JavaScript, and axe can still look at it.

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

/** Fails if the page scrolls sideways at its width. */
async function assertFits(page, width) {
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(scrollWidth <= width, `${page.url()} is ${scrollWidth} pixels wide`);
}

/** Checks the page as it is now: accessible, not scrolling sideways, titled `heading`. */
async function checkPage(page, heading, width) {
  assert.equal(await page.locator('h1').innerText(), heading);
  await assertAccessible(page);
  await assertFits(page, width);
}

test("a missed bin is reported without the page's JavaScript at 320 pixels", async () => {
  const width = 320;
  const page = await newPage(browser, { viewport: { width, height: 640 } });
  await page.route('**/*.js', (route) => route.abort());
  await page.goto(`${casework.url}/`);
  await checkPage(page, 'Contact the council', width);
  await page.getByRole('link', { name: 'Report a missed bin collection' }).click();

  await page.waitForURL(/questions\/address$/);
  await checkPage(page, 'Address where the bin was missed', width);
  // An error first: the summary, the message on the question, and the page still accessible.
  await page.getByRole('button', { name: 'Continue' }).click();
  assert.equal(
    await page.locator('.govuk-error-summary a').innerText(),
    'Enter address where the bin was missed',
  );
  assert.match(await page.title(), /^Error: /);
  await assertAccessible(page);
  await assertFits(page, width);
  await page.getByLabel('Address line 1').fill('12 Mill Lane');
  await page.getByLabel('Town or city').fill('Newtown');
  await page.getByLabel('Postcode').fill('NT1 3AB');
  await page.getByRole('button', { name: 'Continue' }).click();

  await page.waitForURL(/questions\/bin_type$/);
  await checkPage(page, 'Which bin was missed?', width);
  await page.getByLabel('Mixed recycling (blue bin)').check();
  await page.getByRole('button', { name: 'Continue' }).click();

  await page.waitForURL(/questions\/collection_date$/);
  await checkPage(page, 'Which day should we have emptied your bin?', width);
  await page.getByLabel('Day').fill('4');
  await page.getByLabel('Month').fill('12');
  await page.getByLabel('Year').fill('2026');
  await page.getByRole('button', { name: 'Continue' }).click();

  await page.waitForURL(/questions\/bin_out_by_7am$/);
  await checkPage(page, 'Was your bin out by 7am on your collection day?', width);
  await page.getByLabel('Yes').check();
  await page.getByRole('button', { name: 'Continue' }).click();

  await page.waitForURL(/questions\/assisted_collection$/);
  await checkPage(page, 'Do you have an assisted collection? (optional)', width);
  await page.getByLabel('No').check();
  await page.getByRole('button', { name: 'Continue' }).click();

  await page.waitForURL(/questions\/access_notes$/);
  await checkPage(
    page,
    'Is there anything that could stop us reaching your bin? (optional)',
    width,
  );
  assert.equal(await page.locator('#answer-info').innerText(), 'You can enter up to 10,000 characters');
  await page.getByRole('textbox').fill('The gate code is 1234.');
  await page.getByRole('button', { name: 'Continue' }).click();

  await page.waitForURL(/contact$/);
  await checkPage(page, 'Your contact details', width);
  await page.getByLabel('Full name').fill('Sam Resident');
  await page.getByLabel('Email address').fill('sam@example.com');
  await page.getByLabel('Email', { exact: true }).check();
  await page.getByRole('button', { name: 'Continue' }).click();

  await page.waitForURL(/check$/);
  await checkPage(page, 'Check your answers before sending your request', width);
  // A change comes back here.
  await page.getByRole('link', { name: 'Change Which bin was missed?' }).click();
  await page.waitForURL(/bin_type\?change=yes$/);
  await assertAccessible(page);
  await page.getByLabel('Glass (black box)').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(/check$/);
  assert.match(await page.locator('main').innerText(), /Glass \(black box\)/);

  await page.getByRole('button', { name: 'Accept and send' }).click();
  await page.waitForURL(/sent$/);
  assert.equal(await page.locator('.govuk-panel__title').innerText(), 'Request sent');
  assert.match(await page.locator('#reference').innerText(), /^CW-\d{6}$/);
  assert.match(await page.locator('#due').innerText(), /^We aim to deal with your request by \w+day \d+ \w+ \d{4}\.$/);
  await assertAccessible(page);
  await assertFits(page, width);
  await page.context().close();
});

test('the form can be filled in with the keyboard alone', async () => {
  const page = await newPage(browser);
  await page.goto(`${casework.url}/requests/new/missed-bin`);
  await page.waitForURL(/questions\/address$/);

  /** Tabs to the element whose id is `id`, failing after a sensible number of presses. */
  async function tabTo(id) {
    for (let presses = 0; presses < 30; presses += 1) {
      await page.keyboard.press('Tab');
      if ((await page.evaluate(() => document.activeElement?.id)) === id) return;
    }
    assert.fail(`could not reach #${id} with the Tab key on ${page.url()}`);
  }

  /** Tabs to the Continue button and presses Enter, then waits for `next`. */
  async function carryOn(next) {
    for (let presses = 0; presses < 30; presses += 1) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate(() => document.activeElement?.textContent?.trim());
      if (focused === 'Continue' || focused === 'Accept and send') {
        await page.keyboard.press('Enter');
        await page.waitForURL(next);
        return;
      }
    }
    assert.fail(`could not reach the button with the Tab key on ${page.url()}`);
  }

  await tabTo('answer-line-1');
  await page.keyboard.type('12 Mill Lane');
  await tabTo('answer-town');
  await page.keyboard.type('Newtown');
  await page.keyboard.press('Tab');
  await page.keyboard.type('NT1 3AB');
  await carryOn(/bin_type$/);

  // Tab lands on a group's first radio; Space picks it.
  await tabTo('answer');
  await page.keyboard.press('Space');
  await carryOn(/collection_date$/);

  await tabTo('answer-day');
  await page.keyboard.type('4');
  await page.keyboard.press('Tab');
  await page.keyboard.type('12');
  await page.keyboard.press('Tab');
  await page.keyboard.type('2026');
  await carryOn(/bin_out_by_7am$/);

  await tabTo('answer');
  await page.keyboard.press('Space');
  await carryOn(/assisted_collection$/);
  await carryOn(/access_notes$/);
  await carryOn(/contact$/);

  await tabTo('name');
  await page.keyboard.type('Kim Resident');
  await page.keyboard.press('Tab');
  await page.keyboard.type('kim@example.com');
  await tabTo('channel');
  await page.keyboard.press('Space');
  await carryOn(/check$/);
  await carryOn(/sent$/);
  assert.equal(await page.locator('.govuk-panel__title').innerText(), 'Request sent');
  await page.context().close();
});
