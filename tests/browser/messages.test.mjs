// Messaging in a real browser: a member of staff texts a resident from a case; the resident's
// answer arrives through the Notify hook as GOV.UK Notify would post it; staff find it in the
// unread queue and on the case; a text from a number no case has waits on "Replies to file";
// a resident writes on their plan page at 320 pixels, by keyboard alone. Every page is scanned
// with axe.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { assertAccessible, launchBrowser, newPage, startCasework } from './support.mjs';

let casework;
let browser;
let agent;
let notifyToken;

before(async () => {
  casework = await startCasework();
  browser = await launchBrowser();
  const line = casework.printed
    .map((l) => l.match(/^\s+(\S+@example\.com)\s+password: (\S+)\s+\(agent\)/))
    .find(Boolean);
  assert.ok(line, `the demo prints an agent:\n${casework.printed.join('\n')}`);
  agent = { email: line[1], password: line[2] };
  notifyToken = casework.printed
    .map((l) => l.match(/Bearer (\w+)' -H 'Content-Type: application\/json'/))
    .find(Boolean)?.[1];
  assert.ok(notifyToken, 'the demo prints the Notify hook token');
});

after(async () => {
  await browser?.close();
  casework?.stop();
});

async function signIn(page) {
  await page.goto(`${casework.url}/staff/sign-in`);
  await page.getByLabel('Email address').fill(agent.email);
  await page.getByLabel('Password').fill(agent.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${casework.url}/staff`);
}

/** Posts a received text as GOV.UK Notify does. */
async function receiveText(from, message) {
  const response = await fetch(`${casework.url}/hooks/notify/received-text`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${notifyToken}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      id: crypto.randomUUID(),
      source_number: from,
      destination_number: '07700900000',
      message,
      date_received: new Date().toISOString(),
    }),
  });
  const body = await response.text();
  assert.equal(response.status, 201, body);
  return JSON.parse(body);
}

/** An open missed-bin case whose resident has a phone number, and that number. */
async function caseWithPhone(page) {
  await page.goto(`${casework.url}/staff?view=open&service=missed-bin`);
  const references = (await page.locator('table a[href*="/staff/cases/"]').allTextContents()).map((t) => t.trim());
  for (const reference of references) {
    await page.goto(`${casework.url}/staff/cases/${reference}`);
    const phone = (await page.locator('dt:text-is("Phone") + dd').textContent()).trim();
    if (/^07\d{3} ?\d{6}$/.test(phone)) return { reference, phone: phone.replace(/\s/g, '') };
  }
  throw new Error(`no open missed-bin case with a phone among ${references}`);
}

test('a resident answers a text and staff find it unread on the case', async () => {
  const page = await newPage(browser);
  await signIn(page);
  const { reference, phone } = await caseWithPhone(page);
  await page.goto(`${casework.url}/staff/cases/${reference}/messages`);
  await page.getByLabel('Text message').check();
  await page.getByLabel('Message', { exact: true }).fill('Is Tuesday morning all right for us to come back?');
  await page.getByRole('button', { name: 'Send message' }).click();
  await page.getByText('Message sent', { exact: true }).waitFor();

  const filed = await receiveText(`44${phone.slice(1)}`, 'Yes, Tuesday morning is fine.');
  assert.deepEqual(filed, { filed: 'case' });

  await page.goto(`${casework.url}/staff?view=unread`);
  await assertAccessible(page);
  const row = page.locator('tbody tr', { hasText: reference });
  assert.equal((await row.locator('.govuk-tag--purple').textContent()).trim(), 'New reply');
  await row.getByRole('link', { name: reference }).click();
  await page.goto(`${casework.url}/staff/cases/${reference}/messages`);
  assert.match(await page.locator('.moj-message-item--received').last().textContent(), /Tuesday morning is fine/);
  await assertAccessible(page);
  await page.goto(`${casework.url}/staff?view=unread`);
  assert.equal(await page.locator('tbody tr', { hasText: reference }).count(), 0, 'read now');
});

test('a text from an unknown number waits to be filed', async () => {
  const page = await newPage(browser);
  await signIn(page);
  assert.deepEqual(await receiveText('447700900999', 'Hello, is this the council?'), { filed: 'waiting' });
  await page.goto(`${casework.url}/staff`);
  await page.getByRole('link', { name: /waiting to be filed/ }).click();
  await page.getByText('Hello, is this the council?').waitFor();
  await assertAccessible(page);
  await page.getByRole('button', { name: 'File on this case' }).first().click();
  await page.getByText('Enter the case reference, like CW-000123').first().waitFor();
  await assertAccessible(page);
});

test('a resident writes on their plan page at 320 pixels, by keyboard', async () => {
  const staffPage = await newPage(browser);
  await signIn(staffPage);
  const { reference } = await caseWithPhone(staffPage);
  await staffPage.goto(`${casework.url}/staff/cases/${reference}/plan`);
  await staffPage.getByRole('button', { name: 'Make a link for the resident' }).click();
  const link = await staffPage.locator('#new-link a').getAttribute('href');

  const resident = await newPage(browser, { viewport: { width: 320, height: 640 } });
  await resident.goto(link);
  await resident.locator('#reply').focus();
  await resident.keyboard.type('I will leave the gate open.');
  await resident.keyboard.press('Tab');
  await resident.keyboard.press('Enter');
  await resident.getByText('Your message has been sent').waitFor();
  assert.match(await resident.locator('.casework-message--you').last().textContent(), /leave the gate open/);
  await assertAccessible(resident);

  await resident.locator('#reply').fill('   ');
  await resident.getByRole('button', { name: 'Send message' }).click();
  await resident.locator('.govuk-error-summary').waitFor();
  await assertAccessible(resident);

  await staffPage.goto(`${casework.url}/staff/cases/${reference}/messages`);
  assert.match(await staffPage.locator('.moj-message-item--received').last().textContent(), /on the plan page/);
});
