// Hostile input, one regression per defect class: each request once answered 500 (or did harm) and
// must now be a clean 4xx in Graph's or OAuth's shape that writes nothing. The fuzz suite (test/fuzz)
// searches the same space at random; these pin the known cases. Wire-level cases (431, malformed
// headers, logging, request ids) are in robustness-wire.test.ts.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { isDomainError } from '../../src/domain/errors.js';
import { newObjectId } from '../../src/domain/ids.js';
import { usersRepo } from '../../src/store/repos/users.js';
import { changesRepo } from '../../src/store/repos/changes.js';
import { dialects, startTestServer, type TestResponse, type TestServer, type TestTenant } from '../helpers/harness.js';
import { tenantKeyOf } from '../../src/store/repos/tenantKeys.js';

const eventual = { consistencylevel: 'eventual' };
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function graphError(res: TestResponse, status: number, code?: string, message?: RegExp) {
  assert.equal(res.status, status, `status of ${res.text.slice(0, 300)}`);
  assert.equal(typeof res.body?.error?.message, 'string', `Graph shape: ${res.text.slice(0, 300)}`);
  if (code) assert.equal(res.body.error.code, code, res.text.slice(0, 300));
  if (message) assert.match(res.body.error.message, message);
  assert.ok(res.body.error.innerError?.['request-id']);
}

function oauthError(res: TestResponse, error = 'invalid_request') {
  assert.equal(res.status, 400, res.text.slice(0, 300));
  assert.equal(res.body?.error, error, res.text.slice(0, 300));
  assert.equal(typeof res.body.error_description, 'string');
}

