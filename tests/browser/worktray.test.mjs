// The worktray in a real browser: sign in, filter, open a case, move it on, see the timeline;
// the same by keyboard alone; and every staff page scanned with axe.

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

test('the sign-in page is accessible and keeps the email after a wrong password', async () => {
  const page = await newPage(browser);
  await page.goto(`${casework.url}/staff/sign-in`);
  await assertAccessible(page);
  await page.getByLabel('Email address').fill(staff.agent.email);
  await page.getByLabel('Password').fill('not the password at all');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await assert.doesNotReject(page.locator('.govuk-error-summary').waitFor());
  assert.equal(await page.getByLabel('Email address').inputValue(), staff.agent.email);
  assert.equal(await page.getByLabel('Password').inputValue(), '');
  await assertAccessible(page);
  await page.context().close();
});

test('a signed-out visit to the worktray goes to sign-in and comes back', async () => {
  const page = await newPage(browser);
  await page.goto(`${casework.url}/staff?service=missed-bin`);
  assert.match(page.url(), /\/staff\/sign-in\?next=/);
  await page.getByLabel('Email address').fill(staff.agent.email);
  await page.getByLabel('Password').fill(staff.agent.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/staff\?service=missed-bin/);
  await page.context().close();
});

test('an agent filters, opens a case, closes it and sees it on the timeline', async () => {
  const page = await newPage(browser);
  await signIn(page, staff.agent);
  await assertAccessible(page);

  await page.locator('#filter-service').selectOption('missed-bin');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.waitForURL(/service=missed-bin/);
  await page.locator('#filter-state').selectOption('reported');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.waitForURL(/state=reported/);
  await assertAccessible(page);

  const first = page.locator('table a[href*="/staff/cases/"]').first();
  const reference = (await first.textContent()).trim();
  await first.click();
  await page.waitForURL(new RegExp(`/staff/cases/${reference}`));
  await assertAccessible(page);
  assert.match(await page.locator('h1').textContent(), /Reported/);

  await page.getByRole('button', { name: 'Mark as collected' }).click();
  await page.waitForURL(new RegExp(`/staff/cases/${reference}`));
  assert.match(await page.locator('h1').textContent(), /Collected/);
  const timeline = await page.locator('.moj-timeline').textContent();
  assert.match(timeline, /Collected/);
  // Staff are named on the timeline as the navigation names the one signed in.
  const signedInAs = await page.locator('a[href="/staff/account"]').textContent();
  const name = signedInAs.replace('Your account: signed in as', '').trim();
  assert.match(timeline, new RegExp(`by ${name}`));
  assert.doesNotMatch(timeline, new RegExp(staff.agent.email.replace('.', '\\.')));
  await assertAccessible(page);
  await page.context().close();
});

test('a lead selects cases on the worktray and assigns them in one go', async () => {
  const page = await newPage(browser);
  await signIn(page, staff.lead);
  await page.goto(`${casework.url}/staff?view=unassigned&service=missed-bin`);
  const boxes = page.locator('#bulk input[name="cases"]');
  assert.ok((await boxes.count()) >= 2, 'the unassigned queue has missed bins to select');
  const references = [];
  for (const box of (await boxes.all()).slice(0, 2)) {
    const reference = (await box.getAttribute('value')).split(':')[0];
    references.push(reference);
    await page.getByLabel(`Select ${reference}`, { exact: true }).check();
  }
  await assertAccessible(page);
  const assignee = page.locator('#bulk-assignee');
  const agentName = await assignee.locator(`option[value="${staff.agent.email}"]`).first().textContent();
  await assignee.selectOption({ label: agentName });
  await page.getByRole('button', { name: 'Assign selected cases' }).click();
  await assert.doesNotReject(page.getByRole('heading', { name: 'Cases changed' }).waitFor());
  assert.equal(
    (await page.locator('.govuk-notification-banner__heading').textContent()).trim(),
    `2 cases assigned to ${agentName}`,
  );
  await assertAccessible(page);

  await page.getByRole('link', { name: 'Back to your worktray' }).click();
  await page.waitForURL(/view=unassigned/);
  for (const reference of references) {
    assert.equal(await page.getByRole('link', { name: reference, exact: true }).count(), 0, `${reference} left the unassigned queue`);
  }
  await page.goto(`${casework.url}/staff/cases/${references[0]}`);
  assert.match(await page.locator('.govuk-summary-list').first().textContent(), new RegExp(agentName));
  await page.context().close();
});

