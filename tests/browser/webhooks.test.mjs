// Outbound webhooks in a real browser: the demo admin adds an endpoint (a receiver in this test,
// on a local address, which the admin allows), copies the secret shown once, and sees the
// endpoint's deliveries; a case made through the API reaches the receiver signed as
// docs/webhooks.md says. Every page is scanned with axe.

import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';

import { assertAccessible, launchBrowser, newPage, startCasework } from './support.mjs';

let casework;
let browser;
let receiver;
const received = [];

before(async () => {
  casework = await startCasework();
  browser = await launchBrowser();
  receiver = createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ signature: request.headers['casework-signature'], body: Buffer.concat(chunks) });
      response.writeHead(204).end();
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
});

after(async () => {
  await browser?.close();
  receiver?.close();
  casework?.stop();
});

function printed(pattern) {
  const found = casework.printed.map((line) => line.match(pattern)).find(Boolean);
  assert.ok(found, `the demo prints ${pattern}:\n${casework.printed.join('\n')}`);
  return found;
}

/** Checks a delivery's signature as docs/webhooks.md tells integrators to. */
function signedWith(secret, delivery) {
  const { t, v1 } = Object.fromEntries(delivery.signature.split(',').map((part) => part.split('=')));
  const expected = createHmac('sha256', secret).update(`${t}.`).update(delivery.body).digest();
  return timingSafeEqual(expected, Buffer.from(v1, 'hex'));
}

test('an admin adds an endpoint and it receives signed deliveries', async () => {
  const [, email, password] = printed(/^\s+(\S+@example\.com)\s+password: (\S+)\s+\(admin\)/);
  const apiKey = printed(/Authorization: Bearer (\S+)' \S+\/api\/v1\/cases/)[1];
  const page = await newPage(browser);
  await page.goto(`${casework.url}/staff/sign-in`);
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${casework.url}/staff`);

  await page.goto(`${casework.url}/staff/admin/webhooks`);
  await assertAccessible(page);
  await page.getByRole('button', { name: 'Add an endpoint' }).click();
  await assertAccessible(page);

  // A local address is refused without the admin's allowance, keeping what was typed.
  const address = `http://127.0.0.1:${receiver.address().port}/casework`;
  await page.getByLabel('Address', { exact: true }).fill(address);
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  await page.locator('.govuk-error-summary').waitFor();
  assert.equal(await page.getByLabel('Address', { exact: true }).inputValue(), address);
  await assertAccessible(page);

  await page.getByLabel('Case created').check();
  await page.getByLabel('Allow http and private addresses').check();
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  await page.getByText('Webhook endpoint added').waitFor();
  const secret = (await page.locator('#secret').textContent()).trim();
  assert.ok(secret.length >= 32, 'a long secret');
  await assertAccessible(page);

  const created = await fetch(`${casework.url}/api/v1/cases`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      service: 'missed-bin',
      contact: { name: 'Webhook Resident', email: 'webhook.resident@example.com', preferred_channel: 'email' },
      answers: {
        address: '1 Test Street\nNewtown\nNT1 1AB',
        bin_type: 'recycling',
        collection_date: '2026-12-01',
        bin_out_by_7am: true,
      },
    }),
  });
  const reported = await created.json();
  assert.equal(created.status, 201, JSON.stringify(reported));

  const deadline = Date.now() + 30_000;
  let delivery;
  while (!delivery && Date.now() < deadline) {
    delivery = received.find((d) => JSON.parse(d.body).case.reference === reported.reference);
    if (!delivery) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  assert.ok(delivery, `the receiver got the new case's delivery: ${received.map((d) => d.body).join('\n')}`);
  assert.ok(signedWith(secret, delivery), 'signed with the secret shown');
  assert.ok(!delivery.body.toString().includes('Webhook Resident'), 'no resident name in the payload');

  await page.getByRole('link', { name: 'Go to the endpoint' }).click();
  await page.getByText(reported.reference).first().waitFor();
  await assertAccessible(page);
});
