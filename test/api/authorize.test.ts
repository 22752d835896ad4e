// The authorization endpoint and the code grant, refusal by refusal: the page and its headers, clients and
// redirect URIs that are never redirected to, request errors sent back to the client, CSRF, the shared
// password check (lockout, disabled users), and codes: PKCE, single use, expiry, tenant, client and
// redirect binding, refresh-token rotation and replay.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { CONSOLE_CLIENT_ID } from '../../src/identity/console.js';
import { createApp } from '../../src/identity/tenants.js';
import { dialects, startTestServer, type TestServer, type TestTenant, type TestUser } from '../helpers/harness.js';
import { authorizeUrl, openPage, pkce, postPage, signIn } from '../helpers/signin.js';

for (const dialect of dialects()) {
  describe(`authorize: code flow with PKCE (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    let b: TestTenant;
    let user: TestUser;
    let console_: string;
    before(async () => {
      ts = await startTestServer(dialect);
      a = await ts.tenant('Alpha <b>Bold</b> & Co');
      b = await ts.tenant('Bravo');
      user = await ts.user(a.tenantId, { displayName: 'Una User' });
      console_ = `${ts.url}/`;
    });
    after(() => ts.close());

    const url = (params: Record<string, string>, tenantId = a.tenantId) => authorizeUrl(ts.url, tenantId, params);
    const consoleParams = (challenge: string, extra: Record<string, string> = {}) => ({
      client_id: CONSOLE_CLIENT_ID, redirect_uri: console_, code_challenge: challenge, code_challenge_method: 'S256', state: 's1', ...extra,
    });
    const token = async (tenantId: string, form: Record<string, string>) => {
      const res = await fetch(`${ts.url}/${tenantId}/oauth2/v2.0/token`, { method: 'POST', body: new URLSearchParams(form) });
      // biome-ignore lint/suspicious/noExplicitAny: OAuth bodies are inspected freely
      return { status: res.status, body: (await res.json()) as any };
    };
    /** Signs `who` in through the console client and returns the code and its verifier. */
    const codeFor = async (who: TestUser = user, extra: Record<string, string> = {}, tenantId = a.tenantId) => {
      const { verifier, challenge } = pkce();
      const posted = await signIn(ts.url, url(consoleParams(challenge, extra), tenantId), who.userPrincipalName, who.password);
      assert.equal(posted.status, 302, posted.html.slice(0, 400));
      const back = new URL(posted.location!);
      return { code: back.searchParams.get('code')!, verifier, state: back.searchParams.get('state') };
    };
    const redeem = (code: string, verifier: string, extra: Record<string, string> = {}, tenantId = a.tenantId) => token(tenantId, {
      grant_type: 'authorization_code', client_id: CONSOLE_CLIENT_ID, code, code_verifier: verifier, redirect_uri: console_, ...extra,
    });

    test('the page: labelled fields, the tenant name escaped, strict headers, a browser cookie', async () => {
      const page = await openPage(url({ ...consoleParams(pkce().challenge), login_hint: user.userPrincipalName }));
      assert.equal(page.status, 200);
      assert.match(page.html, /<label for="username">[^<]+<\/label><input id="username"/);
      assert.match(page.html, /<label for="password">[^<]+<\/label><input id="password" type="password"/);
      assert.match(page.html, /<button type="submit"/);
      assert.ok(page.html.includes('Alpha &lt;b&gt;Bold&lt;/b&gt; &amp; Co'));
      assert.ok(!page.html.includes('<b>Bold'));
      assert.ok(page.html.includes(`value="${user.userPrincipalName}"`), 'login_hint fills the user name');
      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /frame-ancestors 'none'/);
      assert.ok(!csp.includes('unsafe-inline'));
      assert.equal(page.headers.get('x-frame-options'), 'DENY');
      assert.equal(page.headers.get('cache-control'), 'no-store');
      assert.match(page.headers.get('set-cookie') ?? '', /HttpOnly; SameSite=Strict; Secure/);
      assert.ok(!page.html.includes('<script'));
      assert.ok(page.fields.csrf);
    });

    test('discovery advertises the code flow', async () => {
      const d = (await ts.request('GET', `/${a.tenantId}/v2.0/.well-known/openid-configuration`)).body;
      assert.deepEqual(d.response_types_supported, ['code']);
      assert.deepEqual(d.code_challenge_methods_supported, ['S256']);
      assert.ok(d.grant_types_supported.includes('authorization_code') && d.grant_types_supported.includes('refresh_token'));
    });

    test('unknown client, missing or mismatched redirect URI: an error page, never a redirect', async () => {
      const { challenge } = pkce();
      const pub = await createApp(ts.server.store, ts.clock, a.tenantId, { name: 'pub', permissions: [], publicClient: true });
      const cases: [Record<string, string>, RegExp][] = [
        [consoleParams(challenge, { client_id: '00000000-0000-0000-0000-00000000dead' }), /700016/],
        [consoleParams(challenge, { client_id: '' }), /900144/],
        [consoleParams(challenge, { redirect_uri: 'https://evil.example/' }), /50011/],
        [consoleParams(challenge, { redirect_uri: `${ts.url}/other` }), /50011/],
        [consoleParams(challenge, { redirect_uri: '' }), /900144/],
        [consoleParams(challenge, { client_id: pub.clientId, redirect_uri: 'https://evil.example/cb' }), /50011/],
        [consoleParams(challenge, { client_id: pub.clientId, redirect_uri: 'http://localhost.evil.example/cb' }), /50011/],
        [consoleParams(challenge, { client_id: pub.clientId, redirect_uri: 'http://localhost:1/a b' }), /50011/],
        [consoleParams(challenge, { client_id: pub.clientId, redirect_uri: 'http://localhost:1/\u00e9' }), /50011/],
        [consoleParams(challenge, { client_id: pub.clientId, redirect_uri: 'http://localhost:1/cb#frag' }), /50011/],
        // A code of tenant B's app asked for at tenant A: unknown there.
        [consoleParams(challenge, { client_id: b.adminApp.clientId }), /700016/],
      ];
      for (const [params, code] of cases) {
        const page = await openPage(url(params));
        assert.equal(page.status, 400, JSON.stringify(params));
        assert.equal(page.headers.get('location'), null);
        assert.match(page.headers.get('content-type') ?? '', /text\/html/);
        assert.match(page.html, /role="alert"/);
        assert.match(page.html, code);
        assert.ok(!page.html.includes('<form'), 'no sign-in form');
      }
      const unknownTenant = await openPage(url(consoleParams(challenge), '00000000-0000-0000-0000-0000000000aa'));
      assert.equal(unknownTenant.status, 400);
      assert.match(unknownTenant.html, /90002/);
    });

    test('other bad parameters go back to the client with error and state', async () => {
      const { challenge } = pkce();
      const cases: [Record<string, string>, string, RegExp][] = [
        [consoleParams(challenge, { code_challenge: '' }), 'invalid_request', /AADSTS9002325/],
        [consoleParams(challenge, { code_challenge_method: 'plain' }), 'invalid_request', /S256/],
        [consoleParams(challenge, { code_challenge_method: '' }), 'invalid_request', /S256/],
        [consoleParams(challenge, { code_challenge: `${challenge}xyz` }), 'invalid_request', /AADSTS501491/],
        [consoleParams(challenge, { response_type: 'token' }), 'unsupported_response_type', /code/],
        [consoleParams(challenge, { scope: '' }), 'invalid_request', /AADSTS900144.*scope/],
        [consoleParams(challenge, { prompt: 'none' }), 'login_required', /AADSTS50058/],
        [consoleParams(challenge, { response_mode: 'fragment' }), 'invalid_request', /query/],
      ];
      for (const [params, error, text] of cases) {
        const res = await fetch(url(params), { redirect: 'manual' });
        assert.equal(res.status, 302, JSON.stringify(params));
        const back = new URL(res.headers.get('location')!);
        assert.equal(`${back.origin}${back.pathname}`, console_);
        assert.equal(back.searchParams.get('error'), error);
        assert.match(back.searchParams.get('error_description') ?? '', text);
        assert.equal(back.searchParams.get('state'), 's1');
        assert.equal(back.searchParams.get('code'), null);
      }
    });

    test('CSRF: no cookie, another cookie, no token or another page\'s token: the page again, no code', async () => {
      const { challenge } = pkce();
      const page = await openPage(url(consoleParams(challenge)));
      const other = await openPage(url(consoleParams(challenge, { state: 'other' })));
      const creds = { username: user.userPrincipalName, password: user.password };
      const attempts = [
        await postPage(ts.url, page, creds, { cookie: null }),
        await postPage(ts.url, page, creds, { cookie: other.cookie! }),
        await postPage(ts.url, page, { ...creds, csrf: '' }),
        await postPage(ts.url, page, { ...creds, csrf: other.fields.csrf! }),
        await postPage(ts.url, page, { ...creds, state: 'tampered' }),
      ];
      for (const r of attempts) {
        assert.equal(r.status, 400);
        assert.equal(r.location, null);
        assert.match(r.html, /role="alert"[^>]*>This sign-in page expired/);
      }
      // The page itself still works.
      assert.equal((await postPage(ts.url, page, creds)).status, 302);
    });

    test('wrong password: the page again with AADSTS50126 in words; ten lock the user for the page and the password grant alike', async () => {
      const victim = await ts.user(a.tenantId);
      const page = await openPage(url(consoleParams(pkce().challenge)));
      const wrong = await postPage(ts.url, page, { username: victim.userPrincipalName, password: 'nope' });
      assert.equal(wrong.status, 400);
      assert.equal(wrong.location, null);
      assert.match(wrong.html, /<p class="error" role="alert" id="error">Error validating credentials due to invalid username or password\. \(50126\)<\/p>/);
      assert.ok(wrong.html.includes(`value="${victim.userPrincipalName}"`), 'the user name is kept');
      for (let i = 0; i < 9; i++) await postPage(ts.url, page, { username: victim.userPrincipalName, password: `nope${i}` });
      const locked = await postPage(ts.url, page, { username: victim.userPrincipalName, password: victim.password });
      assert.equal(locked.location, null);
      assert.match(locked.html, /locked.*\(50053\)/);
      assert.ok(Number(locked.headers.get('retry-after')) > 0);
      const pub = await createApp(ts.server.store, ts.clock, a.tenantId, { name: 'p', permissions: [], publicClient: true });
      const ropc = await token(a.tenantId, { grant_type: 'password', client_id: pub.clientId, username: victim.userPrincipalName, password: victim.password, scope: 'User.Read' });
      assert.equal(ropc.status, 400);
      assert.match(ropc.body.error_description, /^AADSTS50053/);
    });

    test('a disabled user is refused on the page', async () => {
      const off = await ts.user(a.tenantId, { accountEnabled: false });
      const { challenge } = pkce();
      const r = await signIn(ts.url, url(consoleParams(challenge)), off.userPrincipalName, off.password);
      assert.equal(r.location, null);
      assert.match(r.html, /role="alert"[^>]*>The user account is disabled\. \(50057\)/);
    });

    test('a code: redeemed once with its verifier; the answer carries id_token and refresh_token', async () => {
      const { code, verifier, state } = await codeFor(user, { nonce: 'nn' });
      assert.equal(state, 's1');
      const r = await redeem(code, verifier);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.token_type, 'Bearer');
      assert.ok(r.body.expires_in > 0 && r.body.ext_expires_in > 0);
      assert.match(r.body.scope, /User\.Read/);
      const id = decodeJwt(r.body.id_token);
      assert.equal(id.aud, CONSOLE_CLIENT_ID);
      assert.equal(id.nonce, 'nn');
      assert.equal(id.sub, user.id);
      assert.equal(decodeJwt(r.body.access_token).azp, CONSOLE_CLIENT_ID);
      assert.ok(r.body.refresh_token);
      // Only a hash of the code is stored.
      const rows = await ts.server.store.db.selectFrom('authorization_grants').select(['hash', 'data']).where('tenant_id', '=', a.tenantId).execute();
      assert.ok(rows.length >= 2);
      assert.ok(rows.every((x) => x.hash !== code && x.hash !== r.body.refresh_token && !x.data.includes(code)));
      // Refresh: rotated, and the old one is spent.
      const refreshed = await token(a.tenantId, { grant_type: 'refresh_token', client_id: CONSOLE_CLIENT_ID, refresh_token: r.body.refresh_token });
      assert.equal(refreshed.status, 200, JSON.stringify(refreshed.body));
      assert.notEqual(refreshed.body.refresh_token, r.body.refresh_token);
      const replay = await token(a.tenantId, { grant_type: 'refresh_token', client_id: CONSOLE_CLIENT_ID, refresh_token: r.body.refresh_token });
      assert.equal(replay.status, 400);
      assert.equal(replay.body.error, 'invalid_grant');
      // The replay revoked the line: the newest refresh token is dead too.
      const after = await token(a.tenantId, { grant_type: 'refresh_token', client_id: CONSOLE_CLIENT_ID, refresh_token: refreshed.body.refresh_token });
      assert.equal(after.body.error, 'invalid_grant');
    });

    test('a reused code: AADSTS54005, and the refresh token it gave is revoked', async () => {
      const { code, verifier } = await codeFor();
      const first = await redeem(code, verifier);
      assert.equal(first.status, 200);
      const second = await redeem(code, verifier);
      assert.equal(second.status, 400);
      assert.equal(second.body.error, 'invalid_grant');
      assert.match(second.body.error_description, /^AADSTS54005: OAuth2 Authorization code was already redeemed/);
      const refresh = await token(a.tenantId, { grant_type: 'refresh_token', client_id: CONSOLE_CLIENT_ID, refresh_token: first.body.refresh_token });
      assert.equal(refresh.body.error, 'invalid_grant');
    });

    test('a wrong or missing verifier: refused, and the code is burnt', async () => {
      const { code, verifier } = await codeFor();
      assert.match((await redeem(code, '')).body.error_description, /^AADSTS900144.*code_verifier/);
      const wrong = await redeem(code, pkce().verifier);
      assert.equal(wrong.status, 400);
      assert.equal(wrong.body.error, 'invalid_grant');
      assert.match(wrong.body.error_description, /^AADSTS50148/);
      assert.match((await redeem(code, verifier)).body.error_description, /^AADSTS54005/);
    });

    test('an expired code (the test clock, 11 minutes on): AADSTS70008', async () => {
      const { code, verifier } = await codeFor();
      ts.clock.advance(11 * 60 * 1000);
      const r = await redeem(code, verifier);
      assert.equal(r.body.error, 'invalid_grant');
      assert.match(r.body.error_description, /^AADSTS70008/);
    });

    test('a code is bound to its tenant, client and redirect URI', async () => {
      const other = await codeFor();
      const atB = await redeem(other.code, other.verifier, {}, b.tenantId);
      assert.equal(atB.body.error, 'invalid_grant');
      assert.match(atB.body.error_description, /^AADSTS70000/);
      // Not spent by the attempt at B: A still redeems it.
      assert.equal((await redeem(other.code, other.verifier)).status, 200);

      const c1 = await codeFor();
      const pub = await createApp(ts.server.store, ts.clock, a.tenantId, { name: 'thief', permissions: [], publicClient: true });
      assert.match((await redeem(c1.code, c1.verifier, { client_id: pub.clientId })).body.error_description, /^AADSTS70000/);
      const c2 = await codeFor();
      const moved = await redeem(c2.code, c2.verifier, { redirect_uri: `${ts.url}/elsewhere` });
      assert.equal(moved.body.error, 'invalid_grant');
      assert.match(moved.body.error_description, /redirect_uri/);
      assert.match((await redeem('not-a-code', c2.verifier)).body.error_description, /^AADSTS70000/);
    });

    test('a confidential app must send its secret with the code', async () => {
      // Tenant A's admin app is confidential; its code flow goes through its own origin redirect.
      const { verifier, challenge } = pkce();
      const redirect = `${ts.url}/callback`;
      const posted = await signIn(ts.url, url({ client_id: a.adminApp.clientId, redirect_uri: redirect, code_challenge: challenge, code_challenge_method: 'S256' }), user.userPrincipalName, user.password);
      assert.equal(posted.status, 302);
      const code = new URL(posted.location!).searchParams.get('code')!;
      const base = { grant_type: 'authorization_code', client_id: a.adminApp.clientId, code, code_verifier: verifier, redirect_uri: redirect };
      const noSecret = await token(a.tenantId, base);
      assert.equal(noSecret.status, 401);
      assert.equal(noSecret.body.error, 'invalid_client');
      const ok = await token(a.tenantId, { ...base, client_secret: a.adminApp.clientSecret });
      assert.equal(ok.status, 200, JSON.stringify(ok.body));
    });

    test('a guest signs in and gets a token, and the tenant API refuses it', async () => {
      const guest = await ts.user(a.tenantId, { userType: 'Guest' });
      const { code, verifier } = await codeFor(guest);
      const r = await redeem(code, verifier);
      assert.equal(r.status, 200);
      for (const path of ['/openmto/v1/sharing', '/openmto/v1/readiness']) {
        const res = await ts.request('GET', path, { token: r.body.access_token });
        assert.equal(res.status, 403, path);
        assert.equal(res.body.error.code, 'Authorization_RequestDenied');
      }
    });

    test('a user deleted after sign-in cannot redeem the code', async () => {
      const gone = await ts.user(a.tenantId);
      const { code, verifier } = await codeFor(gone);
      assert.equal((await ts.request('DELETE', `/v1.0/users/${gone.id}`, { token: a.adminToken })).status, 204);
      assert.equal((await redeem(code, verifier)).body.error, 'invalid_grant');
    });
  });
}
