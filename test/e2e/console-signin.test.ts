// The authorization-code flow with PKCE as the real MSAL drives it (msal-node's PublicClientApplication
// over HTTPS): getAuthCodeUrl → the sign-in page, posted like a browser → the code → acquireTokenByCode →
// Graph and the tenant API with the token; then a silent refresh through the rotated refresh token.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { CryptoProvider, PublicClientApplication } from '@azure/msal-node';
import { decodeJwt } from 'jose';
import { CONSOLE_CLIENT_ID } from '../../src/identity/console.js';
import { createApp } from '../../src/identity/tenants.js';
import { dialects, startTestServer, type TestServer, type TestTenant, type TestUser } from '../helpers/harness.js';
import { chromium } from 'playwright-core';
import { authorizeUrl, pkce, signIn } from '../helpers/signin.js';

const CHROMIUM = '/usr/bin/chromium';
const browserSkip = !existsSync(CHROMIUM) && !process.env.CI ? `${CHROMIUM} is missing (apt-get install -y chromium)` : false;

for (const dialect of dialects()) {
  describe(`console sign-in with MSAL (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    let admin: TestUser;
    before(async () => {
      ts = await startTestServer(dialect);
      a = await ts.tenant('Contoso Console');
      admin = await ts.user(a.tenantId, { displayName: 'Ada Admin', roles: ['Global Administrator'] });
    });
    after(() => ts.close());

    const msal = (clientId: string) => new PublicClientApplication({
      auth: { clientId, authority: `${ts.url}/${a.tenantId}`, knownAuthorities: [`127.0.0.1:${ts.port}`] },
    });

    async function codeFlow(clientId: string, redirectUri: string, user: TestUser) {
      const pca = msal(clientId);
      const { verifier, challenge } = await new CryptoProvider().generatePkceCodes();
      const state = 'st-123';
      const url = await pca.getAuthCodeUrl({ scopes: ['User.Read'], redirectUri, codeChallenge: challenge, codeChallengeMethod: 'S256', state, nonce: 'n-456' });
      assert.ok(url.startsWith(`${ts.url}/${a.tenantId}/oauth2/v2.0/authorize?`), url);
      const posted = await signIn(ts.url, url, user.userPrincipalName, user.password);
      assert.equal(posted.status, 302, posted.html.slice(0, 300));
      const back = new URL(posted.location!);
      assert.equal(`${back.origin}${back.pathname}`, new URL(redirectUri).toString().replace(/\?.*$/, ''));
      assert.equal(back.searchParams.get('state'), state);
      const code = back.searchParams.get('code')!;
      const result = await pca.acquireTokenByCode({ code, scopes: ['User.Read'], redirectUri, codeVerifier: verifier, nonce: 'n-456', state }, { code, state });
      return { pca, result };
    }

    test('console client: MSAL signs in, the token reads /me and the tenant API; refresh rotates', async () => {
      const { pca, result } = await codeFlow(CONSOLE_CLIENT_ID, `${ts.url}/`, admin);
      const claims = decodeJwt(result.accessToken);
      assert.equal(claims.azp, CONSOLE_CLIENT_ID);
      assert.equal(claims.tid, a.tenantId);
      assert.equal(claims.oid, admin.id);
      assert.equal(claims.idtyp, 'user');
      assert.match(String(claims.scp), /User\.Read/);
      const id = decodeJwt(result.idToken);
      assert.equal(id.aud, CONSOLE_CLIENT_ID);
      assert.equal(id.nonce, 'n-456');
      assert.equal(result.account?.username, admin.userPrincipalName);
      assert.equal(result.account?.tenantId, a.tenantId);
      const me = await ts.request('GET', '/v1.0/me', { token: result.accessToken });
      assert.equal(me.status, 200);
      assert.equal(me.body.id, admin.id);
      const sharing = await ts.request('GET', '/openmto/v1/sharing', { token: result.accessToken });
      assert.equal(sharing.status, 200, sharing.text);
      assert.deepEqual(sharing.body, { users: [], groups: [], configurations: [] });
      // forceRefresh makes MSAL redeem its cached refresh token (the refresh_token grant).
      const silent = await pca.acquireTokenSilent({ account: result.account!, scopes: ['User.Read'], forceRefresh: true });
      assert.notEqual(silent.accessToken, result.accessToken);
      assert.equal((await ts.request('GET', '/v1.0/me', { token: silent.accessToken })).body.id, admin.id);
    });

    test('in a browser: the page keeps its CSP (style, no script), and the post lands on the loopback redirect with a code', { skip: browserSkip }, async () => {
      // The app's loopback listener, as MSAL's desktop flow runs one.
      const landing: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>Signed in</h1>'));
      await new Promise<void>((r) => landing.listen(0, '127.0.0.1', r));
      const redirect = `http://127.0.0.1:${(landing.address() as AddressInfo).port}/callback`;
      const app = await createApp(ts.server.store, ts.clock, a.tenantId, { name: 'browser app', permissions: [], publicClient: true });
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
      try {
        const context = await browser.newContext({ ignoreHTTPSErrors: true });
        const page = await context.newPage();
        const violations: string[] = [];
        page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) violations.push(m.text()); });
        const { verifier, challenge } = pkce();
        await page.goto(authorizeUrl(ts.url, a.tenantId, { client_id: app.clientId, redirect_uri: redirect, code_challenge: challenge, code_challenge_method: 'S256', state: 'b1' }));
        assert.match((await page.locator('h1').textContent()) ?? '', /Sign in to Contoso Console/);
        // The hashed inline style applies (a blocked style would leave the button unpadded).
        assert.notEqual(await page.locator('#signin').evaluate((b) => (globalThis as unknown as { getComputedStyle(e: unknown): { paddingTop: string } }).getComputedStyle(b).paddingTop), '0px');
        await page.getByLabel('User name').fill(admin.userPrincipalName);
        await page.getByLabel('Password').fill('wrong');
        await page.click('#signin');
        assert.match((await page.getByRole('alert').textContent()) ?? '', /invalid username or password/);
        await page.getByLabel('Password').fill(admin.password);
        await Promise.all([page.waitForURL(/\/callback\?/), page.click('#signin')]);
        const back = new URL(page.url());
        assert.equal(back.searchParams.get('state'), 'b1');
        assert.deepEqual(violations, []);
        const res = await fetch(`${ts.url}/${a.tenantId}/oauth2/v2.0/token`, {
          method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code', client_id: app.clientId, code: back.searchParams.get('code')!, redirect_uri: redirect, code_verifier: verifier }),
        });
        assert.equal(res.status, 200);
      } finally {
        await browser.close();
        landing.close();
      }
    });

    test('a registered public app with a loopback redirect URI (MSAL desktop style)', async () => {
      const app = await createApp(ts.server.store, ts.clock, a.tenantId, { name: 'desktop', permissions: [], publicClient: true });
      const member = await ts.user(a.tenantId, { displayName: 'Mo Member' });
      const { result } = await codeFlow(app.clientId, 'http://localhost:53123/callback', member);
      assert.equal(decodeJwt(result.accessToken).azp, app.clientId);
      assert.equal((await ts.request('GET', '/v1.0/me', { token: result.accessToken })).body.id, member.id);
      // A plain member signs in fine but the tenant API is for admins.
      const denied = await ts.request('GET', '/openmto/v1/sharing', { token: result.accessToken });
      assert.equal(denied.status, 403);
      assert.equal(denied.body.error.code, 'Authorization_RequestDenied');
    });
  });
}
