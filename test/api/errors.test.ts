// Error conformance: every refusal has Graph's (or OAuth's) exact shape and status, and writes nothing.
// Raw requests, so the assertions see the bytes a client would.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { changesRepo } from '../../src/store/repos/changes.js';
import { dialects, startTestServer, type TestResponse, type TestServer, type TestTenant, type TestUser } from '../helpers/harness.js';
import { tenantKeyOf } from '../../src/store/repos/tenantKeys.js';

const eventual = { consistencylevel: 'eventual' };

/** A Graph error body: status, code, and innerError with an ISO date and the request id. */
function assertGraphError(res: TestResponse, status: number, code: string, message?: RegExp) {
  assert.equal(res.status, status, `status of ${res.text}`);
  assert.match(String(res.headers.get('content-type')), /^application\/json/);
  const e = res.body?.error;
  assert.ok(e, `Graph error shape: ${res.text}`);
  assert.equal(e.code, code, res.text);
  assert.equal(typeof e.message, 'string');
  if (message) assert.match(e.message, message);
  assert.match(e.innerError?.date ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  assert.match(e.innerError?.['request-id'] ?? '', /^[0-9a-f-]{36}$/);
  assert.ok(e.innerError?.['client-request-id']);
}

for (const dialect of dialects()) {
  describe(`Graph and OAuth errors (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    let existing: TestUser;
    const newUserBody = (over: Record<string, unknown> = {}) => ({
      accountEnabled: true, displayName: 'New Person', mailNickname: 'newp', userPrincipalName: `newp@${a.domain}`,
      passwordProfile: { password: 'Str0ng!Passw0rd' }, ...over,
    });
    const snapshot = async () => ({
      users: Number((await ts.server.store.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n'))
        .where('tenant_no', '=', tenantKeyOf(a.tenantId)).executeTakeFirstOrThrow()).n),
      seq: await changesRepo.head(ts.server.store.db, a.tenantId),
    });
    /** Runs a refused request and checks that it changed nothing in the tenant. */
    const refused = async (method: string, path: string, opts: Parameters<TestServer['request']>[2] = {}) => {
      const before = await snapshot();
      const res = await ts.request(method, path, { token: a.adminToken, ...opts });
      assert.deepEqual(await snapshot(), before, `nothing written by ${method} ${path}`);
      return res;
    };

    before(async () => {
      ts = await startTestServer(dialect);
      a = await ts.tenant('Errors');
      existing = await ts.user(a.tenantId, { displayName: 'Existing Person' });
    });
    after(() => ts.close());

    test('malformed JSON → 400 BadRequest', async () => {
      const res = await refused('POST', '/v1.0/users', { body: '{"displayName": ' });
      assertGraphError(res, 400, 'BadRequest', /JSON/);
    });

    test('a JSON body sent as text/plain → 415', async () => {
      const res = await refused('POST', '/v1.0/users', { body: JSON.stringify(newUserBody()), headers: { 'content-type': 'text/plain' } });
      assertGraphError(res, 415, 'UnsupportedMediaType');
      const patch = await refused('PATCH', `/v1.0/users/${existing.id}`, { body: '{"jobTitle":"x"}', headers: { 'content-type': 'text/plain' } });
      assertGraphError(patch, 415, 'UnsupportedMediaType');
    });

    test('unknown, read-only and missing properties → 400', async () => {
      assertGraphError(await refused('POST', '/v1.0/users', { body: newUserBody({ favouriteColour: 'blue' }) }), 400, 'Request_BadRequest', /favouriteColour/);
      assertGraphError(await refused('POST', '/v1.0/users', { body: newUserBody({ id: existing.id }) }), 400, 'Request_BadRequest', /'id' is read-only/);
      assertGraphError(
        await refused('PATCH', `/v1.0/users/${existing.id}`, { body: { proxyAddresses: ['SMTP:x@y.test'] } }), 400, 'Request_BadRequest', /proxyAddresses/,
      );
      const { mailNickname: _m, ...noNickname } = newUserBody();
      assertGraphError(await refused('POST', '/v1.0/users', { body: noNickname }), 400, 'Request_BadRequest', /mailNickname/);
      assertGraphError(await refused('POST', '/v1.0/users', { body: newUserBody({ accountEnabled: 'yes' }) }), 400, 'Request_BadRequest', /accountEnabled/);
      assertGraphError(await refused('POST', '/v1.0/users', { body: [newUserBody()] }), 400, 'Request_BadRequest');
    });

    test('UPN with bad characters, an unverified domain, or a duplicate → 400', async () => {
      assertGraphError(
        await refused('POST', '/v1.0/users', { body: newUserBody({ userPrincipalName: `new person@${a.domain}` }) }),
        400, 'Request_BadRequest', /userPrincipalName/,
      );
      assertGraphError(
        await refused('POST', '/v1.0/users', { body: newUserBody({ userPrincipalName: 'newp@not-ours.example' }) }),
        400, 'Request_BadRequest', /verified domain/,
      );
      // Graph answers a UPN collision with 400 and an ObjectConflict detail naming the property.
      const dup = await refused('POST', '/v1.0/users', { body: newUserBody({ userPrincipalName: existing.userPrincipalName.toUpperCase() }) });
      assertGraphError(dup, 400, 'Request_MultipleObjectsWithSameKeyValue', /userPrincipalName already exists/);
      assert.equal(dup.body.error.details?.[0]?.code, 'ObjectConflict');
      const other = await ts.user(a.tenantId);
      assertGraphError(
        await refused('PATCH', `/v1.0/users/${other.id}`, { body: { userPrincipalName: existing.userPrincipalName } }),
        400, 'Request_MultipleObjectsWithSameKeyValue',
      );
    });

    test('weak password → 400', async () => {
      const res = await refused('POST', '/v1.0/users', { body: newUserBody({ passwordProfile: { password: 'password' } }) });
      assertGraphError(res, 400, 'Request_BadRequest', /complexity/);
      assertGraphError(
        await refused('PATCH', `/v1.0/users/${existing.id}`, { body: { passwordProfile: { password: 'short1A' } } }), 400, 'Request_BadRequest', /complexity/,
      );
    });

    test('query errors: $filter syntax, unsupported property, endsWith, $top, $skip, $search, $count', async () => {
      assertGraphError(await refused('GET', `/v1.0/users?$filter=${encodeURIComponent("displayName eq 'x")}`), 400, 'Request_BadRequest', /filter/i);
      assertGraphError(await refused('GET', `/v1.0/users?$filter=${encodeURIComponent('displayName eq')}`), 400, 'Request_BadRequest');
      assertGraphError(
        await refused('GET', `/v1.0/users?$filter=${encodeURIComponent("aboutMe eq 'x'")}`),
        400, 'Request_UnsupportedQuery', /property 'aboutMe' of resource 'User'/,
      );
      const endsWith = `/v1.0/users?$filter=${encodeURIComponent("endsWith(mail,'@x.test')")}`;
      assertGraphError(await refused('GET', endsWith), 400, 'Request_UnsupportedQuery', /Operator 'endsWith' is not supported/);
      assertGraphError(await refused('GET', endsWith, { headers: eventual }), 400, 'Request_UnsupportedQuery', /endsWith/);
      assert.equal((await refused('GET', `${endsWith}&$count=true`, { headers: eventual })).status, 200);
      for (const top of ['1000', '0', '-1', 'ten']) {
        assertGraphError(await refused('GET', `/v1.0/users?$top=${top}`), 400, 'Request_BadRequest', /page size/);
      }
      assertGraphError(await refused('GET', '/v1.0/users?$skip=5'), 400, 'Request_BadRequest', /\$skip/);
      assertGraphError(
        await refused('GET', `/v1.0/users?$search=${encodeURIComponent('"displayName:ex"')}`),
        400, 'Request_UnsupportedQuery', /ConsistencyLevel: eventual/,
      );
      assertGraphError(await refused('GET', '/v1.0/users/$count'), 400, 'Request_BadRequest', /\$count is not currently supported/);
      assertGraphError(await refused('GET', '/v1.0/users?$skiptoken=garbage'), 400, 'Request_BadRequest', /skiptoken/);
      assertGraphError(await refused('GET', '/v1.0/users?$select=noSuchProperty'), 400, 'Request_BadRequest', /noSuchProperty/);
    });

    test('$count=true without ConsistencyLevel is silently ignored; with it, counted', async () => {
      const plain = await refused('GET', '/v1.0/users?$count=true');
      assert.equal(plain.status, 200);
      assert.equal('@odata.count' in plain.body, false);
      const counted = await refused('GET', '/v1.0/users?$count=true', { headers: eventual });
      assert.equal(counted.body['@odata.count'], counted.body.value.length);
    });

    test('a body over 4 MB → 413', async () => {
      const big = JSON.stringify(newUserBody({ aboutMe: 'x'.repeat(4 * 1024 * 1024 + 10) }));
      assertGraphError(await refused('POST', '/v1.0/users', { body: big }), 413, 'Request_EntityTooLarge');
    });

    test('unknown segment → 400; wrong method on a known path → 405', async () => {
      assertGraphError(await refused('GET', '/v1.0/nothingHere'), 400, 'BadRequest', /segment 'nothingHere'/);
      assertGraphError(await refused('GET', `/v1.0/users/${existing.id}/nothingHere`), 400, 'BadRequest', /nothingHere/);
      assertGraphError(await refused('PUT', `/v1.0/users/${existing.id}`, { body: { jobTitle: 'x' } }), 405, 'BadRequest', /method is not allowed/);
      assertGraphError(await refused('DELETE', '/v1.0/users'), 405, 'BadRequest');
      assertGraphError(await refused('GET', '/v1.0/%E0%A4%A'), 400, 'BadRequest');
    });

    test('missing and malformed bearer tokens → 401 InvalidAuthenticationToken', async () => {
      const none = await refused('GET', '/v1.0/users', { token: '' });
      assertGraphError(none, 401, 'InvalidAuthenticationToken');
      assert.match(String(none.headers.get('www-authenticate')), /^Bearer/);
      assertGraphError(await refused('GET', '/v1.0/users', { token: 'not.a.jwt' }), 401, 'InvalidAuthenticationToken');
      assertGraphError(await refused('POST', '/v1.0/users', { token: '', body: newUserBody() }), 401, 'InvalidAuthenticationToken');
    });

    describe('token endpoint', () => {
      const token = async (tenant: string, form: Record<string, string>) => {
        const res = await fetch(`${ts.url}/${tenant}/oauth2/v2.0/token`, { method: 'POST', body: new URLSearchParams(form) });
        return { status: res.status, body: (await res.json()) as { error: string; error_description: string; error_codes: number[] } };
      };
      const assertOAuth = (r: { status: number; body: Record<string, unknown> }, status: number, error: string, code: number) => {
        assert.equal(r.status, status, JSON.stringify(r.body));
        assert.equal(r.body.error, error);
        assert.match(String(r.body.error_description), new RegExp(`^AADSTS${code}: `));
        assert.deepEqual(r.body.error_codes, [code]);
        assert.ok(r.body.trace_id && r.body.correlation_id && r.body.timestamp);
      };
      const cc = () => ({
        grant_type: 'client_credentials', client_id: a.adminApp.clientId, client_secret: a.adminApp.clientSecret,
        scope: 'https://graph.microsoft.com/.default',
      });

      test('unknown tenant', async () => assertOAuth(await token('no-such-tenant.example', cc()), 400, 'invalid_tenant', 90002));
      test('missing grant_type', async () => {
        const { grant_type: _g, ...form } = cc();
        assertOAuth(await token(a.tenantId, form), 400, 'invalid_request', 900144);
      });
      test('unsupported grant', async () => assertOAuth(await token(a.tenantId, { ...cc(), grant_type: 'implicit' }), 400, 'unsupported_grant_type', 70003));
      test('unknown client', async () => assertOAuth(await token(a.tenantId, { ...cc(), client_id: crypto.randomUUID() }), 400, 'unauthorized_client', 700016));
      test('wrong secret', async () => assertOAuth(await token(a.tenantId, { ...cc(), client_secret: 'wrong' }), 401, 'invalid_client', 7000215));
      test('client credentials without a /.default scope', async () => {
        assertOAuth(await token(a.tenantId, { ...cc(), scope: 'User.Read' }), 400, 'invalid_scope', 1002012);
      });
      test('wrong password', async () => {
        const pub = await ts.userToken(a.tenantId, existing).then(async () =>
          ts.server.store.db.selectFrom('apps').select('client_id').where('tenant_id', '=', a.tenantId).where('public_client', '=', 1).executeTakeFirstOrThrow());
        assertOAuth(await token(a.tenantId, {
          grant_type: 'password', client_id: pub.client_id, username: existing.userPrincipalName, password: 'Wrong-Passw0rd',
          scope: 'https://graph.microsoft.com/.default',
        }), 400, 'invalid_grant', 50126);
        assertOAuth(await token(a.tenantId, {
          grant_type: 'password', client_id: pub.client_id, username: `nobody@${a.domain}`, password: 'Wrong-Passw0rd', scope: 'User.Read',
        }), 400, 'invalid_grant', 50126);
      });
    });
  });
}
