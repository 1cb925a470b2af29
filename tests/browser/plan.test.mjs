// The shared plan in a real browser: staff make a link on the plan editor; the resident opens it
// in a browser of their own (no staff cookies) on a 320 pixel screen, ticks an action off, by
// mouse and by keyboard, in English and Welsh; staff see it on the plan and the case's timeline;
// and a link that does not work, or was withdrawn, gets the page that says so. Every page is
// scanned with axe.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { assertAccessible, launchBrowser, newPage, startCasework } from './support.mjs';

let casework;
let browser;
let staff;

before(async () => {
  casework = await startCasework();
  browser = await launchBrowser();
  staff = Object.fromEntries(
    casework.printed
      .map((line) => line.match(/^\s+(\S+@example\.com)\s+password: (\S+)\s+\((\w+)\)/))
      .filter(Boolean)
      .map(([, email, password, role]) => [role, { email, password }]),
  );
  assert.ok(staff.agent, `the demo prints an agent to sign in as:\n${casework.printed.join('\n')}`);
});

after(async () => {
  await browser?.close();
  casework?.stop();
});

async function signIn(page, who) {
  await page.goto(`${casework.url}/staff/sign-in`);
  await page.getByLabel('Email address').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${casework.url}/staff`);
}

/**
 * The references of open missed-bin cases whose resident reads English, from the worktray: each
 * test takes its own, so that none sees another's ticks or links. A case is open if its plan
 * editor can still make a link. A resident's plan opens in the language on their case.
 */
async function openMissedBinCases(page, count) {
  await page.goto(`${casework.url}/staff?view=open&service=missed-bin`);
  const references = (await page.locator('table a[href*="/staff/cases/"]').allTextContents()).map((t) => t.trim());
  const open = [];
  for (const reference of references) {
    if (open.length === count) break;
    assert.match(reference, /^CW-\d+$/);
    await page.goto(`${casework.url}/staff/cases/${reference}`);
    const language = page
      .locator('.govuk-summary-list__row', { has: page.locator('dt', { hasText: /^Language$/ }) })
      .locator('dd');
    if ((await language.innerText()).trim() !== 'English') continue;
    await page.goto(`${casework.url}/staff/cases/${reference}/plan`);
    const closed = await page.getByText('This case is closed').count();
    const canShare = await page.getByRole('button', { name: 'Make a link for the resident' }).count();
    const residentAction = await page.getByText('Leave your bin out').count();
    if (!closed && canShare && residentAction) open.push(reference);
  }
  assert.equal(open.length, count, `the worktray lists ${count} open missed-bin cases: ${references}`);
  return open;
}

let cases;
async function openCase(page, index) {
  cases ??= await openMissedBinCases(page, 3);
  return cases[index];
}

/** Presses "Make a link for the resident" on the plan editor and reads the link, shown once. */
async function makeLink(page, reference) {
  await page.getByRole('button', { name: 'Make a link for the resident' }).click();
  await page.waitForURL(new RegExp(`/staff/cases/${reference}/plan\\b`));
  const href = await page.locator('#new-link a').getAttribute('href');
  const link = new URL(href);
  assert.match(link.pathname, /^\/plan\/[A-Za-z0-9_-]{20,}$/, `the link is a plan's: ${href}`);
  assert.equal((await page.locator('#new-link a').textContent()).trim(), href, 'the link is shown in full');
  // Without CASEWORK_BASE_URL, links are made on the address the server listens on.
  assert.equal(link.origin, new URL(casework.url).origin, 'the link is on the server');
  return href;
}

async function assertNoSidewaysScrolling(page, width) {
  const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(scrollWidth <= width, `${page.url()} is ${scrollWidth} pixels wide at ${width}`);
}

/** The resident's own actions, under "What you need to do". */
function residentActions(page) {
  return page.locator('#yours + p + ol > li.casework-plan-action');
}

function timelineEntries(page) {
  return page.locator('.moj-timeline .moj-timeline__item');
}

