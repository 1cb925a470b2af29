// Starts the real `casework serve --demo` on a free port with a fresh SQLite file, and drives
// Debian's Chromium with Playwright. Nothing here is mocked.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { AxeBuilder } from '@axe-core/playwright';
import { chromium } from 'playwright-core';

const repository = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** WCAG 2.2 AA, and the levels below it. */
const WCAG_22_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/**
 * Runs `casework serve --demo` and reads what it prints: the address, and every line (the demo
 * sign-in details are among them).
 */
export async function startCasework() {
  const binary = process.env.CASEWORK_BIN;
  assert.ok(binary, 'set CASEWORK_BIN to the casework binary (scripts/browser-tests does)');
  const folder = mkdtempSync(join(tmpdir(), 'casework-browser-'));
  const server = spawn(binary, ['serve', '--demo', '--listen', '127.0.0.1:0'], {
    cwd: repository,
    env: {
      ...process.env,
      CASEWORK_DATABASE_URL: `sqlite:${join(folder, 'casework.db')}`,
      RUST_LOG: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const printed = [];
  const url = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: server.stdout });
    lines.on('line', (line) => {
      printed.push(line);
      const serving = line.match(/Casework is serving \d+ services at (\S+)/);
      if (serving) resolve(serving[1]);
    });
    server.on('exit', (code) => reject(new Error(`casework exited with ${code}:\n${printed.join('\n')}`)));
  });
  return {
    url,
    printed,
    stop() {
      server.kill();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/** Headless Chromium from Debian's package, kept off the network it cannot reach here. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A page in a context of its own (its own cookies), as axe needs. */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext(options);
  return context.newPage();
}

/** Fails with every WCAG 2.2 AA violation axe finds on the page as it is now. */
export async function assertAccessible(page) {
  const results = await new AxeBuilder({ page }).withTags(WCAG_22_AA).analyze();
  const violations = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join('; ')}`,
  );
  assert.deepEqual(violations, [], `axe found problems on ${page.url()}`);
}
