// The recycle bin: /directory/deletedItems listing (OData cast required), get, restore and permanent
// delete, permissions, and the 30-day purge against a moving clock.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@microsoft/microsoft-graph-client';
import { purgeExpiredUsers } from '../../src/directory/users.js';
import { dialects, graphClient, iterateAll, startTestServer, type TestServer, type TestTenant } from '../helpers/harness.js';
import { tenantKeyOf } from '../../src/store/repos/tenantKeys.js';

const DAY = 86_400_000;

for (const dialect of dialects()) {
  describe(`Graph deleted items (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    let sdk: Client;
    before(async () => {
      ts = await startTestServer(dialect);
      a = await ts.tenant('Contoso');
      sdk = graphClient(ts, a.adminToken);
    });
    after(() => ts.close());

    test('the OData cast is required', async () => {
      const r = await ts.request('GET', '/v1.0/directory/deletedItems', { token: a.adminToken });
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, 'Request_UnsupportedQuery');
      assert.equal(r.body.error.message, 'Searches against this resource are not supported. Only specific instances can be queried.');
      const unknownCast = await ts.request('GET', '/v1.0/directory/deletedItems/microsoft.graph.contact', { token: a.adminToken });
      assert.equal(unknownCast.status, 400);
    });

    test('list, get, restore and permanently delete soft-deleted users', async () => {
      const t = await ts.tenant('Recycle');
      const c = graphClient(ts, t.adminToken);
      const names = ['Ava Adams', 'Ben Brown', 'Cy Clark'];
      const ids: string[] = [];
      for (const displayName of names) ids.push((await ts.user(t.tenantId, { displayName })).id);
      const live = await ts.user(t.tenantId, { displayName: 'Still Here' });
      for (const id of ids) await c.api(`/users/${id}`).delete();

      const first = await c.api('/directory/deletedItems/microsoft.graph.user').top(2).get();
      assert.match(first['@odata.context'], /\$metadata#directoryObjects\/microsoft\.graph\.user$/);
      assert.equal(first.value.length, 2);
      assert.ok(first['@odata.nextLink'].startsWith(`${ts.url}/v1.0/directory/deletedItems/microsoft.graph.user?`));
      const all = (await iterateAll(c, first)) as { id: string; deletedDateTime: string; userPrincipalName: string }[];
      assert.deepEqual(all.map((u) => u.id).sort(), [...ids].sort());
      assert.ok(all.every((u) => !Number.isNaN(Date.parse(u.deletedDateTime)) && u.userPrincipalName));
      const desc = await c.api('/directory/deletedItems/microsoft.graph.user').orderby('displayName desc').get();
      assert.deepEqual(desc.value.map((u: { displayName: string }) => u.displayName), ['Cy Clark', 'Ben Brown', 'Ava Adams']);
      const tooBig = await ts.request('GET', '/v1.0/directory/deletedItems/microsoft.graph.user?$top=1000', { token: t.adminToken });
      assert.equal(tooBig.status, 400);
      const counted = await ts.request('GET', '/v1.0/directory/deletedItems/microsoft.graph.user/$count', { token: t.adminToken, headers: { ConsistencyLevel: 'eventual' } });
      assert.equal(counted.text, '3');

      const one = await c.api(`/directory/deletedItems/${ids[0]}`).get();
      assert.equal(one['@odata.type'], '#microsoft.graph.user');
      assert.equal(one.displayName, 'Ava Adams');
      assert.ok(one.deletedDateTime);
      assert.equal((await ts.request('GET', `/v1.0/directory/deletedItems/${live.id}`, { token: t.adminToken })).status, 404);
      assert.deepEqual((await c.api('/directory/deletedItems/microsoft.graph.group').get()).value, []);

      // Restore documented without a body; clients send the JSON content type anyway.
      const restored = await ts.request('POST', `/v1.0/directory/deletedItems/${ids[0]}/restore`, {
        token: t.adminToken, headers: { 'content-type': 'application/json' },
      });
      assert.equal(restored.status, 200);
      assert.equal(restored.body['@odata.type'], '#microsoft.graph.user');
      assert.equal(restored.body.id, ids[0]);
      assert.equal(restored.body.deletedDateTime, null);
      assert.equal((await c.api(`/users/${ids[0]}`).get()).displayName, 'Ava Adams');
      const viaSdk = await c.api(`/directory/deletedItems/${ids[1]}/restore`).post({});
      assert.equal(viaSdk.id, ids[1]);

      await c.api(`/directory/deletedItems/${ids[2]}`).delete();
      for (const [method, path] of [['GET', `/v1.0/directory/deletedItems/${ids[2]}`], ['POST', `/v1.0/directory/deletedItems/${ids[2]}/restore`],
        ['DELETE', `/v1.0/directory/deletedItems/${ids[2]}`], ['GET', `/v1.0/users/${ids[2]}`]] as const) {
        const r = await ts.request(method, path, { token: t.adminToken });
        assert.equal(r.status, 404, `${method} ${path}`);
        assert.equal(r.body.error.code, 'Request_ResourceNotFound');
      }
      // A live user can't be "restored" or purged through the recycle bin.
      assert.equal((await ts.request('POST', `/v1.0/directory/deletedItems/${live.id}/restore`, { token: t.adminToken })).status, 404);
      assert.equal((await ts.request('DELETE', `/v1.0/directory/deletedItems/${live.id}`, { token: t.adminToken })).status, 404);
      assert.deepEqual((await c.api('/directory/deletedItems/microsoft.graph.user').get()).value, []);
    });

    test('permissions', async () => {
      const u = await ts.user(a.tenantId);
      await sdk.api(`/users/${u.id}`).delete();
      const list = '/v1.0/directory/deletedItems/microsoft.graph.user';
      const groupOnly = await ts.appToken(a.tenantId, ['Group.Read.All']);
      const userRead = await ts.appToken(a.tenantId, ['User.Read.All']);
      assert.equal((await ts.request('GET', list, { token: groupOnly })).status, 403);
      assert.equal((await ts.request('GET', list, { token: userRead })).status, 200);
      assert.equal((await ts.request('POST', `/v1.0/directory/deletedItems/${u.id}/restore`, { token: userRead })).status, 403);
      assert.equal((await ts.request('DELETE', `/v1.0/directory/deletedItems/${u.id}`, { token: userRead })).status, 403);
      const member = await ts.userToken(a.tenantId, await ts.user(a.tenantId));
      assert.equal((await ts.request('GET', list, { token: member })).status, 200);
      assert.equal((await ts.request('POST', `/v1.0/directory/deletedItems/${u.id}/restore`, { token: member })).status, 403);
      const guest = await ts.userToken(a.tenantId, await ts.user(a.tenantId, { userType: 'Guest' }));
      assert.equal((await ts.request('GET', list, { token: guest })).status, 403);
      assert.equal((await ts.request('GET', `/v1.0/directory/deletedItems/${u.id}`, { token: guest })).status, 403);
      const other = await ts.tenant('Other');
      assert.equal((await ts.request('GET', `/v1.0/directory/deletedItems/${u.id}`, { token: other.adminToken })).status, 404);
    });
  });

  describe(`30-day retention (${dialect})`, () => {
    let ts: TestServer;
    before(async () => {
      ts = await startTestServer(dialect);
    });
    after(() => ts.close());

    test('a user deleted 31 days ago is purged; one deleted 29 days ago restores with id, UPN and memberships', async () => {
      const t = await ts.tenant('Retention');
      const c = graphClient(ts, t.adminToken);
      const g = await c.api('/groups').post({ displayName: 'Keepers', mailNickname: 'keepers' });
      const old = await ts.user(t.tenantId);
      const recent = await ts.user(t.tenantId);
      for (const u of [old, recent]) await c.api(`/groups/${g.id}/members/$ref`).post({ '@odata.id': `${ts.url}/v1.0/directoryObjects/${u.id}` });
      await c.api(`/users/${old.id}`).delete();
      ts.clock.advance(2 * DAY);
      await graphClient(ts, await ts.appToken(t.tenantId, ['User.ReadWrite.All'])).api(`/users/${recent.id}`).delete();
      ts.clock.advance(29 * DAY);

      assert.equal(await purgeExpiredUsers({ store: ts.server.store, clock: ts.clock }, t.tenantId), 1);
      // Tokens issued before the clock moved have expired; take a fresh one.
      const fresh = graphClient(ts, await ts.appToken(t.tenantId, ['Directory.ReadWrite.All']));
      const token = await ts.appToken(t.tenantId, ['Directory.ReadWrite.All']);
      assert.equal((await ts.request('GET', `/v1.0/directory/deletedItems/${old.id}`, { token })).status, 404);
      const bin = await fresh.api('/directory/deletedItems/microsoft.graph.user').get();
      assert.deepEqual(bin.value.map((u: { id: string }) => u.id), [recent.id]);
      assert.equal((await fresh.api(`/groups/${g.id}/members`).get()).value.length, 0);

      const restored = await fresh.api(`/directory/deletedItems/${recent.id}/restore`).post({});
      assert.equal(restored.id, recent.id);
      assert.equal(restored.userPrincipalName, recent.userPrincipalName);
      const members = await fresh.api(`/groups/${g.id}/members`).get();
      assert.deepEqual(members.value.map((m: { id: string }) => m.id), [recent.id]);
      const memberOf = await fresh.api(`/users/${recent.id}/memberOf`).get();
      assert.deepEqual(memberOf.value.map((m: { id: string }) => m.id), [g.id]);
      const log = await ts.server.store.db.selectFrom('change_log').select('change').where('tenant_no', '=', tenantKeyOf(t.tenantId))
        .where('object_id', '=', old.id).orderBy('seq').execute();
      assert.deepEqual(log.map((r) => r.change), ['created', 'softDeleted', 'deleted']);
    });
  });
}
