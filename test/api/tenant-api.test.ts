// The tenant API (`/openmto/v1`): sharing and readiness for a tenant's own tokens. Who may read and write
// (app permissions, admin roles; members and guests refused), 404 outside an organization, and a token of
// one tenant never reading another's.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@microsoft/microsoft-graph-client';
import { dialects, eventually, graphClient, startTestServer, type TestServer, type TestTenant, type TestUser } from '../helpers/harness.js';

const MTO = '/tenantRelationships/multiTenantOrganization';

for (const dialect of dialects()) {
  describe(`tenant API /openmto/v1 (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    let b: TestTenant;
    let c: TestTenant;
    let annie: TestUser;
    let bob: TestUser;
    const g = (t: TestTenant): Client => graphClient(ts, t.adminToken);
    const call = (method: string, path: string, token: string | undefined, body?: unknown) =>
      ts.request(method, `/openmto/v1${path}`, { ...(token ? { token } : {}), ...(body !== undefined ? { body } : {}) });
    const userWith = async (t: TestTenant, props: Record<string, unknown>) => ts.userToken(t.tenantId, await ts.user(t.tenantId, props));

    before(async () => {
      ts = await startTestServer(dialect, { sync: false });
      [a, b, c] = [await ts.tenant('Alpha'), await ts.tenant('Bravo'), await ts.tenant('Charlie Outside')];
      annie = await ts.user(a.tenantId, { displayName: 'Annie Alpha' });
      bob = await ts.user(b.tenantId, { displayName: 'Bob Bravo' });
      await g(a).api(MTO).put({ displayName: 'Alpha Bravo' });
      await g(a).api(`${MTO}/tenants`).post({ tenantId: b.tenantId, displayName: 'Bravo' });
      await g(b).api(`${MTO}/joinRequest`).patch({ addedByTenantId: a.tenantId });
      await eventually(async () => (await g(b).api(MTO).get()).state === 'active', 'Bravo joined');
    });
    after(() => ts.close());

    test('no token or a bad token: 401 in Graph shape on every route', async () => {
      for (const [method, path] of [['GET', '/sharing'], ['PUT', '/sharing'], ['GET', '/readiness'], ['GET', '/readiness.csv'], ['GET', '/readiness/explain']]) {
        for (const token of [undefined, 'not-a-token']) {
          const r = await call(method!, path!, token, method === 'PUT' ? { users: [], groups: [] } : undefined);
          assert.equal(r.status, 401, `${method} ${path}`);
          assert.equal(r.body.error.code, 'InvalidAuthenticationToken');
        }
      }
    });

    test('sharing: apps by permission, users by role; members and guests refused', async () => {
      const readApp = await ts.appToken(a.tenantId, ['Policy.Read.All']);
      const writeApp = await ts.appToken(a.tenantId, ['Policy.ReadWrite.CrossTenantAccess']);
      const otherApp = await ts.appToken(a.tenantId, ['User.ReadWrite.All']);
      const userAdmin = await userWith(a, { roles: ['User Administrator'] });
      const securityAdmin = await userWith(a, { roles: ['Security Administrator'] });
      const member = await userWith(a, {});
      const guest = await userWith(a, { userType: 'Guest' });

      assert.equal((await call('GET', '/sharing', readApp)).status, 200);
      assert.equal((await call('GET', '/sharing', userAdmin)).status, 200);
      for (const token of [otherApp, member, guest]) {
        const r = await call('GET', '/sharing', token);
        assert.equal(r.status, 403);
        assert.equal(r.body.error.code, 'Authorization_RequestDenied');
      }
      for (const token of [readApp, otherApp, userAdmin, member, guest]) {
        assert.equal((await call('PUT', '/sharing', token, { users: [annie.id], groups: [] })).status, 403);
      }
      assert.deepEqual((await call('GET', '/sharing', readApp)).body.users, [], 'refused writes changed nothing');

      const put = await call('PUT', '/sharing', writeApp, { users: [annie.userPrincipalName], groups: [] });
      assert.equal(put.status, 200, put.text);
      assert.deepEqual(put.body.users, [annie.id]);
      assert.equal(put.body.configurations.length, 1, 'one MTO_Sync_ configuration towards Bravo');
      const bySecurityAdmin = await call('PUT', '/sharing', securityAdmin, { users: [annie.id], groups: [] });
      assert.equal(bySecurityAdmin.status, 200, bySecurityAdmin.text);
      const bad = await call('PUT', '/sharing', writeApp, { users: 'everyone' });
      assert.equal(bad.status, 400);
      assert.equal(typeof bad.body.error.message, 'string');
    });

    test('readiness: the caller\'s organization; 404 outside one; CSV; explain', async () => {
      const reader = await ts.appToken(a.tenantId, ['Directory.Read.All']);
      const r = await call('GET', '/readiness', reader);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.tenants.map((t: { tenantId: string }) => t.tenantId).sort(), [a.tenantId, b.tenantId].sort());
      assert.ok(r.body.people.some((p: { id: string }) => p.id === annie.id));
      const admin = await userWith(b, { roles: ['Global Administrator'] });
      assert.equal((await call('GET', '/readiness', admin)).body.mtoId, r.body.mtoId, 'the same organization from Bravo');
      const csv = await call('GET', '/readiness.csv', reader);
      assert.equal(csv.status, 200);
      assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
      assert.ok(csv.text.includes(annie.userPrincipalName));
      const explain = await call('GET', `/readiness/explain?searcher=${encodeURIComponent(bob.userPrincipalName)}&person=${annie.id}`, reader);
      assert.equal(explain.status, 200, explain.text);
      assert.equal(typeof explain.body.canFind, 'boolean');
      assert.equal((await call('GET', '/readiness/explain?searcher=x', reader)).status, 400);

      for (const token of [await ts.appToken(a.tenantId, ['User.Read.All']), await userWith(a, {}), await userWith(a, { userType: 'Guest' })]) {
        const denied = await call('GET', '/readiness', token);
        assert.equal(denied.status, 403);
        assert.equal(denied.body.error.code, 'Authorization_RequestDenied');
      }
      const outside = await call('GET', '/readiness', await ts.appToken(c.tenantId, ['Directory.Read.All']));
      assert.equal(outside.status, 404);
      assert.equal(outside.body.error.code, 'Request_ResourceNotFound');
      assert.equal((await call('GET', '/readiness.csv', c.adminToken)).status, 404);
    });

    test('a token of one tenant never reads another\'s sharing or readiness', async () => {
      // Charlie's strongest token: its own (empty) sharing, no organization; nothing of Alpha or Bravo.
      const sharing = await call('GET', '/sharing', c.adminToken);
      assert.equal(sharing.status, 200);
      assert.deepEqual(sharing.body, { users: [], groups: [], configurations: [] });
      for (const path of ['/sharing', '/readiness', '/readiness.csv', `/readiness/explain?searcher=${annie.id}&person=${bob.id}`]) {
        const r = await call('GET', path, c.adminToken);
        for (const secret of [a.tenantId, b.tenantId, annie.id, annie.userPrincipalName, 'Alpha Bravo']) {
          if (!path.includes(secret)) assert.ok(!r.text.includes(secret), `${path} leaked ${secret}`);
        }
      }
      // A tenant is not chosen by the URL or the body.
      assert.equal((await call('GET', `/sharing?tenant=${a.tenantId}`, c.adminToken)).body.users.length, 0);
      assert.equal((await ts.request('GET', `/openmto/v1/tenants/${a.tenantId}/sharing`, { token: c.adminToken })).status, 400);
      // Bravo's admin sees Bravo's sharing, not Alpha's.
      assert.deepEqual((await call('GET', '/sharing', b.adminToken)).body.users, []);
    });
  });
}