test('signing in and opening a case works by keyboard alone', async () => {
  const page = await newPage(browser);
  await page.goto(`${casework.url}/staff/sign-in`);
  const focusedName = () => page.evaluate(() => document.activeElement?.getAttribute('name'));
  for (let i = 0; i < 20 && (await focusedName()) !== 'email'; i++) {
    await page.keyboard.press('Tab');
  }
  assert.equal(await focusedName(), 'email', 'the email field can be reached with Tab');
  await page.keyboard.type(staff.agent.email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(staff.agent.password);
  await page.keyboard.press('Enter');
  await page.waitForURL(`${casework.url}/staff`);

  const focusedCase = () =>
    page.evaluate(() => document.activeElement?.getAttribute('href')?.includes('/staff/cases/') ?? false);
  for (let i = 0; i < 150 && !(await focusedCase()); i++) {
    await page.keyboard.press('Tab');
  }
  assert.ok(await focusedCase(), 'a case link can be reached with Tab');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/staff\/cases\/CW-\d+/);
  await page.context().close();
});

test('every staff page passes axe (WCAG 2.2 AA)', async () => {
  const page = await newPage(browser);
  await signIn(page, staff.lead);
  const tabs = await page
    .locator('.moj-sub-navigation__link')
    .evaluateAll((links) => links.map((a) => a.getAttribute('href')));
  assert.ok(tabs.length >= 5, `the worktray has its queues: ${tabs}`);
  let caseLink;
  for (const path of [...tabs, '/staff?sort=updated', '/staff?view=open&sort=priority', '/staff?q=zzzz-nothing', '/staff/account']) {
    await page.goto(new URL(path, casework.url).href);
    await assertAccessible(page);
    caseLink ??= await page.locator('table a[href*="/staff/cases/"]').first().getAttribute('href', { timeout: 1000 }).catch(() => null);
  }
  assert.ok(caseLink, 'some queue lists a case');
  await page.goto(new URL(caseLink, casework.url).href);
  await assertAccessible(page);
  await page.setViewportSize({ width: 320, height: 800 });
  for (const path of ['/staff', caseLink]) {
    await page.goto(new URL(path, casework.url).href);
    await assertAccessible(page);
  }
  await page.context().close();
});

test('every admin page passes axe (WCAG 2.2 AA)', async () => {
  assert.ok(staff.admin, `the demo prints an admin to sign in as:\n${casework.printed.join('\n')}`);
  const page = await newPage(browser);
  await signIn(page, staff.admin);
  await page.getByRole('link', { name: 'Admin', exact: true }).click();
  await page.waitForURL(`${casework.url}/staff/admin`);
  await assertAccessible(page);
  const confirmations = await page
    .locator('#staff a[href^="/staff/admin/staff/"]')
    .evaluateAll((links) => links.map((a) => a.getAttribute('href')));
  assert.ok(confirmations.length >= 2, `the staff have their actions: ${confirmations}`);
  for (const path of confirmations) {
    await page.goto(new URL(path, casework.url).href);
    await assertAccessible(page);
  }

  await page.goto(`${casework.url}/staff/admin/staff`);
  await assertAccessible(page);
  await page.getByRole('button', { name: 'Add member of staff' }).click();
  await assert.doesNotReject(page.locator('.govuk-error-summary').waitFor());
  await assertAccessible(page);
  await page.getByLabel('Full name').fill('Sam Jones');
  await page.getByLabel('Email address').fill('sam.jones@example.com');
  await page.getByLabel('Agent').check();
  await page.getByLabel('Waste (waste)').check();
  await page.getByRole('button', { name: 'Add member of staff' }).click();
  await assert.doesNotReject(page.getByRole('heading', { name: 'Sam Jones has been added' }).waitFor());
  await assertAccessible(page);

  await page.goto(`${casework.url}/staff/admin/teams`);
  await assertAccessible(page);
  await page.getByRole('button', { name: 'Add team' }).click();
  await assert.doesNotReject(page.locator('.govuk-error-summary').waitFor());
  await assertAccessible(page);

  await page.setViewportSize({ width: 320, height: 800 });
  await page.goto(`${casework.url}/staff/admin`);
  await assertAccessible(page);
  await page.context().close();
});