test('staff share a plan, and the resident ticks an action off in English and Welsh', async () => {
  const staffPage = await newPage(browser);
  await signIn(staffPage, staff.agent);
  const reference = await openCase(staffPage, 0);

  // 1. The plan editor, and a link for the resident.
  const editor = `${casework.url}/staff/cases/${reference}/plan`;
  const response = await staffPage.goto(editor);
  assert.equal(response.status(), 200);
  assert.equal(await staffPage.locator('h1').innerText(), 'Plan');
  assert.equal(await staffPage.getByText('This case is closed').count(), 0, `${reference} is open`);
  await assertAccessible(staffPage);
  const link = await makeLink(staffPage, reference);
  await assertAccessible(staffPage);
  // Shown once: not on the next visit to the editor.
  await staffPage.goto(editor);
  assert.equal(await staffPage.locator('#new-link').count(), 0, 'the link is shown only once');

  // 2. The resident, with no staff cookies, on a phone-sized screen.
  const resident = await newPage(browser, { viewport: { width: 320, height: 800 } });
  const opened = await resident.goto(link);
  assert.equal(opened.status(), 200);
  assert.equal(await resident.locator('html').getAttribute('lang'), 'en');
  assert.equal(await resident.locator('h1').innerText(), 'Your plan');
  assert.equal(await resident.locator('.govuk-caption-l').innerText(), 'Report a missed bin collection');
  assert.match(await resident.locator('.govuk-summary-list').innerText(), new RegExp(reference));
  assert.equal(await resident.locator('#yours').innerText(), 'What you need to do');
  assert.equal(await resident.locator('#ours').innerText(), 'What we will do');
  await assertAccessible(resident);
  await assertNoSidewaysScrolling(resident, 320);

  const action = residentActions(resident).first();
  const actionId = await action.getAttribute('id');
  assert.match(actionId, /^action-[0-9a-f-]{36}$/);
  assert.match(await action.locator('h3').innerText(), /Leave your bin out/);
  assert.notEqual(await action.locator('.govuk-tag').innerText(), 'Done');
  await action.getByRole('button', { name: /^Mark as done/ }).click();
  await resident.waitForURL(new RegExp(`#${actionId}$`));
  const ticked = resident.locator(`#${actionId}`);
  assert.equal(await ticked.locator('.govuk-tag').innerText(), 'Done');
  assert.equal(await ticked.getByRole('button', { name: /^Undo/ }).count(), 1);
  assert.equal(await ticked.getByRole('button', { name: /^Mark as done/ }).count(), 0);
  assert.match(await ticked.innerText(), /Completed on .+ by you/);
  // The council's actions are the council's to tick off.
  assert.equal(await resident.locator('#ours + ol').getByRole('button').count(), 0);
  await assertAccessible(resident);
  await assertNoSidewaysScrolling(resident, 320);

  // On paper: the plan, without the buttons and the language switch.
  await resident.emulateMedia({ media: 'print' });
  assert.ok(await resident.locator('h1').isVisible());
  assert.ok(await resident.locator(`#${actionId} h3`).isVisible());
  assert.equal(await resident.locator('.govuk-button').first().isVisible(), false, 'no buttons on paper');
  assert.equal(await resident.locator('.govuk-language-navigation').isVisible(), false);
  await resident.emulateMedia({ media: 'screen' });

  // 3. In Welsh, from the language switch.
  await resident.getByRole('link', { name: /Cymraeg/ }).click();
  await resident.waitForURL(/lang=cy/);
  assert.equal(await resident.locator('html').getAttribute('lang'), 'cy');
  assert.equal(await resident.locator('h1').innerText(), 'Eich cynllun');
  assert.equal(await resident.locator('#yours').innerText(), 'Beth sydd angen i chi ei wneud');
  assert.equal(await resident.locator(`#${actionId} .govuk-tag`).innerText(), "Wedi'i wneud");
  assert.equal(await resident.locator(`#${actionId}`).getByRole('button', { name: /^Dadwneud/ }).count(), 1);
  await assertAccessible(resident);
  await assertNoSidewaysScrolling(resident, 320);
  await resident.setViewportSize({ width: 1024, height: 800 });
  await assertAccessible(resident);
  await assertNoSidewaysScrolling(resident, 1024);

  // 4. Staff see the tick on the plan and the case's timeline.
  await staffPage.reload();
  const card = staffPage.locator(`#${actionId}`);
  assert.equal(await card.locator('.govuk-tag').innerText(), 'Done');
  assert.equal(await card.getByRole('button', { name: /^Mark as not done/ }).count(), 1);
  assert.match(await staffPage.locator('.govuk-grid-column-one-third').innerText(), /The resident last opened the plan on /);
  await assertAccessible(staffPage);
  await staffPage.goto(`${casework.url}/staff/cases/${reference}`);
  const timeline = await staffPage.locator('.moj-timeline').innerText();
  assert.match(timeline, /Plan action done/);
  assert.match(timeline, /Resident viewed the plan/);
  assert.match(timeline, /Plan shared with the resident/);
  assert.ok((await timelineEntries(staffPage).count()) > 0);
  await assertAccessible(staffPage);

  await resident.context().close();
  await staffPage.context().close();
});

