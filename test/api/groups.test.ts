// Security groups through the Graph SDK and raw HTTPS: create/read/update/delete, validation, OData
// listing, permissions, members and $ref links, memberOf, directoryObjects, and the change log.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@microsoft/microsoft-graph-client';
import { dialects, graphClient, iterateAll, startTestServer, type TestServer, type TestTenant } from '../helpers/harness.js';
import { tenantKeyOf } from '../../src/store/repos/tenantKeys.js';

const eventual = { ConsistencyLevel: 'eventual' };

for (const dialect of dialects()) {
  describe(`Graph groups (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    let b: TestTenant;
    let sdk: Client;
    const newGroup = async (displayName: string, extra: Record<string, unknown> = {}) =>
      sdk.api('/groups').post({ displayName, mailNickname: displayName.replace(/\W/g, '').toLowerCase(), securityEnabled: true, mailEnabled: false, ...extra });
    const ref = (kind: string, id: string) => ({ '@odata.id': `${ts.url}/v1.0/${kind}/${id}` });
    const groupChanges = async (tenantId: string, id: string) =>
      (await ts.server.store.db.selectFrom('change_log').select(['change', 'props']).where('tenant_no', '=', tenantKeyOf(tenantId))
        .where('object_id', '=', id).orderBy('seq').execute()).map((r) => `${r.change}${r.props ? ` ${r.props}` : ''}`);

    before(async () => {
      ts = await startTestServer(dialect);
      a = await ts.tenant('Contoso');
      b = await ts.tenant('Fabrikam');
      sdk = graphClient(ts, a.adminToken);
    });
    after(() => ts.close());

    test('create, read, update and permanently delete a security group', async () => {
      const g = await newGroup('Engineering', { description: 'Builds things', groupTypes: [] });
      assert.match(g['@odata.context'], /\$metadata#groups\/\$entity$/);
      assert.equal(g.displayName, 'Engineering');
      assert.equal(g.securityEnabled, true);
      assert.equal(g.mailEnabled, false);
      assert.deepEqual(g.groupTypes, []);
      assert.deepEqual(g.proxyAddresses, []);
      assert.equal(g.mail, null);
      assert.equal(g.deletedDateTime, null);
      assert.match(g.securityIdentifier, /^S-1-12-1-\d+-\d+-\d+-\d+$/);
      const got = await sdk.api(`/groups/${g.id}`).select('displayName,description').get();
      assert.deepEqual(Object.keys(got).sort(), ['@odata.context', 'description', 'displayName']);
      await sdk.api(`/groups/${g.id}`).patch({ description: 'Ships things', displayName: 'Eng' });
      const full = await sdk.api(`/groups/${g.id}`).get();
      assert.equal(full.description, 'Ships things');
      assert.equal(full.id, g.id);
      assert.equal(full.securityIdentifier, g.securityIdentifier);
      await sdk.api(`/groups/${g.id}`).delete();
      const gone = await ts.request('GET', `/v1.0/groups/${g.id}`, { token: a.adminToken });
      assert.equal(gone.status, 404);
      assert.equal(gone.body.error.code, 'Request_ResourceNotFound');
      const bin = await sdk.api('/directory/deletedItems/microsoft.graph.group').get();
      assert.deepEqual(bin.value, []);
      assert.deepEqual(await groupChanges(a.tenantId, g.id), ['created', 'updated ["description","displayName"]', 'deleted']);
    });

    test('validation: Microsoft 365 groups, required, unknown, read-only and lengths', async () => {
      const post = (body: unknown) => ts.request('POST', '/v1.0/groups', { token: a.adminToken, body });
      const base = { displayName: 'Valid', mailNickname: 'valid', securityEnabled: true, mailEnabled: false };
      const cases: [unknown, RegExp][] = [
        [{ ...base, groupTypes: ['Unified'], mailEnabled: true }, /Microsoft 365 \('Unified'\)/],
        [{ ...base, groupTypes: ['DynamicMembership'] }, /dynamic/],
        [{ ...base, mailEnabled: true }, /Only security groups/],
        [{ ...base, securityEnabled: false }, /securityEnabled: true/],
        [{ displayName: 'x', securityEnabled: true, mailEnabled: false }, /^Property 'mailNickname' is required when creating the resource\.$/],
        [{ mailNickname: 'x' }, /^Property 'displayName' is required/],
        [{ ...base, color: 'blue' }, /^Property 'color' does not exist on type 'microsoft\.graph\.group'\.$/],
        [{ ...base, id: '00000000-0000-0000-0000-000000000001' }, /^Property 'id' is read-only/],
        [{ ...base, mail: 'x@y.z' }, /^Property 'mail' is read-only/],
        [{ ...base, displayName: 'x'.repeat(257) }, /'displayName' of resource 'Group'/],
        [{ ...base, mailNickname: 'x'.repeat(65) }, /'mailNickname' of resource 'Group'/],
        [{ ...base, mailNickname: 'has space' }, /'mailNickname' of resource 'Group'/],
        [{ ...base, description: 'x'.repeat(1025) }, /'description' of resource 'Group'/],
        [{ ...base, 'owners@odata.bind': [] }, /owners/],
        [[base], /JSON object/],
      ];
      for (const [body, message] of cases) {
        const r = await post(body);
        assert.equal(r.status, 400, JSON.stringify(body).slice(0, 80));
        assert.equal(r.body.error.code, 'Request_BadRequest');
        assert.match(r.body.error.message, message);
      }
      assert.equal((await post({ ...base, displayName: 'x'.repeat(256), mailNickname: 'x'.repeat(64), description: 'd'.repeat(1024) })).status, 201);
      const g = await newGroup('Patchable', { isAssignableToRole: false });
      const patch = await ts.request('PATCH', `/v1.0/groups/${g.id}`, { token: a.adminToken, body: { isAssignableToRole: true } });
      assert.equal(patch.status, 400);
      assert.match(patch.body.error.message, /read-only/);
      const unified = await ts.request('PATCH', `/v1.0/groups/${g.id}`, { token: a.adminToken, body: { groupTypes: ['Unified'] } });
      assert.equal(unified.status, 400);
    });

    test('list: $filter, tokenized $search on displayName and description, $count, paging', async () => {
      const t = await ts.tenant('Listing');
      const c = graphClient(ts, t.adminToken);
      const names = ['Sales Team North', 'Sales Team South', 'Marketing', 'FinanceOps', 'Legal'];
      for (const [i, n] of names.entries()) {
        await c.api('/groups').post({ displayName: n, mailNickname: `g${i}`, description: i === 2 ? 'Quarterly campaigns' : null });
      }
      const sales = await c.api('/groups').filter("startsWith(displayName,'sales')").get();
      assert.deepEqual(sales.value.map((g: { displayName: string }) => g.displayName).sort(), ['Sales Team North', 'Sales Team South']);
      const south = await c.api('/groups').header('ConsistencyLevel', 'eventual').search('"displayName:south"').get();
      assert.deepEqual(south.value.map((g: { displayName: string }) => g.displayName), ['Sales Team South']);
      const ops = await c.api('/groups').header('ConsistencyLevel', 'eventual').search('"displayName:ops"').get();
      assert.deepEqual(ops.value.map((g: { displayName: string }) => g.displayName), ['FinanceOps']);
      const desc = await c.api('/groups').header('ConsistencyLevel', 'eventual').search('"description:quarter"').get();
      assert.deepEqual(desc.value.map((g: { displayName: string }) => g.displayName), ['Marketing']);
      const counted = await c.api('/groups').header('ConsistencyLevel', 'eventual').count(true).top(2).get();
      assert.equal(counted['@odata.count'], 5);
      const noSearch = await ts.request('GET', '/v1.0/groups?$search="displayName:sales"', { token: t.adminToken });
      assert.equal(noSearch.status, 400);
      assert.equal(noSearch.body.error.code, 'Request_UnsupportedQuery');
      assert.equal((await ts.request('GET', '/v1.0/groups/$count', { token: t.adminToken, headers: eventual })).text, '5');
      assert.equal((await ts.request('GET', '/v1.0/groups/$count', { token: t.adminToken })).status, 400);
      const first = await c.api('/groups').top(2).select('id,displayName').get();
      assert.ok(first['@odata.nextLink'].startsWith(`${ts.url}/v1.0/groups?`));
      assert.deepEqual(Object.keys(first.value[0]).sort(), ['displayName', 'id']);
      assert.equal((await iterateAll(c, first)).length, 5);
      const ordered = await c.api('/groups').orderby('displayName desc').get();
      assert.equal(ordered.value[0].displayName, 'Sales Team South');
    });

    test('permissions: apps by grant, members read, default guests read by id only, only admins write', async () => {
      const g = await newGroup('Permissions');
      const call = (token: string, method = 'GET', path = '/v1.0/groups', body?: unknown) => ts.request(method, path, { token, ...(body ? { body } : {}) });
      const userRead = await ts.appToken(a.tenantId, ['User.Read.All']);
      const groupRead = await ts.appToken(a.tenantId, ['Group.Read.All']);
      const dirRead = await ts.appToken(a.tenantId, ['Directory.Read.All']);
      const groupWrite = await ts.appToken(a.tenantId, ['Group.ReadWrite.All']);
      const memberWrite = await ts.appToken(a.tenantId, ['GroupMember.ReadWrite.All']);
      assert.equal((await call(userRead)).status, 403);
      assert.equal((await call(userRead)).body.error.code, 'Authorization_RequestDenied');
      assert.equal((await call(groupRead)).status, 200);
      assert.equal((await call(dirRead)).status, 200);
      assert.equal((await call(groupRead, 'GET', `/v1.0/groups/${g.id}/members`)).status, 200);
      const memberRead = await ts.appToken(a.tenantId, ['GroupMember.Read.All']);
      assert.equal((await call(memberRead, 'GET', `/v1.0/groups/${g.id}/members`)).status, 200);
      assert.equal((await call(memberRead, 'GET', `/v1.0/groups/${g.id}`)).status, 403);
      assert.equal((await call(groupRead, 'POST', '/v1.0/groups', { displayName: 'n', mailNickname: 'n' })).status, 403);
      assert.equal((await call(groupWrite, 'POST', '/v1.0/groups', { displayName: 'n', mailNickname: 'n' })).status, 201);
      assert.equal((await call(memberWrite, 'PATCH', `/v1.0/groups/${g.id}`, { description: 'x' })).status, 403);
      const u = await ts.user(a.tenantId);
      assert.equal((await call(memberWrite, 'POST', `/v1.0/groups/${g.id}/members/$ref`, ref('users', u.id))).status, 204);

      const member = await ts.userToken(a.tenantId, await ts.user(a.tenantId));
      assert.equal((await call(member)).status, 200);
      assert.equal((await call(member, 'GET', `/v1.0/groups/${g.id}`)).status, 200);
      assert.equal((await call(member, 'POST', '/v1.0/groups', { displayName: 'n', mailNickname: 'n' })).status, 403);
      assert.equal((await call(member, 'DELETE', `/v1.0/groups/${g.id}`)).status, 403);
      const admin = await ts.userToken(a.tenantId, await ts.user(a.tenantId, { roles: ['Global Administrator'] }));
      assert.equal((await call(admin, 'POST', '/v1.0/groups', { displayName: 'by admin', mailNickname: 'byadmin' })).status, 201);

      const guest = await ts.userToken(a.tenantId, await ts.user(a.tenantId, { userType: 'Guest' }));
      assert.equal((await call(guest)).status, 403);
      assert.equal((await call(guest, 'GET', `/v1.0/groups/${g.id}`)).status, 200);
      const members = await call(guest, 'GET', `/v1.0/groups/${g.id}/members`);
      assert.equal(members.status, 200);
      // The guest's window on other users: no givenName/jobTitle keys at all, not even as null.
      assert.deepEqual(Object.keys(members.body.value[0]).sort(), ['@odata.type', 'displayName', 'id', 'mail', 'userPrincipalName']);

      const other = await ts.request('GET', `/v1.0/groups/${g.id}`, { token: b.adminToken });
      assert.equal(other.status, 404);
      assert.equal(other.body.error.code, 'Request_ResourceNotFound');
    });

    test('members: $ref add/remove, paging with @odata.type, $count, soft-deleted users hidden, change log', async () => {
      const g = await newGroup('Team');
      const h = await newGroup('Subteam');
      const [u1, u2, u3] = [await ts.user(a.tenantId), await ts.user(a.tenantId), await ts.user(a.tenantId)];
      const members = sdk.api(`/groups/${g.id}/members/$ref`);
      await members.post(ref('directoryObjects', u1!.id));
      await members.post(ref('users', u2!.userPrincipalName));
      await members.post({ '@odata.id': `${ts.url}/beta/users/${u3!.id}` });
      await members.post(ref('groups', h.id));

      const dup = await ts.request('POST', `/v1.0/groups/${g.id}/members/$ref`, { token: a.adminToken, body: ref('directoryObjects', u1!.id) });
      assert.equal(dup.status, 400);
      assert.equal(dup.body.error.code, 'Request_BadRequest');
      assert.equal(dup.body.error.message, "One or more added object references already exist for the following modified properties: 'members'.");
      const foreign = await ts.user(b.tenantId);
      const cross = await ts.request('POST', `/v1.0/groups/${g.id}/members/$ref`, { token: a.adminToken, body: ref('directoryObjects', foreign.id) });
      assert.equal(cross.status, 404);
      assert.equal(cross.body.error.code, 'Request_ResourceNotFound');
      const self = await ts.request('POST', `/v1.0/groups/${g.id}/members/$ref`, { token: a.adminToken, body: ref('groups', g.id) });
      assert.equal(self.status, 400);
      for (const body of [{ '@odata.id': 'not a url' }, { id: u1!.id }, { '@odata.id': `${ts.url}/v1.0/devices/${u1!.id}` }]) {
        assert.equal((await ts.request('POST', `/v1.0/groups/${g.id}/members/$ref`, { token: a.adminToken, body })).status, 400);
      }
      const missingGroup = await ts.request('POST', `/v1.0/groups/${u1!.id}/members/$ref`, { token: a.adminToken, body: ref('users', u2!.id) });
      assert.equal(missingGroup.status, 404);

      const first = await sdk.api(`/groups/${g.id}/members`).top(2).get();
      assert.equal(first.value.length, 2);
      assert.ok(first['@odata.nextLink'].startsWith(`${ts.url}/v1.0/groups/${g.id}/members?`));
      const all = (await iterateAll(sdk, first)) as Record<string, unknown>[];
      assert.equal(all.length, 4);
      const users = all.filter((m) => m['@odata.type'] === '#microsoft.graph.user');
      const groups = all.filter((m) => m['@odata.type'] === '#microsoft.graph.group');
      assert.deepEqual(users.map((m) => m.id).sort(), [u1!.id, u2!.id, u3!.id].sort());
      assert.ok(users.every((m) => typeof m.userPrincipalName === 'string' && 'jobTitle' in m));
      assert.equal(groups[0]?.id, h.id);
      assert.equal(groups[0]?.securityEnabled, true);
      const selected = await sdk.api(`/groups/${g.id}/members`).select('id,displayName').get();
      assert.deepEqual(Object.keys(selected.value[0]).sort(), ['@odata.type', 'displayName', 'id']);

      const count = () => ts.request('GET', `/v1.0/groups/${g.id}/members/$count`, { token: a.adminToken, headers: eventual });
      assert.equal((await count()).text, '4');
      const noHeader = await ts.request('GET', `/v1.0/groups/${g.id}/members/$count`, { token: a.adminToken });
      assert.equal(noHeader.status, 400);
      assert.equal(noHeader.body.error.message, '$count is not currently supported.');
      const withCount = await sdk.api(`/groups/${g.id}/members`).header('ConsistencyLevel', 'eventual').count(true).get();
      assert.equal(withCount['@odata.count'], 4);

      await sdk.api(`/users/${u3!.id}`).delete();
      assert.equal((await count()).text, '3');
      const live = await sdk.api(`/groups/${g.id}/members`).get();
      assert.ok(!live.value.some((m: { id: string }) => m.id === u3!.id));

      const memberOf = await sdk.api(`/users/${u1!.id}/memberOf`).get();
      assert.deepEqual(memberOf.value.map((m: Record<string, unknown>) => [m['@odata.type'], m.id]), [['#microsoft.graph.group', g.id]]);
      const nested = await sdk.api(`/groups/${h.id}/memberOf`).get();
      assert.deepEqual(nested.value.map((m: { id: string }) => m.id), [g.id]);

      await sdk.api(`/groups/${g.id}/members/${u2!.id}/$ref`).delete();
      const again = await ts.request('DELETE', `/v1.0/groups/${g.id}/members/${u2!.id}/$ref`, { token: a.adminToken });
      assert.equal(again.status, 404);
      assert.equal(again.body.error.code, 'Request_ResourceNotFound');

      // Deleting a member group is a membership change of its parents too.
      await sdk.api(`/groups/${h.id}`).delete();
      assert.equal((await count()).text, '1');
      // Each membership change names its member, so delta can report exact additions and removals.
      const changes = await groupChanges(a.tenantId, g.id);
      assert.equal(changes[0], 'created');
      assert.equal(changes.length, 7);
      for (const c of changes.slice(1)) assert.match(c, /^updated \["members","members:[+-][0-9a-f-]{36}"\]$/);
      assert.equal(changes.filter((c) => c.includes('members:-')).length, 2);
      assert.ok(changes.at(-1)?.includes(`members:-${h.id}`), 'the deleted member group leaves its parent');
    });

    test('members@odata.bind on create, and directoryObjects/{id}', async () => {
      const [u1, u2] = [await ts.user(a.tenantId), await ts.user(a.tenantId)];
      const g = await newGroup('Bound', { 'members@odata.bind': [`${ts.url}/v1.0/directoryObjects/${u1!.id}`, `${ts.url}/v1.0/users/${u2!.id}`] });
      const m = await sdk.api(`/groups/${g.id}/members`).get();
      assert.equal(m.value.length, 2);
      const u3 = await ts.user(a.tenantId);
      await sdk.api(`/groups/${g.id}`).patch({ description: 'more', 'members@odata.bind': [`${ts.url}/v1.0/directoryObjects/${u3.id}`] });
      assert.equal((await sdk.api(`/groups/${g.id}/members`).get()).value.length, 3);
      const rebind = await ts.request('PATCH', `/v1.0/groups/${g.id}`, {
        token: a.adminToken, body: { description: 'again', 'members@odata.bind': [`${ts.url}/v1.0/users/${u1!.id}`] },
      });
      assert.equal(rebind.status, 400);
      assert.match(rebind.body.error.message, /already exist for the following modified properties: 'members'/);
      assert.equal((await sdk.api(`/groups/${g.id}`).get()).description, 'more', 'a refused PATCH changes nothing');
      assert.deepEqual((await groupChanges(a.tenantId, g.id)).at(-1), `updated ["description","members","members:+${u3.id}"]`);
      const bad = await ts.request('POST', '/v1.0/groups', {
        token: a.adminToken, body: { displayName: 'x', mailNickname: 'x', 'members@odata.bind': [`${ts.url}/v1.0/users/${(await ts.user(b.tenantId)).id}`] },
      });
      assert.equal(bad.status, 404);
      const listed = await sdk.api('/groups').filter("displayName eq 'x'").get();
      assert.equal(listed.value.length, 0, 'a failed bind creates nothing');

      const user = await sdk.api(`/directoryObjects/${u1!.id}`).get();
      assert.equal(user['@odata.type'], '#microsoft.graph.user');
      assert.equal(user.id, u1!.id);
      assert.match(user['@odata.context'], /directoryObjects\/\$entity$/);
      const group = await sdk.api(`/directoryObjects/${g.id}`).select('id,displayName').get();
      assert.equal(group['@odata.type'], '#microsoft.graph.group');
      assert.equal(group.displayName, 'Bound');
      assert.equal((await ts.request('GET', `/v1.0/directoryObjects/${g.id}`, { token: b.adminToken })).status, 404);
      assert.equal((await ts.request('GET', `/v1.0/directoryObjects/${u1!.id}`, { token: b.adminToken })).status, 404);
    });
  });
}
