// Redemption: the HTML pages over plain HTTP (errors, escaping, lockout, policies, single use), and in a
// real browser (playwright-core + /usr/bin/chromium): Annie of Contoso redeems her Fabrikam invitation,
// and an automatic redemption that shows no openmto page at all.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@microsoft/microsoft-graph-client';
import { chromium } from 'playwright-core';
import { MAX_FAILED_SIGN_INS } from '../../src/b2b/redemption.js';
import { usersRepo } from '../../src/store/repos/users.js';
import { dialects, graphClient, startTestServer, type TestServer, type TestTenant, type TestUser } from '../helpers/harness.js';

const CHROMIUM = '/usr/bin/chromium';
const CTAP = '/policies/crossTenantAccessPolicy';
const browserSkip = !existsSync(CHROMIUM) && !process.env.CI
  ? `${CHROMIUM} is missing: install it with \`apt-get install -y chromium\` (Debian) to run the browser tests; CI always runs them`
  : false;

/** The page the invitee should land on: a tiny local HTTP server. */
async function landingServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Welcome to the Fabrikam app</h1>'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/welcome?from=invite` };
}

for (const dialect of dialects()) {
  describe(`redemption (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    let b: TestTenant;
    let gb: Client;
    let landing: { server: Server; url: string };
    const invite = async (email: string) =>
      gb.api('/invitations').post({ invitedUserEmailAddress: email, inviteRedirectUrl: landing.url });
    const form = (path: string, fields: Record<string, string>) =>
      fetch(`${ts.url}${path}`, { method: 'POST', body: new URLSearchParams(fields), redirect: 'manual' });
    const ticketFields = (redeemUrl: string) => Object.fromEntries(new URL(redeemUrl).searchParams) as Record<string, string>;
    const stateOf = (html: string) => /name="state" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const record = async (id: string) => (await usersRepo.get(ts.server.store.db, b.tenantId, id))!;

    before(async () => {
      ts = await startTestServer(dialect);
      a = await ts.tenant('Contoso');
      b = await ts.tenant('Fabrikam <script>alert(1)</script>');
      gb = graphClient(ts, b.adminToken);
      landing = await landingServer();
    });
    after(async () => {
      landing.server.close();
      await ts.close();
    });

    test('pages: bad links, hosted-only notice, security headers', async () => {
      assert.equal((await fetch(`${ts.url}/redeem`)).status, 400);
      const inv = await invite('someone@outside.example.org');
      const wrong = new URL(inv.inviteRedeemUrl);
      wrong.searchParams.set('ticket', 'x'.repeat(43));
      const bad = await fetch(wrong);
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /not valid/);
      const res = await fetch(inv.inviteRedeemUrl);
      assert.equal(res.status, 200);
      assert.match(await res.text(), /outside\.example\.org<\/strong> is not an organization hosted on this openmto server/);
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'.*frame-ancestors 'none'/);
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(res.headers.get('x-frame-options'), 'DENY');
      assert.equal(res.headers.get('cache-control'), 'no-store');
    });

    test('sign-in, escaping, cancel, tampered state, accept once, ticket single use', async () => {
      const carl: TestUser = await ts.user(a.tenantId, { displayName: 'Carl <b>Bold</b>' });
      const inv = await invite(carl.userPrincipalName);
      const page = await (await fetch(inv.inviteRedeemUrl)).text();
      assert.match(page, /Sign in to Contoso/);
      assert.ok(!page.includes('<script>alert(1)</script>') && page.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
      const fields = ticketFields(inv.inviteRedeemUrl);
      const wrongPw = await form('/redeem/sign-in', { ...fields, password: 'nope' });
      assert.equal(wrongPw.status, 401);
      assert.match(await wrongPw.text(), /account or password is incorrect/);
      const consent = await form('/redeem/sign-in', { ...fields, password: carl.password });
      assert.equal(consent.status, 200);
      const html = await consent.text();
      assert.match(html, /Review permissions/);
      assert.ok(html.includes('Carl &lt;b&gt;Bold&lt;/b&gt;') && !html.includes('<b>Bold'));
      assert.ok(!html.includes(carl.password), 'the password never travels in the page');
      const state = stateOf(html);
      assert.equal((await form('/redeem/consent', { state, decision: 'cancel' })).status, 200);
      assert.equal((await record(inv.invitedUser.id)).user.externalUserState, 'PendingAcceptance');
      const tampered = await form('/redeem/consent', { state: `${state.slice(0, -2)}xx`, decision: 'accept' });
      assert.equal(tampered.status, 400);
      const accepted = await form('/redeem/consent', { state, decision: 'accept' });
      assert.equal(accepted.status, 302);
      assert.equal(accepted.headers.get('location'), landing.url);
      const rec = await record(inv.invitedUser.id);
      assert.equal(rec.user.externalUserState, 'Accepted');
      assert.deepEqual([rec.homeTenantId, rec.homeUserId], [a.tenantId, carl.id]);
      assert.equal((await form('/redeem/consent', { state, decision: 'accept' })).status, 400, 'the state is bound to a ticket that is now used');
      assert.equal((await fetch(inv.inviteRedeemUrl, { redirect: 'manual' })).status, 400, 'the ticket is single use');
    });

    test('the home tenant outbound policy and the failed sign-in lockout', async () => {
      const dora = await ts.user(a.tenantId);
      const inv = await invite(dora.userPrincipalName);
      const fields = ticketFields(inv.inviteRedeemUrl);
      const ga = graphClient(ts, a.adminToken);
      await ga.api(`${CTAP}/partners`).post({ tenantId: b.tenantId, b2bCollaborationOutbound: {
        usersAndGroups: { accessType: 'blocked', targets: [{ target: dora.id, targetType: 'user' }] },
        applications: { accessType: 'allowed', targets: [{ target: 'AllApplications', targetType: 'application' }] },
      } });
      const blocked = await form('/redeem/sign-in', { ...fields, password: dora.password });
      assert.equal(blocked.status, 403);
      assert.match(await blocked.text(), /b2bCollaborationOutbound/);
      await ga.api(`${CTAP}/partners/${b.tenantId}`).delete();
      for (let i = 0; i < MAX_FAILED_SIGN_INS; i++) await form('/redeem/sign-in', { ...fields, password: `wrong${i}` });
      const locked = await form('/redeem/sign-in', { ...fields, password: dora.password });
      assert.equal(locked.status, 403);
      assert.match(await locked.text(), /Too many failed sign-ins/);
      // A new invitation issues a new ticket.
      const again = await invite(dora.userPrincipalName);
      assert.equal((await form('/redeem/sign-in', { ...ticketFields(again.inviteRedeemUrl), password: dora.password })).status, 200);
    });

    describe('in a browser', { skip: browserSkip }, () => {
      let browser: import('playwright-core').Browser;
      before(async () => {
        // A non-persistent launch: Playwright gives the browser a fresh temporary profile and removes it.
        browser = await chromium.launch({
          executablePath: CHROMIUM,
          args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
            '--disable-component-update', '--disable-sync'],
        });
      });
      after(() => browser?.close());

      test('Annie signs in at home, consents and lands on the redirect URL; her Fabrikam user is Accepted and linked', async () => {
        const annie = await ts.user(a.tenantId, { displayName: 'Annie Anders' });
        const inv = await invite(annie.userPrincipalName);
        assert.equal(inv.status, 'PendingAcceptance');
        const context = await browser.newContext({ ignoreHTTPSErrors: true });
        try {
          const page = await context.newPage();
          await page.goto(inv.inviteRedeemUrl);
          assert.match((await page.locator('h1').textContent()) ?? '', /Sign in to Contoso/);
          assert.equal(await page.locator('#email').inputValue(), annie.userPrincipalName);
          await page.fill('#password', annie.password);
          await page.click('#signin');
          await page.waitForSelector('#accept');
          assert.match((await page.locator('main').textContent()) ?? '', /Fabrikam <script>alert\(1\)<\/script>/);
          await Promise.all([page.waitForURL(landing.url), page.click('#accept')]);
          assert.match((await page.locator('h1').textContent()) ?? '', /Welcome to the Fabrikam app/);
        } finally {
          await context.close();
        }
        const u = await gb.api(`/users/${inv.invitedUser.id}`).select('externalUserState,externalUserStateChangeDateTime,identities').get();
        assert.equal(u.externalUserState, 'Accepted');
        assert.deepEqual(u.identities, [{ signInType: 'federated', issuer: 'ExternalAzureAD', issuerAssignedId: null }]);
        const rec = await record(inv.invitedUser.id);
        assert.deepEqual([rec.homeTenantId, rec.homeUserId], [a.tenantId, annie.id]);
      });

      test('automatic redemption goes straight to the redirect URL without an openmto page', async () => {
        const bob = await ts.user(a.tenantId);
        const ga = graphClient(ts, a.adminToken);
        await ga.api(`${CTAP}/partners`).post({ tenantId: b.tenantId, automaticUserConsentSettings: { outboundAllowed: true } });
        await gb.api(`${CTAP}/partners`).post({ tenantId: a.tenantId, automaticUserConsentSettings: { inboundAllowed: true } });
        const inv = await invite(bob.userPrincipalName);
        assert.equal(inv.status, 'Completed');
        const context = await browser.newContext({ ignoreHTTPSErrors: true });
        const seen: { url: string; status: number }[] = [];
        try {
          const page = await context.newPage();
          page.on('response', (r) => {
            if (r.request().isNavigationRequest()) seen.push({ url: r.url(), status: r.status() });
          });
          await page.goto(inv.inviteRedeemUrl);
          assert.equal(page.url(), landing.url);
        } finally {
          await context.close();
        }
        const ours = seen.filter((s) => s.url.startsWith(ts.url));
        assert.deepEqual(ours.map((s) => s.status), [302], 'openmto only redirected');
        assert.equal((await record(inv.invitedUser.id)).homeUserId, bob.id);
      });
    });
  });
}
