// Property: the OAuth endpoints (token, discovery, keys) answer any form, any Basic header and any
// tenant reference with a token or an OAuth-shaped 4xx, never a 5xx; repeated fields, non-form bodies,
// bad percent-escapes and NUL included.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { CONSOLE_CLIENT_ID } from '../../src/identity/console.js';
import { dialects, startTestServer, type TestServer, type TestTenant } from '../helpers/harness.js';
import { encode, hostileJson, hostileString, reporter, SEED } from './arbitraries.js';
import { assertClean } from './surface.js';

const RUNS = Number(process.env.FUZZ_OAUTH_RUNS ?? 800);

for (const dialect of dialects()) {
  describe(`fuzz: OAuth endpoints (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    before(async () => {
      ts = await startTestServer(dialect);
      a = await ts.tenant('OAuth fuzz');
    });
    after(() => ts.close());

    test(`${RUNS} hostile token requests: a token or an OAuth-shaped 4xx`, async () => {
      const value = fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom('client_credentials', 'password', 'authorization_code', a.adminApp.clientId, a.adminApp.clientSecret, 'https://graph.microsoft.com/.default', '') },
        { weight: 2, arbitrary: hostileString },
      );
      const field = fc.constantFrom('grant_type', 'client_id', 'client_secret', 'scope', 'username', 'password', 'claims', '__proto__', 'constructor');
      const form = fc.array(fc.tuple(field, value), { maxLength: 7 }).map((pairs) => pairs.map(([k, v]) => `${k}=${encode(v)}`).join('&'));
      const basic = fc.oneof(
        fc.constant(undefined),
        fc.tuple(hostileString, hostileString).map(([id, secret]) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`),
        fc.tuple(fc.constant(a.adminApp.clientId), fc.constant(a.adminApp.clientSecret)).map(([id, s]) => `Basic ${Buffer.from(`${encode(id)}:${encode(s)}`).toString('base64')}`),
        hostileString.map((s) => `Basic ${s.replace(/[^\x20-\x7e]/g, '')}`),
        fc.constantFrom('Basic', 'Basic ', 'Basic %%%', 'Basic Og==', 'Basic JXp6OiV6eg==', 'Bearer x'),
      );
      const request = fc.record({
        tenant: fc.oneof(fc.constant(a.tenantId), fc.constant(a.domain), hostileString.map(encode)),
        endpoint: fc.constantFrom('oauth2/v2.0/token', 'oauth2/v2.0/token', 'oauth2/v2.0/token', 'v2.0/.well-known/openid-configuration', 'discovery/v2.0/keys', 'oauth2/v2.0/authorize'),
        method: fc.constantFrom('POST', 'POST', 'POST', 'GET'),
        body: fc.oneof(
          { weight: 4, arbitrary: form.map((payload) => ({ type: 'application/x-www-form-urlencoded', payload })) },
          { weight: 1, arbitrary: hostileJson.map((v) => ({ type: 'application/json', payload: JSON.stringify(v) ?? 'null' })) },
          { weight: 1, arbitrary: form.map((payload) => ({ type: 'text/plain', payload })) },
        ),
        basic,
      });
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          const path = `/${r.tenant || '_'}/${r.endpoint}`;
          const headers: Record<string, string> = {};
          if (r.basic !== undefined) headers.authorization = r.basic;
          if (r.method === 'POST') headers['content-type'] = r.body.type;
          const res = await ts.server.app.inject({ method: r.method as 'POST', url: path, headers, ...(r.method === 'POST' ? { payload: r.body.payload } : {}) });
          assertClean(res, `${r.method} ${path}`);
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true, reporter },
      );
    });

    test(`${RUNS} hostile authorize requests: a page, a redirect or a 4xx, never a 5xx`, async () => {
      // inject's requests come in on http://localhost:80, so the console's redirect URI there is http://localhost:80/.
      const origin = `https://127.0.0.1:${ts.port}`;
      const value = (good: string[]) => fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...good, '') }, { weight: 2, arbitrary: hostileString });
      const params = fc.record({
        client_id: value([CONSOLE_CLIENT_ID, a.adminApp.clientId]),
        redirect_uri: value([`${origin}/`, 'http://localhost:80/', 'http://localhost:1234/cb', `${origin}/x?y=1#z`]),
        response_type: value(['code', 'token']),
        scope: value(['openid offline_access User.Read']),
        code_challenge: value(['E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM']),
        code_challenge_method: value(['S256', 'plain']),
        state: value(['s']), prompt: value(['none', 'login']), response_mode: value(['query', 'form_post']),
        csrf: value(['1.x', `9999999999.${'a'.repeat(43)}`]), username: value(['a@b.c']), password: value(['pw']),
      }, { requiredKeys: [] });
      const request = fc.record({ method: fc.constantFrom('GET', 'POST'), params, cookie: fc.option(hostileString.map((x) => `openmto_authorize=${x}`)) });
      await fc.assert(
        fc.asyncProperty(request, async (r) => {
          const qs = Object.entries(r.params).map(([k, v]) => `${k}=${encode(v as string)}`).join('&');
          const path = `/${a.tenantId}/oauth2/v2.0/authorize`;
          const headers: Record<string, string> = r.cookie ? { cookie: r.cookie.replace(/[^\x20-\x7e]/g, '') } : {};
          const res = r.method === 'GET'
            ? await ts.server.app.inject({ method: 'GET', url: `${path}?${qs}`, headers })
            : await ts.server.app.inject({ method: 'POST', url: path, headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' }, payload: qs });
          assertClean(res, `${r.method} ${path}`);
          if (res.statusCode === 302) assert.ok(String(res.headers.location).startsWith(String(r.params.redirect_uri)), 'redirects only to the checked redirect URI');
        }),
        { seed: SEED, numRuns: RUNS, endOnFailure: true, reporter },
      );
    });
  });
}
