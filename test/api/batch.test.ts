// JSON batching: the Graph SDK's BatchRequestContent/BatchResponseContent and raw JSON, dependsOn
// ordering and 424 on a failed dependency, per-request headers, the caller's permissions, and limits.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BatchRequestContent, BatchResponseContent, type Client } from '@microsoft/microsoft-graph-client';
import { dialects, graphClient, startTestServer, type TestServer, type TestTenant } from '../helpers/harness.js';

for (const dialect of dialects()) {
  describe(`Graph $batch (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    let sdk: Client;
    const batch = (body: unknown, token = a.adminToken, version = 'v1.0') => ts.request('POST', `/${version}/$batch`, { token, body });
    before(async () => {
      ts = await startTestServer(dialect);
      a = await ts.tenant('Contoso');
      sdk = graphClient(ts, a.adminToken);
    });
    after(() => ts.close());

    test('Graph SDK BatchRequestContent → BatchResponseContent', async () => {
      const u = await ts.user(a.tenantId, { displayName: 'Batch Reader' });
      await ts.user(a.tenantId);
      const content = new BatchRequestContent([
        { id: '1', request: new Request(`${ts.url}/users/${u.id}?$select=id,displayName`) },
        // The 3.0.7 SDK leaves the version segment in the URL it strips the host from; tolerated.
        { id: '2', request: new Request(`${ts.url}/v1.0/organization`) },
        {
          id: '3',
          request: new Request(`${ts.url}/groups`, {
            method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ displayName: 'From batch', mailNickname: 'frombatch' }),
          }),
        },
        { id: '4', request: new Request(`${ts.url}/users?$top=1`) },
      ]);
      const raw = await sdk.api('/$batch').post(await content.getContent());
      const responses = new BatchResponseContent(raw);
      // biome-ignore lint/suspicious/noExplicitAny: response bodies are inspected freely
      const json = async (id: string): Promise<any> => {
        const res = responses.getResponseById(id);
        assert.ok(res, `response ${id}`);
        return res.json();
      };
      assert.equal(responses.getResponseById('1')?.status, 200);
      assert.deepEqual(await json('1'), {
        '@odata.context': `${ts.url}/v1.0/$metadata#users(id,displayName)/$entity`, id: u.id, displayName: 'Batch Reader',
      });
      assert.equal((await json('2')).value[0].id, a.tenantId);
      assert.equal(responses.getResponseById('3')?.status, 201);
      const group = await json('3');
      assert.equal((await sdk.api(`/groups/${group.id}`).get()).displayName, 'From batch');
      const page = await json('4');
      assert.ok(page['@odata.nextLink'].startsWith(`${ts.url}/v1.0/users?`), page['@odata.nextLink']);
      assert.deepEqual(raw.responses.map((r: { id: string }) => r.id), ['1', '2', '3', '4']);
    });

    test('dependsOn: create a user, then add it to a group, then count; a failed dependency gets 424', async () => {
      const g = await sdk.api('/groups').post({ displayName: 'Chain', mailNickname: 'chain' });
      const upn = `chain.user@${a.domain}`;
      const r = await batch({
        requests: [
          { id: 'count', method: 'GET', url: `/groups/${g.id}/members/$count`, headers: { ConsistencyLevel: 'eventual' }, dependsOn: ['add'] },
          { id: 'add', method: 'POST', url: `/groups/${g.id}/members/$ref`, headers: { 'Content-Type': 'application/json' },
            body: { '@odata.id': `${ts.url}/v1.0/users/${upn}` }, dependsOn: ['create'] },
          { id: 'create', method: 'POST', url: 'users', body: {
            accountEnabled: true, displayName: 'Chain User', mailNickname: 'chain', userPrincipalName: upn, passwordProfile: { password: 'Passw0rd!long' },
          } },
        ],
      });
      assert.equal(r.status, 200);
      const [count, add, create] = r.body.responses;
      assert.deepEqual([count.id, add.id, create.id], ['count', 'add', 'create']);
      assert.equal(create.status, 201);
      assert.equal(create.headers['Content-Type'].split(';')[0], 'application/json');
      assert.equal(create.body.userPrincipalName, upn);
      assert.equal(add.status, 204);
      assert.equal(count.status, 200);
      assert.equal(count.body, '1');

      const failing = await batch({
        requests: [
          { id: '1', method: 'POST', url: '/users', body: { displayName: 'No UPN' } },
          { id: '2', method: 'PATCH', url: `/groups/${g.id}`, body: { description: 'never' }, dependsOn: ['1'] },
          { id: '3', method: 'GET', url: `/groups/${g.id}?$select=description`, dependsOn: ['2'] },
          { id: '4', method: 'GET', url: '/organization?$select=id' },
        ],
      });
      const [one, two, three, four] = failing.body.responses;
      assert.equal(one.status, 400);
      assert.equal(one.body.error.code, 'Request_BadRequest');
      assert.equal(two.status, 424);
      assert.equal(two.body.error.code, 'FailedDependency');
      assert.equal(three.status, 424);
      assert.equal(four.status, 200);
      assert.equal((await sdk.api(`/groups/${g.id}`).get()).description, null, 'a request behind a failed dependency never runs');
    });

    test('per-request headers and the caller identity apply to each request', async () => {
      const r = await batch({
        requests: [
          { id: 'with', method: 'GET', url: '/users/$count', headers: { ConsistencyLevel: 'eventual' } },
          { id: 'without', method: 'GET', url: '/users/$count' },
          { id: 'search', method: 'GET', url: '/users?$search="displayName:nobody"', headers: { ConsistencyLevel: 'eventual' } },
          { id: 'missing', method: 'GET', url: '/nowhere' },
        ],
      });
      const byId = Object.fromEntries(r.body.responses.map((x: { id: string }) => [x.id, x]));
      assert.equal(byId.with.status, 200);
      assert.match(String(byId.with.body), /^\d+$/);
      assert.equal(byId.without.status, 400);
      assert.equal(byId.without.body.error.message, '$count is not currently supported.');
      assert.equal(byId.search.status, 200);
      assert.equal(byId.missing.status, 400);

      const groupsOnly = await ts.appToken(a.tenantId, ['Group.Read.All']);
      const limited = await batch({ requests: [
        { id: '1', method: 'GET', url: '/groups' },
        { id: '2', method: 'GET', url: '/users', headers: { Authorization: `Bearer ${a.adminToken}` } },
      ] }, groupsOnly);
      assert.equal(limited.status, 200);
      assert.equal(limited.body.responses[0].status, 200);
      assert.equal(limited.body.responses[1].status, 403, 'a per-request Authorization header cannot borrow another identity');
      assert.equal((await batch({ requests: [{ id: '1', method: 'GET', url: '/users' }] }, 'not-a-token')).status, 401);
      const beta = await batch({ requests: [{ id: '1', method: 'GET', url: '/organization' }] }, a.adminToken, 'beta');
      assert.match(beta.body.responses[0].body['@odata.context'], /\/beta\/\$metadata#organization$/);
    });

    test('payload limits and validation', async () => {
      const get = (id: string, extra: Record<string, unknown> = {}) => ({ id, method: 'GET', url: '/organization', ...extra });
      const twenty = await batch({ requests: Array.from({ length: 20 }, (_, i) => get(String(i))) });
      assert.equal(twenty.status, 200);
      assert.equal(twenty.body.responses.length, 20);
      const cases: [unknown, RegExp][] = [
        [{ requests: Array.from({ length: 21 }, (_, i) => get(String(i))) }, /at most 20 requests/],
        [{ requests: [get('1'), get('1')] }, /'1' is used more than once/],
        [{ requests: [get('1', { dependsOn: ['9'] })] }, /depends on '9'/],
        [{ requests: [get('1', { dependsOn: ['2'] }), get('2', { dependsOn: ['1'] })] }, /circular/],
        [{ requests: [get('1', { url: '/$batch', method: 'POST' })] }, /can't be nested/],
        [{ requests: [get('1', { url: 'https://graph.microsoft.com/v1.0/users' })] }, /absolute URL/],
        [{ requests: [get('1', { method: 'TRACE' })] }, /Invalid batch payload format/],
        [{ requests: [] }, /no requests/],
        [{ nothing: true }, /Invalid batch payload format/],
      ];
      for (const [body, message] of cases) {
        const r = await batch(body);
        assert.equal(r.status, 400, JSON.stringify(body).slice(0, 100));
        assert.equal(r.body.error.code, 'BadRequest');
        assert.match(r.body.error.message, message);
      }
    });
  });
}
