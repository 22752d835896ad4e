// The README's console screenshots, taken on the demo organization (tenants A, B and C, as `npm start` makes
// it) so they show the story's names: `node --import tsx test/e2e/console-screenshots.ts` writes
// docs/screenshots/<page>.png at 1280×800. Needs /usr/bin/chromium and a built console (`npm run build`).
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { ensureDemo } from '../../src/demo.js';
import { systemClock } from '../../src/domain/clock.js';
import { startServer } from '../../src/server.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const out = join(root, 'docs', 'screenshots');
const dataDir = mkdtempSync(join(tmpdir(), 'openmto-shots-'));
cpSync(join(root, 'test', 'fixtures', 'tls'), join(dataDir, 'tls'), { recursive: true });
const server = await startServer({ dataDir, databaseUrl: ':memory:', port: 0, host: '127.0.0.1', http: false, demo: true });
const demo = await ensureDemo(server.store, systemClock, dataDir);
const tenantA = demo[0]!;
const annie = tenantA.users[0]!;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  mkdirSync(out, { recursive: true });
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const shot = (name: string) => page.screenshot({ path: join(out, `${name}.png`) });
  const goTo = async (label: string) => {
    await page.getByRole('navigation', { name: 'Console pages' }).getByRole('link', { name: label }).click();
    await page.getByRole('heading', { level: 1, name: label }).waitFor();
  };
  const settle = (p: Page) => p.waitForLoadState('networkidle');

  await page.goto(`${server.url}/`);
  await page.getByLabel('Tenant domain or id').fill(tenantA.domain);
  await shot('sign-in');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('User name').fill(annie.userPrincipalName);
  await page.getByLabel('Password').fill(annie.password);
  await page.locator('#signin').click();
  await page.getByRole('heading', { level: 1, name: 'Organization' }).waitFor();
  await page.getByRole('table', { name: 'Tenants of the organization' }).waitFor();
  await shot('organization');

  await goTo('Sharing');
  await page.getByRole('table', { name: /Sync configurations/ }).waitFor();
  await shot('sharing');

  await goTo('Readiness');
  // The demo's six jobs converge within seconds of start: wait for a full heatmap.
  for (let i = 0; i < 40; i++) {
    const cells = await page.locator('table.heatmap tbody td').allTextContents();
    if (cells.length && cells.every((c) => c.startsWith('100%'))) break;
    await page.waitForTimeout(500);
    await page.reload();
    await page.getByRole('table', { name: /^Coverage/ }).waitFor();
  }
  await page.getByRole('button', { name: /Why\? \(Bob/ }).click();
  await page.getByRole('status').filter({ hasText: 'Explained' }).waitFor();
  await shot('readiness');

  await goTo('Sync jobs');
  await page.locator('article.card').nth(1).waitFor();
  await shot('sync');

  await goTo('Provisioning logs');
  await page.locator('ul.log summary').first().click();
  await settle(page);
  await shot('logs');

  await goTo('Directory');
  await page.getByRole('row', { name: /Barbara/ }).waitFor();
  await shot('directory');

  await goTo('People search');
  await page.getByLabel('Name or address').fill('b');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByRole('table', { name: 'People found' }).waitFor();
  await shot('people');
  console.log(`screenshots written to ${out}`);
} finally {
  await browser.close();
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}