test('the resident ticks an action off and undoes it by keyboard alone', async () => {
  const staffPage = await newPage(browser);
  await signIn(staffPage, staff.agent);
  const reference = await openCase(staffPage, 1);
  await staffPage.goto(`${casework.url}/staff/cases/${reference}/plan`);
  const link = await makeLink(staffPage, reference);
  await staffPage.context().close();

  const resident = await newPage(browser, { viewport: { width: 320, height: 800 } });
  await resident.goto(link);
  const focused = () =>
    resident.evaluate(() => {
      const element = document.activeElement;
      return element?.tagName === 'BUTTON' ? element.textContent.trim() : null;
    });
  const tabTo = async (name) => {
    for (let i = 0; i < 40 && !(await focused())?.startsWith(name); i++) {
      await resident.keyboard.press('Tab');
    }
    assert.match((await focused()) ?? '', new RegExp(`^${name}`), `the "${name}" button can be reached with Tab`);
  };

  await tabTo('Mark as done');
  const actionId = await resident.evaluate(() => document.activeElement.closest('li').id);
  await resident.keyboard.press('Enter');
  await resident.waitForURL(new RegExp(`#${actionId}$`));
  assert.equal(await resident.locator(`#${actionId} .govuk-tag`).innerText(), 'Done');

  await tabTo('Undo');
  assert.equal(await resident.evaluate(() => document.activeElement.closest('li').id), actionId);
  await resident.keyboard.press('Enter');
  await resident.waitForLoadState('load');
  await resident.locator(`#${actionId}`).getByRole('button', { name: /^Mark as done/ }).waitFor();
  assert.notEqual(await resident.locator(`#${actionId} .govuk-tag`).innerText(), 'Done');
  await assertAccessible(resident);
  await resident.context().close();
});

test('a made-up link gets 404, and a withdrawn one 410, with the same page', async () => {
  const resident = await newPage(browser, { viewport: { width: 320, height: 800 } });
  const notFound = await resident.goto(`${casework.url}/plan/not-a-real-token`);
  assert.equal(notFound.status(), 404);
  assert.equal(await resident.locator('h1').innerText(), 'This link does not work');
  const notFoundText = await resident.locator('main').innerText();
  await assertAccessible(resident);

  const staffPage = await newPage(browser);
  await signIn(staffPage, staff.agent);
  const reference = await openCase(staffPage, 2);
  await staffPage.goto(`${casework.url}/staff/cases/${reference}/plan`);
  const link = await makeLink(staffPage, reference);
  assert.equal((await resident.goto(link)).status(), 200);
  assert.equal(await resident.locator('h1').innerText(), 'Your plan');

  await staffPage.goto(`${casework.url}/staff/cases/${reference}/plan`);
  const withdraw = staffPage.getByRole('button', { name: /^Withdraw link \d+$/ });
  assert.equal(await withdraw.count(), 1, 'the one working link can be withdrawn');
  await withdraw.click();
  await staffPage.waitForURL(new RegExp(`/staff/cases/${reference}/plan\\b`));
  assert.equal(await staffPage.getByRole('button', { name: /^Withdraw link/ }).count(), 0);
  await assertAccessible(staffPage);

  const gone = await resident.goto(link);
  assert.equal(gone.status(), 410);
  assert.equal(await resident.locator('h1').innerText(), 'This link does not work');
  assert.equal(await resident.locator('main').innerText(), notFoundText, 'the same page, whatever the reason');
  await assertAccessible(resident);

  await staffPage.goto(`${casework.url}/staff/cases/${reference}`);
  assert.match(await staffPage.locator('.moj-timeline').innerText(), /Plan link withdrawn/);
  await resident.context().close();
  await staffPage.context().close();
});
