// /organization: the caller's tenant as Graph's organization resource; who can read it and PATCH.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dialects, graphClient, startTestServer, type TestServer, type TestTenant } from '../helpers/harness.js';

for (const dialect of dialects()) {
  describe(`Graph organization (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    let b: TestTenant;
    before(async () => {
      ts = await startTestServer(dialect);
      a = await ts.tenant('Contoso');
      b = await ts.tenant('Fabrikam');
    });
    after(() => ts.close());

    test('GET /organization and /organization/{id} through the SDK', async () => {
      const sdk = graphClient(ts, a.adminToken);
      await ts.user(a.tenantId);
      const list = await sdk.api('/organization').get();
      assert.match(list['@odata.context'], /\$metadata#organization$/);
      assert.equal(list.value.length, 1);
      const org = list.value[0];
      assert.equal(org.id, a.tenantId);
      assert.equal(org.displayName, 'Contoso');
      assert.equal(org.tenantType, 'AAD');
      assert.equal(org.countryLetterCode, null);
      assert.ok(!Number.isNaN(Date.parse(org.createdDateTime)));
      assert.deepEqual(org.verifiedDomains, [{ capabilities: 'None', isDefault: true, isInitial: true, name: a.domain, type: 'Managed' }]);
      assert.deepEqual(org.technicalNotificationMails, []);
      assert.deepEqual(org.directorySizeQuota, { used: 1, total: 50000 });
      const one = await sdk.api(`/organization/${a.tenantId}`).select('id,displayName').get();
      assert.deepEqual(Object.keys(one).sort(), ['@odata.context', 'displayName', 'id']);
      assert.match(one['@odata.context'], /\$metadata#organization\(id,displayName\)\/\$entity$/);
      const other = await ts.request('GET', `/v1.0/organization/${b.tenantId}`, { token: a.adminToken });
      assert.equal(other.status, 404);
      assert.equal(other.body.error.code, 'Request_ResourceNotFound');
      const beta = await graphClient(ts, b.adminToken, 'beta').api('/organization').get();
      assert.equal(beta.value[0].id, b.tenantId);
    });

    test('directorySizeQuota.used follows creates, soft deletes, restores and permanent deletes of users and groups', async () => {
      const t = await ts.tenant('Quota');
      const used = async () => (await ts.request('GET', '/v1.0/organization', { token: t.adminToken })).body.value[0].directorySizeQuota.used;
      assert.equal(await used(), 0);
      const u1 = await ts.user(t.tenantId);
      const u2 = await ts.user(t.tenantId);
      const group = await ts.request('POST', '/v1.0/groups', {
        token: t.adminToken, body: { displayName: 'Quota group', mailEnabled: false, mailNickname: 'quota', securityEnabled: true },
      });
      assert.equal(group.status, 201);
      assert.equal(await used(), 3);
      // A soft-deleted user still occupies the directory until it is purged, as in Entra.
      assert.equal((await ts.request('DELETE', `/v1.0/users/${u1.id}`, { token: t.adminToken })).status, 204);
      assert.equal(await used(), 3);
      assert.equal((await ts.request('POST', `/v1.0/directory/deletedItems/${u1.id}/restore`, { token: t.adminToken })).status, 200);
      assert.equal((await ts.request('DELETE', `/v1.0/users/${u2.id}`, { token: t.adminToken })).status, 204);
      assert.equal((await ts.request('DELETE', `/v1.0/directory/deletedItems/${u2.id}`, { token: t.adminToken })).status, 204);
      assert.equal((await ts.request('DELETE', `/v1.0/groups/${group.body.id}`, { token: t.adminToken })).status, 204);
      assert.equal(await used(), 1);
      // Another tenant's directory is counted on its own.
      assert.equal((await ts.request('GET', '/v1.0/organization', { token: a.adminToken })).body.value[0].directorySizeQuota.used, 1);
    });

    test('readers: any signed-in user of the tenant; apps with Organization.Read.All, Directory.Read.All or User.Read.All', async () => {
      const read = (token: string) => ts.request('GET', '/v1.0/organization', { token });
      for (const perms of [['Organization.Read.All'], ['Directory.Read.All'], ['User.Read.All']]) {
        assert.equal((await read(await ts.appToken(a.tenantId, perms))).status, 200, perms[0]);
      }
      const denied = await read(await ts.appToken(a.tenantId, ['Group.Read.All']));
      assert.equal(denied.status, 403);
      assert.equal(denied.body.error.code, 'Authorization_RequestDenied');
      for (const props of [{}, { userType: 'Guest' }]) {
        const token = await ts.userToken(a.tenantId, await ts.user(a.tenantId, props));
        const r = await read(token);
        assert.equal(r.status, 200);
        assert.equal(r.body.value[0].id, a.tenantId);
      }
    });

    test('PATCH writable notification and privacy properties', async () => {
      const sdk = graphClient(ts, a.adminToken);
      await sdk.api(`/organization/${a.tenantId}`).patch({
        technicalNotificationMails: ['it@contoso.example'], marketingNotificationEmails: ['mkt@contoso.example'],
        privacyProfile: { contactEmail: 'privacy@contoso.example', statementUrl: 'https://contoso.example/privacy' },
      });
      const org = await sdk.api(`/organization/${a.tenantId}`).get();
      assert.deepEqual(org.technicalNotificationMails, ['it@contoso.example']);
      assert.deepEqual(org.marketingNotificationEmails, ['mkt@contoso.example']);
      assert.equal(org.privacyProfile.statementUrl, 'https://contoso.example/privacy');
      assert.equal((await graphClient(ts, b.adminToken).api('/organization').get()).value[0].privacyProfile, null);

      const patch = (token: string, body: unknown, id = a.tenantId) => ts.request('PATCH', `/v1.0/organization/${id}`, { token, body });
      const cases: [unknown, RegExp][] = [
        [{ displayName: 'Renamed' }, /'displayName' is read-only/],
        [{ verifiedDomains: [] }, /read-only/],
        [{ favouriteColour: 'blue' }, /does not exist on type 'microsoft\.graph\.organization'/],
        [{ technicalNotificationMails: ['not-an-address'] }, /'technicalNotificationMails' of resource 'Organization'/],
      ];
      for (const [body, message] of cases) {
        const r = await patch(a.adminToken, body);
        assert.equal(r.status, 400);
        assert.match(r.body.error.message, message);
      }
      assert.equal((await patch(a.adminToken, { technicalNotificationMails: [] }, b.tenantId)).status, 404);
      assert.equal((await patch(await ts.appToken(a.tenantId, ['Organization.Read.All']), { technicalNotificationMails: [] })).status, 403);
      assert.equal((await patch(await ts.appToken(a.tenantId, ['Organization.ReadWrite.All']), { technicalNotificationMails: [] })).status, 204);
      const userAdmin = await ts.userToken(a.tenantId, await ts.user(a.tenantId, { roles: ['User Administrator'] }));
      assert.equal((await patch(userAdmin, { technicalNotificationMails: [] })).status, 403);
      const ga = await ts.userToken(a.tenantId, await ts.user(a.tenantId, { roles: ['Global Administrator'] }));
      assert.equal((await patch(ga, { technicalNotificationMails: ['ga@contoso.example'] })).status, 204);
      assert.deepEqual((await sdk.api('/organization').get()).value[0].technicalNotificationMails, ['ga@contoso.example']);
    });
  });
}