for (const dialect of dialects()) {
  describe(`robustness: hostile input (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    const snapshot = async () => ({
      users: Number((await ts.server.store.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n'))
        .where('tenant_no', '=', tenantKeyOf(a.tenantId)).executeTakeFirstOrThrow()).n),
      seq: await changesRepo.head(ts.server.store.db, a.tenantId),
    });
    const refused = async (method: string, path: string, opts: Parameters<TestServer['request']>[2] = {}) => {
      const before = await snapshot();
      const res = await ts.request(method, path, { token: a.adminToken, ...opts });
      assert.deepEqual(await snapshot(), before, `nothing written by ${method} ${path}`);
      return res;
    };
    const newUser = (over: Record<string, unknown> = {}) => ({
      accountEnabled: true, displayName: 'Robust', mailNickname: 'robust', userPrincipalName: `robust@${a.domain}`,
      passwordProfile: { password: 'Str0ng!Passw0rd' }, ...over,
    });

    before(async () => {
      ts = await startTestServer(dialect);
      a = await ts.tenant('Robust');
      for (let i = 0; i < 3; i++) await ts.user(a.tenantId, { displayName: `Person ${i}` });
    });
    after(() => ts.close());

    test('1. Object.prototype names as body properties: 400 on every body parser, nothing written', async () => {
      const existing = await ts.user(a.tenantId);
      for (const name of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__']) {
        const body = JSON.parse(`{"${name}": "x", "displayName": "P"}`);
        graphError(await refused('POST', '/v1.0/users', { body: { ...newUser(), ...body } }), 400);
        graphError(await refused('PATCH', `/v1.0/users/${existing.id}`, { body }), 400);
        graphError(await refused('POST', '/v1.0/groups', { body: { ...body, mailEnabled: false, mailNickname: 'g', securityEnabled: true } }), 400);
        graphError(await refused('POST', '/v1.0/invitations', { body: { ...body, invitedUserEmailAddress: 'g@example.com', inviteRedirectUrl: 'https://example.com' } }), 400);
        graphError(await refused('PATCH', '/v1.0/policies/crossTenantAccessPolicy/default', { body }), 400);
        // Nested too: inside passwordProfile.
        graphError(await refused('POST', '/v1.0/users', { body: newUser({ passwordProfile: JSON.parse(`{"password":"Str0ng!Passw0rd","${name}":1}`) }) }), 400);
      }
    });

    test('2. unbounded recursion: deep $filter, $search and JSON bodies are 400s', async () => {
      const deep = (n: number) => `${'('.repeat(n)}displayName eq 'a'${')'.repeat(n)}`;
      graphError(await ts.request('GET', `/v1.0/users?$filter=${encodeURIComponent(deep(2000))}`, { token: a.adminToken }), 400, undefined, /nested more than 32/);
      graphError(await ts.request('GET', `/v1.0/users?$filter=${encodeURIComponent(`${'not '.repeat(2000)}displayName eq 'a'`)}`, { token: a.adminToken }), 400);
      const chain = Array.from({ length: 600 }, (_, i) => `id eq ${i}`).join(' or ');
      graphError(await ts.request('GET', `/v1.0/users?$filter=${encodeURIComponent(chain)}`, { token: a.adminToken }), 400, undefined, /more than 500 terms/);
      graphError(await ts.request('GET', `/v1.0/users?$search=${encodeURIComponent(`${'('.repeat(2000)}"displayName:a"${')'.repeat(2000)}`)}`, { token: a.adminToken, headers: eventual }), 400);
      // Just inside the bound still works.
      assert.equal((await ts.request('GET', `/v1.0/users?$filter=${encodeURIComponent(deep(31))}`, { token: a.adminToken })).status, 200);
      const deepBody = `{"requests":[{"id":"1","method":"POST","url":"/users","body":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}]}`;
      graphError(await refused('POST', '/v1.0/$batch', { body: deepBody }), 400, undefined, /nested more than 64/);
      graphError(await refused('POST', '/v1.0/users', { body: `${'['.repeat(100_000)}${']'.repeat(100_000)}` }), 400);
    });

    test('3. repeated options are a 400; a long or duplicated $select is bounded and served on both stores', async () => {
      for (const name of ['$filter', '$search', '$select', '$orderby', '$top']) {
        const res = await ts.request('GET', `/v1.0/users?${name}=a&${name}=b`, { token: a.adminToken, headers: eventual });
        graphError(res, 400, 'BadRequest', new RegExp(`'\\${name}' was specified more than once`));
      }
      const dupes = Array.from({ length: 400 }, () => 'displayName').join(',');
      const res = await ts.request('GET', `/v1.0/users?$select=${dupes},id`, { token: a.adminToken });
      assert.equal(res.status, 200, res.text.slice(0, 300));
      assert.deepEqual(Object.keys(res.body.value[0]), ['displayName', 'id']);
      graphError(await ts.request('GET', `/v1.0/users?$select=${Array.from({ length: 501 }, () => 'id').join(',')}`, { token: a.adminToken }), 400);
      // More properties than one JSON builder call takes on PostgreSQL (100 arguments): served in full.
      const all = ['accountEnabled', 'ageGroup', 'businessPhones', 'city', 'companyName', 'country', 'department', 'displayName',
        'employeeId', 'employeeType', 'employeeHireDate', 'faxNumber', 'givenName', 'identities', 'jobTitle', 'mail', 'mailNickname',
        'mobilePhone', 'officeLocation', 'otherMails', 'passwordPolicies', 'postalCode', 'preferredLanguage', 'showInAddressList',
        'state', 'streetAddress', 'surname', 'usageLocation', 'userPrincipalName', 'userType', 'externalUserState', 'id',
        'createdDateTime', 'creationType', 'deletedDateTime', 'externalUserStateChangeDateTime', 'proxyAddresses', 'imAddresses',
        'onPremisesSyncEnabled', 'lastPasswordChangeDateTime', 'securityIdentifier', 'signInSessionsValidFromDateTime'];
      const wide = await ts.request('GET', `/v1.0/users?$top=2&$select=${all.join(',')}`, { token: a.adminToken });
      assert.equal(wide.status, 200, wide.text.slice(0, 300));
      assert.deepEqual(Object.keys(wide.body.value[0]), all);
      const one = await ts.request('GET', `/v1.0/users/${wide.body.value[0].id}`, { token: a.adminToken });
      assert.equal(wide.body.value[0].displayName, one.body.displayName);
      assert.ok(wide.body['@odata.nextLink']);
    });

    test('4. tampered $skiptoken and delta tokens are 400s', async () => {
      const tokens = [
        { v: 1, c: { kind: 'offset', offset: 1e15 } }, { v: 1, c: { kind: 'offset', offset: -1 } }, { v: 1, c: { kind: 'offset', offset: 2 ** 31 } },
        { v: 1, c: { kind: 'after', branch: 0, key: 5, id: 'x' } }, { v: 1, c: { kind: 'after', branch: 0, key: null, id: { a: 1 } } },
        { v: 1, c: { kind: 'after', branch: 1e9, key: null, id: 'x' } }, { v: 1, c: { kind: 'after', branch: 0, key: 'a\u0000', id: 'x' } },
        { v: 1, c: [] }, { v: 1 }, 'x',
      ];
      for (const t of tokens) {
        graphError(await ts.request('GET', `/v1.0/users?$skiptoken=${b64(t)}`, { token: a.adminToken }), 400, 'Request_BadRequest');
        graphError(await ts.request('GET', `/v1.0/users?$orderby=displayName&$skiptoken=${b64(t)}`, { token: a.adminToken, headers: eventual }), 400);
      }
      const start = await ts.request('GET', '/v1.0/users/delta', { token: a.adminToken });
      const state = JSON.parse(Buffer.from(new URL(start.body['@odata.deltaLink']).searchParams.get('$deltatoken') ?? '', 'base64url').toString());
      for (const bad of [{ ...state, s: ['constructor'] }, { ...state, p: { k: 'init', a: 'a\u0000' } }, { ...state, f: ['\u0000'] }, { ...state, w: 1e300 }]) {
        graphError(await ts.request('GET', `/v1.0/users/delta?$deltatoken=${b64(bad)}`, { token: a.adminToken }), 400);
      }
    });

    test('6. header-unsafe inviteRedirectUrl is refused at the edge', async () => {
      for (const url of ['https://example.com/\r\nSet-Cookie: a=b', 'https://example.com/\ta', 'https://example.com/ä', 'javascript:alert(1)', 'https://exa mple.com/']) {
        graphError(await refused('POST', '/v1.0/invitations', { body: { invitedUserEmailAddress: 'crlf@example.com', inviteRedirectUrl: url } }), 400, undefined, /inviteRedirectUrl/);
      }
    });

    test('6. a header-unsafe inviteRedirectUrl already stored never breaks the redeem URL', async () => {
      const inv = await ts.request('POST', '/v1.0/invitations', { token: a.adminToken, body: { invitedUserEmailAddress: 'stored@elsewhere.example', inviteRedirectUrl: 'https://example.com/ok', sendInvitationMessage: false } });
      assert.equal(inv.status, 201, inv.text);
      // Stored before the edge checked it: CR/LF in the ticket's redirect URL (JSON-escaped in the stored text).
      await sql`update tenant_documents set data = replace(data, ${'https://example.com/ok'}, ${'https://example.com/ok\\r\\nSet-Cookie: a=b'}) where tenant_id = ${a.tenantId}`.execute(ts.server.store.db);
      const patched = await ts.request('PATCH', `/v1.0/users/${inv.body.invitedUser.id}`, { token: a.adminToken, body: { externalUserState: 'Accepted' } });
      assert.equal(patched.status, 204, patched.text);
      const res = await fetch(inv.body.inviteRedeemUrl, { redirect: 'manual' });
      assert.equal(res.status, 302);
      assert.equal(res.headers.get('set-cookie'), null);
      assert.match(res.headers.get('location') ?? '', /^https:\/\/example\.com\/ok[\x21-\x7e]*$/);
    });

    test('7. nested $batch by any spelling is refused; the rest of a batch still runs', async () => {
      for (const url of ['/$batch', '/./$batch', '/users/../$batch', '/%24batch', '/v1.0/$batch', '//$batch', '/users/%2e%2e/$batch']) {
        const res = await ts.request('POST', '/v1.0/$batch', { token: a.adminToken, body: { requests: [{ id: '1', method: 'POST', url, body: { requests: [] } }] } });
        graphError(res, 400, 'BadRequest', /nested|batch/);
      }
      const res = await ts.request('POST', '/v1.0/$batch', { token: a.adminToken, body: { requests: [
        { id: '1', method: 'GET', url: '/users/../users?$top=1' },
        { id: '2', method: 'GET', url: '/users', headers: { 'x-bad\r\n': 'v' } },
      ] } });
      graphError(res, 400, 'BadRequest', /Invalid batch payload/);
      const ok = await ts.request('POST', '/v1.0/$batch', { token: a.adminToken, body: { requests: [{ id: '1', method: 'GET', url: '/users/../users?$top=1' }] } });
      assert.equal(ok.body.responses[0].status, 200);
    });

    test('7. a batch stops running requests once its responses pass 32 MB; the rest are answered 413', async () => {
      // 700 users of ~14 KB each (fifty 250-character otherMails), written straight through the repository.
      const template = await usersRepo.get(ts.server.store.db, a.tenantId, (await ts.user(a.tenantId)).id);
      assert.ok(template);
      const otherMails = Array.from({ length: 50 }, (_, i) => `${String(i).padStart(2, '0')}${'m'.repeat(236)}@example.com`);
      const records = Array.from({ length: 700 }, (_, i) => {
        const upn = `fat${i}@${a.domain}`;
        return { ...template, user: { ...template.user, id: newObjectId(), userPrincipalName: upn, mailNickname: `fat${i}`, otherMails } };
      });
      await ts.server.store.transaction((db) => usersRepo.insert(db, a.tenantId, records));
      const page = { method: 'GET', url: '/users?$top=999&$select=id,displayName,otherMails' };
      const res = await ts.server.app.inject({
        method: 'POST', url: '/v1.0/$batch', headers: { authorization: `Bearer ${a.adminToken}`, 'content-type': 'application/json' },
        payload: JSON.stringify({ requests: [1, 2, 3, 4, 5, 6].map((n) => ({ id: String(n), ...page })).concat([{ id: '7', ...page, dependsOn: ['6'] } as never]) }),
      });
      assert.equal(res.statusCode, 200);
      const statuses = (JSON.parse(res.payload) as { responses: { status: number; body: { error?: { code: string } } }[] }).responses.map((r) => r.status);
      // Each page is ~9.6 MB: four run (38 MB), then the bound stops the rest; a dependent of a refused one fails 424.
      assert.deepEqual(statuses, [200, 200, 200, 200, 413, 413, 424]);
      await ts.server.store.transaction(async (db) => { for (const r of records) await usersRepo.remove(db, a.tenantId, r.user.id); });
    });

    test('8. token endpoint: malformed Basic, repeated and non-string fields are invalid_request', async () => {
      const post = (body: string, headers: Record<string, string> = {}) =>
        ts.request('POST', `/${a.tenantId}/oauth2/v2.0/token`, { body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
      const form = `grant_type=client_credentials&scope=${encodeURIComponent('https://graph.microsoft.com/.default')}`;
      for (const basic of ['Basic %%%', `Basic ${Buffer.from('%zz:%zz').toString('base64')}`, `Basic ${Buffer.from('nocolon').toString('base64')}`, 'Basic']) {
        oauthError(await post(form, { authorization: basic }));
      }
      oauthError(await post(`${form}&client_id=${a.adminApp.clientId}&client_id=${a.adminApp.clientId}&client_secret=x`));
      oauthError(await post(`${form}&client_id=%00`));
      const json = await ts.request('POST', `/${a.tenantId}/oauth2/v2.0/token`, { body: { grant_type: 'client_credentials', client_id: 5, client_secret: ['x'] } });
      oauthError(json);
      // The valid request still works, by form and by Basic.
      const ok = await post(`${form}&client_id=${a.adminApp.clientId}&client_secret=${encodeURIComponent(a.adminApp.clientSecret)}`);
      assert.equal(ok.status, 200, ok.text);
      const basic = Buffer.from(`${encodeURIComponent(a.adminApp.clientId)}:${encodeURIComponent(a.adminApp.clientSecret)}`).toString('base64');
      assert.equal((await post(form, { authorization: `Basic ${basic}` })).status, 200);
    });

    test('9. NUL in literals, ids and bodies is refused on both stores', async () => {
      graphError(await ts.request('GET', `/v1.0/users?$filter=${encodeURIComponent("displayName eq 'a\u0000'")}`, { token: a.adminToken }), 400);
      graphError(await ts.request('GET', `/v1.0/users?$search=${encodeURIComponent('"displayName:a\u0000"')}`, { token: a.adminToken, headers: eventual }), 400);
      graphError(await ts.request('GET', '/v1.0/users/a%00b', { token: a.adminToken }), 400);
      graphError(await ts.request('GET', '/v1.0/groups/%00', { token: a.adminToken }), 400);
      graphError(await refused('POST', '/v1.0/users', { body: newUser({ displayName: 'a\u0000b' }) }), 400, undefined, /NUL/);
    });

    test('9. racing creates of one userPrincipalName: one 201, the others the documented 400', async () => {
      const body = newUser({ userPrincipalName: `race@${a.domain}`, mailNickname: 'race' });
      const results = await Promise.all(Array.from({ length: 8 }, () => ts.request('POST', '/v1.0/users', { token: a.adminToken, body })));
      assert.deepEqual(results.map((r) => r.status).sort(), [201, 400, 400, 400, 400, 400, 400, 400]);
      for (const r of results.filter((x) => x.status === 400)) graphError(r, 400, 'Request_MultipleObjectsWithSameKeyValue');
    });

    test('9. the repository translates a unique violation of the UPN index, whoever checked first', async () => {
      const existing = await usersRepo.get(ts.server.store.db, a.tenantId, `race@${a.domain}`);
      assert.ok(existing);
      const copy = { ...existing, user: { ...existing.user, id: '018f0000-0000-7000-8000-000000000001' } };
      const attempt = ts.server.store.transaction((db) => usersRepo.insert(db, a.tenantId, [copy]));
      await assert.rejects(attempt, (e) => isDomainError(e) && e.code === 'Request_MultipleObjectsWithSameKeyValue' && e.kind === 'badRequest');
      const other = await ts.user(a.tenantId);
      const rename = ts.server.store.transaction(async (db) => {
        const rec = await usersRepo.get(db, a.tenantId, other.id);
        assert.ok(rec);
        await usersRepo.update(db, a.tenantId, { ...rec, user: { ...rec.user, userPrincipalName: `race@${a.domain}` } });
      });
      await assert.rejects(rename, (e) => isDomainError(e) && e.code === 'Request_MultipleObjectsWithSameKeyValue');
      assert.equal((await usersRepo.get(ts.server.store.db, a.tenantId, other.id))?.user.userPrincipalName, other.userPrincipalName);
    });
  });
}
