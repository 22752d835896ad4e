// /policies: cross-tenant access policy (default, partners, identitySynchronization) and the
// authorization policy, through raw requests (exact status and bodies) and the Graph SDK; inheritance
// and the collaboration rule through the functions other rooms call.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { guestRoles } from '../../src/directory/access.js';
import {
  effectivePartnerSettings, ensurePartner, isCollaborationAllowed, patchDefaultPolicy, patchPartner, setInMultiTenantOrganization,
} from '../../src/policy/partners.js';
import { dialects, graphClient, startTestServer, type TestServer, type TestTenant } from '../helpers/harness.js';

const CTAP = '/v1.0/policies/crossTenantAccessPolicy';
const group = (accessType: string, targets: [string, string][]) => ({
  accessType, targets: targets.map(([target, targetType]) => ({ target, targetType })),
});

for (const dialect of dialects()) {
  describe(`policies (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    let b: TestTenant;
    const req = (method: string, path: string, body?: unknown, token = a.adminToken) =>
      ts.request(method, path, { token, ...(body !== undefined ? { body } : {}) });
    const at = () => ts.clock.now().toISOString();
    before(async () => {
      ts = await startTestServer(dialect);
      a = await ts.tenant('Contoso');
      b = await ts.tenant('Fabrikam');
    });
    after(() => ts.close());

    test('the policy object and the service default; PATCH, read-only consent, reset', async () => {
      const root = await req('GET', CTAP);
      assert.equal(root.status, 200);
      assert.equal(root.body.displayName, 'CrossTenantAccessPolicy');
      assert.deepEqual(root.body.allowedCloudEndpoints, []);
      const def = await req('GET', `${CTAP}/default`);
      assert.equal(def.status, 200);
      assert.match(def.body['@odata.context'], /\$metadata#policies\/crossTenantAccessPolicy\/default\/\$entity$/);
      assert.equal(def.body.isServiceDefault, true);
      assert.deepEqual(def.body.automaticUserConsentSettings, { inboundAllowed: false, outboundAllowed: false });
      assert.deepEqual(def.body.inboundTrust, { isMfaAccepted: false, isCompliantDeviceAccepted: false, isHybridAzureADJoinedDeviceAccepted: false });
      assert.deepEqual(def.body.b2bCollaborationInbound.usersAndGroups, group('allowed', [['AllUsers', 'user']]));
      assert.deepEqual(def.body.b2bCollaborationOutbound.applications, group('allowed', [['AllApplications', 'application']]));
      assert.equal(def.body.b2bDirectConnectInbound.usersAndGroups.accessType, 'blocked');
      assert.equal(def.body.b2bDirectConnectOutbound.applications.accessType, 'blocked');

      const consent = await req('PATCH', `${CTAP}/default`, { automaticUserConsentSettings: { inboundAllowed: true } });
      assert.equal(consent.status, 400);
      assert.equal(consent.body.error.code, 'Request_BadRequest');
      assert.equal((await req('PATCH', `${CTAP}/default`, { inboundTrust: { isMfaAccepted: true } })).status, 204);
      const patched = (await req('GET', `${CTAP}/default`)).body;
      assert.equal(patched.isServiceDefault, false);
      assert.deepEqual(patched.inboundTrust, { isMfaAccepted: true, isCompliantDeviceAccepted: false, isHybridAzureADJoinedDeviceAccepted: false });
      // A GET → PATCH round trip of the whole object is accepted (read-only values unchanged).
      const { '@odata.context': _c, ...roundTrip } = patched;
      assert.equal((await req('PATCH', `${CTAP}/default`, roundTrip)).status, 204);
      assert.equal((await req('POST', `${CTAP}/default/resetToDefaultSettings`)).status, 204);
      assert.equal((await req('GET', `${CTAP}/default`)).body.isServiceDefault, true);
    });

    test('partners: create (SDK), duplicate, bad ids, list, get, not found, tenant isolation', async () => {
      const client = graphClient(ts, a.adminToken);
      const partnerId = b.tenantId;
      const created = await client.api('/policies/crossTenantAccessPolicy/partners').post({ tenantId: partnerId });
      assert.equal(created.tenantId, partnerId);
      for (const k of ['isServiceProvider', 'inboundTrust', 'b2bCollaborationInbound', 'b2bCollaborationOutbound', 'b2bDirectConnectInbound', 'b2bDirectConnectOutbound', 'tenantRestrictions']) {
        assert.equal(created[k], null, k);
      }
      assert.deepEqual(created.automaticUserConsentSettings, { inboundAllowed: null, outboundAllowed: null });
      assert.equal(created.isInMultiTenantOrganization, false);

      const dup = await req('POST', `${CTAP}/partners`, { tenantId: partnerId.toUpperCase() });
      assert.equal(dup.status, 409);
      assert.equal(dup.body.error.code, 'Request_MultipleObjectsWithSameKeyValue');
      assert.equal(dup.body.error.message, 'Another object with the same value for property tenantId already exists.');
      const bad = await req('POST', `${CTAP}/partners`, { tenantId: 'fabrikam.com' });
      assert.equal(bad.status, 400);
      assert.equal((await req('POST', `${CTAP}/partners`, {})).status, 400);
      assert.equal((await req('POST', `${CTAP}/partners`, { tenantId: a.tenantId })).status, 400);

      // A partner need not be hosted here; settings may come with the create body.
      const remote = randomUUID();
      const withSettings = await req('POST', `${CTAP}/partners`, { tenantId: remote, automaticUserConsentSettings: { inboundAllowed: true } });
      assert.equal(withSettings.status, 201);
      assert.deepEqual(withSettings.body.automaticUserConsentSettings, { inboundAllowed: true, outboundAllowed: null });

      const list = await client.api('/policies/crossTenantAccessPolicy/partners').get();
      assert.deepEqual(list.value.map((p: { tenantId: string }) => p.tenantId).sort(), [partnerId, remote].sort());
      const one = await req('GET', `${CTAP}/partners/${partnerId.toUpperCase()}`);
      assert.equal(one.status, 200);
      assert.match(one.body['@odata.context'], /partners\/\$entity$/);
      const missing = await req('GET', `${CTAP}/partners/${randomUUID()}`);
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'Directory_ObjectNotFound');
      // Tenant B sees none of A's partners.
      assert.deepEqual((await req('GET', `${CTAP}/partners`, undefined, b.adminToken)).body.value, []);
      assert.equal((await req('DELETE', `${CTAP}/partners/${remote}`)).status, 204);
    });

    test('partner PATCH: replace, null resets, read-only and invalid values, not found', async () => {
      const id = randomUUID();
      assert.equal((await req('POST', `${CTAP}/partners`, { tenantId: id })).status, 201);
      const path = `${CTAP}/partners/${id}`;
      const inbound = { usersAndGroups: group('allowed', [[randomUUID(), 'group']]) };
      const client = graphClient(ts, a.adminToken);
      await client.api(`/policies/crossTenantAccessPolicy/partners/${id}`).patch({
        '@odata.type': '#microsoft.graph.crossTenantAccessPolicyConfigurationPartner',
        b2bCollaborationInbound: inbound, automaticUserConsentSettings: { inboundAllowed: true, outboundAllowed: true },
      });
      let p = (await req('GET', path)).body;
      assert.deepEqual(p.b2bCollaborationInbound, { ...inbound, applications: null });
      assert.deepEqual(p.automaticUserConsentSettings, { inboundAllowed: true, outboundAllowed: true });
      // The nested object is replaced, as Graph does: outboundAllowed left out becomes null (inherit).
      assert.equal((await req('PATCH', path, { automaticUserConsentSettings: { inboundAllowed: false } })).status, 204);
      p = (await req('GET', path)).body;
      assert.deepEqual(p.automaticUserConsentSettings, { inboundAllowed: false, outboundAllowed: null });
      assert.equal((await req('PATCH', path, { b2bCollaborationInbound: null, automaticUserConsentSettings: null })).status, 204);
      p = (await req('GET', path)).body;
      assert.equal(p.b2bCollaborationInbound, null);
      assert.deepEqual(p.automaticUserConsentSettings, { inboundAllowed: null, outboundAllowed: null });

      for (const body of [
        { isInMultiTenantOrganization: true },
        { tenantId: randomUUID() },
        { unknownThing: 1 },
        { b2bCollaborationInbound: { usersAndGroups: group('allowed', [['AllApplications', 'application']]) } },
        { b2bCollaborationInbound: { usersAndGroups: group('sometimes', [['AllUsers', 'user']]) } },
        { b2bCollaborationInbound: { usersAndGroups: group('allowed', [['not-a-guid', 'group']]) } },
        { b2bCollaborationInbound: { usersAndGroups: group('allowed', []) } },
        { inboundTrust: { isMfaAccepted: 'yes' } },
        { tenantRestrictions: { usersAndGroups: group('blocked', [['AllUsers', 'user']]) } },
      ]) {
        const r = await req('PATCH', path, body);
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.equal(r.body.error.code, 'Request_BadRequest');
      }
      assert.equal((await req('PATCH', path, 'not json', a.adminToken)).status, 400);
      const missing = await req('PATCH', `${CTAP}/partners/${randomUUID()}`, { isServiceProvider: true });
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'Directory_ObjectNotFound');
      assert.equal(missing.body.error.message, 'Unable to read the company information from the directory.');
    });

    test('identitySynchronization: PUT, 409 conflict, PATCH, delete order', async () => {
      const id = randomUUID();
      const sync = `${CTAP}/partners/${id}/identitySynchronization`;
      const noPartner = await req('PUT', sync, { userSyncInbound: { isSyncAllowed: true } });
      assert.equal(noPartner.status, 404);
      assert.equal((await req('POST', `${CTAP}/partners`, { tenantId: id })).status, 201);
      assert.equal((await req('GET', sync)).status, 404);
      const put = await req('PUT', sync, { displayName: 'Fabrikam', userSyncInbound: { isSyncAllowed: true } });
      assert.equal(put.status, 204);
      const got = await req('GET', sync);
      assert.equal(got.status, 200);
      assert.equal(got.body.tenantId, id);
      assert.equal(got.body.displayName, 'Fabrikam');
      assert.deepEqual(got.body.userSyncInbound, { isSyncAllowed: true });

      const again = await req('PUT', sync, { userSyncInbound: { isSyncAllowed: true } });
      assert.equal(again.status, 409);
      const message = 'A conflicting object with one or more of the specified property values is present in the directory.';
      assert.equal(again.body.error.code, 'Request_MultipleObjectsWithSameKeyValue');
      assert.equal(again.body.error.message, message);
      assert.equal(again.body.error.details[0].code, 'ConflictingObjects');
      assert.equal(again.body.error.details[0].message, message);

      await graphClient(ts, a.adminToken).api(`/policies/crossTenantAccessPolicy/partners/${id}/identitySynchronization`)
        .patch({ userSyncInbound: { isSyncAllowed: false } });
      assert.deepEqual((await req('GET', sync)).body.userSyncInbound, { isSyncAllowed: false });
      assert.equal((await req('PATCH', sync, { userSyncInbound: { isSyncAllowed: 'no' } })).status, 400);

      const blocked = await req('DELETE', `${CTAP}/partners/${id}`);
      assert.equal(blocked.status, 400);
      assert.match(blocked.body.error.message, /identity synchronization/);
      assert.equal((await req('DELETE', sync)).status, 204);
      assert.equal((await req('DELETE', sync)).status, 404);
      const patchMissing = await req('PATCH', sync, { userSyncInbound: { isSyncAllowed: true } });
      assert.equal(patchMissing.status, 404);
      assert.equal(patchMissing.body.error.code, 'Directory_ObjectNotFound');
      assert.equal((await req('DELETE', `${CTAP}/partners/${id}`)).status, 204);
      assert.equal((await req('DELETE', `${CTAP}/partners/${id}`)).status, 404);
    });

    test('inheritance: effectivePartnerSettings, ensurePartner, isInMultiTenantOrganization', async () => {
      const t = await ts.tenant();
      const store = ts.server.store;
      const id = randomUUID();
      const fresh = await effectivePartnerSettings(store.db, t.tenantId, id);
      assert.equal(fresh.isConfigured, false);
      assert.deepEqual(fresh.automaticUserConsent, { inboundAllowed: false, outboundAllowed: false });
      assert.equal(fresh.userSyncInbound, false);
      assert.equal(fresh.b2bCollaborationInbound.usersAndGroups.accessType, 'allowed');

      const first = await store.transaction((db) => ensurePartner(db, t.tenantId, id, at()));
      assert.equal(first.created, true);
      assert.deepEqual(first.partner.automaticUserConsentSettings, { inboundAllowed: null, outboundAllowed: null });
      assert.equal((await store.transaction((db) => ensurePartner(db, t.tenantId, id.toUpperCase(), at()))).created, false);

      // null inherits whatever the default says now.
      await store.transaction((db) => patchDefaultPolicy(db, t.tenantId, {
        b2bCollaborationInbound: { usersAndGroups: group('blocked', [['AllUsers', 'user']]) },
        inboundTrust: { isMfaAccepted: true },
      }, at()));
      await store.transaction((db) => patchPartner(db, t.tenantId, id, { automaticUserConsentSettings: { inboundAllowed: true } }, at()));
      const e = await effectivePartnerSettings(store.db, t.tenantId, id);
      assert.equal(e.isConfigured, true);
      assert.equal(e.b2bCollaborationInbound.usersAndGroups.accessType, 'blocked');
      assert.deepEqual(e.b2bCollaborationInbound.applications, group('allowed', [['AllApplications', 'application']]));
      assert.equal(e.inboundTrust.isMfaAccepted, true);
      assert.deepEqual(e.automaticUserConsent, { inboundAllowed: true, outboundAllowed: false });

      const sync = `${CTAP}/partners/${id}/identitySynchronization`;
      assert.equal((await ts.request('PUT', sync, { token: t.adminToken, body: { userSyncInbound: { isSyncAllowed: true } } })).status, 204);
      assert.equal((await effectivePartnerSettings(store.db, t.tenantId, id)).userSyncInbound, true);

      await store.transaction((db) => setInMultiTenantOrganization(db, t.tenantId, id, true, at()));
      const shown = await ts.request('GET', `${CTAP}/partners/${id}`, { token: t.adminToken });
      assert.equal(shown.body.isInMultiTenantOrganization, true);
      assert.equal((await effectivePartnerSettings(store.db, t.tenantId, id)).isInMultiTenantOrganization, true);
      await assert.rejects(store.transaction((db) => ensurePartner(db, t.tenantId, 'not-a-guid', at())), { code: 'Request_BadRequest' });
    });

    test('isCollaborationAllowed: blocked AllUsers, allowed one group, blocked one user', async () => {
      const t = await ts.tenant();
      const store = ts.server.store;
      const [p, g, u] = [randomUUID(), randomUUID(), randomUUID()];
      const settings = async (body: unknown) => {
        await store.transaction(async (db) => {
          await ensurePartner(db, t.tenantId, p, at());
          await patchPartner(db, t.tenantId, p, body, at());
        });
        return effectivePartnerSettings(store.db, t.tenantId, p);
      };
      let s = await settings({ b2bCollaborationInbound: { usersAndGroups: group('blocked', [['AllUsers', 'user']]) } });
      assert.equal(isCollaborationAllowed(s, 'inbound', { userId: u }), false);
      assert.equal(isCollaborationAllowed(s, 'inbound', {}), false);
      assert.equal(isCollaborationAllowed(s, 'outbound', { userId: u }), true, 'outbound still inherits allowed');

      s = await settings({ b2bCollaborationOutbound: { usersAndGroups: group('allowed', [[g, 'group']]) } });
      assert.equal(isCollaborationAllowed(s, 'outbound', { userId: u, groupIds: [g.toUpperCase()] }), true);
      assert.equal(isCollaborationAllowed(s, 'outbound', { userId: u, groupIds: [randomUUID()] }), false);
      assert.equal(isCollaborationAllowed(s, 'outbound', { userId: u }), false);

      s = await settings({ b2bCollaborationInbound: { usersAndGroups: group('blocked', [[u, 'user']]) } });
      assert.equal(isCollaborationAllowed(s, 'inbound', { userId: u }), false);
      assert.equal(isCollaborationAllowed(s, 'inbound', { userId: randomUUID(), groupIds: [g] }), true);
    });

    test('authorizationPolicy: read (v1.0 entity, beta collection), PATCH, validation', async () => {
      const t = await ts.tenant();
      const get = await ts.request('GET', '/v1.0/policies/authorizationPolicy', { token: t.adminToken });
      assert.equal(get.status, 200);
      assert.match(get.body['@odata.context'], /\$metadata#policies\/authorizationPolicy\/\$entity$/);
      assert.equal(get.body.id, 'authorizationPolicy');
      assert.equal(get.body.displayName, 'Authorization Policy');
      assert.equal(get.body.guestUserRoleId, guestRoles.guest);
      assert.equal(get.body.allowInvitesFrom, 'everyone');
      assert.equal(get.body.allowUserConsentForRiskyApps, false);
      const beta = await ts.request('GET', '/beta/policies/authorizationPolicy', { token: t.adminToken });
      assert.equal(beta.body.value[0].id, 'authorizationPolicy');

      const client = graphClient(ts, t.adminToken);
      await client.api('/policies/authorizationPolicy').patch({
        guestUserRoleId: guestRoles.restricted.toUpperCase(), allowInvitesFrom: 'adminsAndGuestInviters',
        defaultUserRolePermissions: { allowedToCreateApps: false },
      });
      const after = await client.api('/policies/authorizationPolicy').get();
      assert.equal(after.guestUserRoleId, guestRoles.restricted);
      assert.equal(after.allowInvitesFrom, 'adminsAndGuestInviters');
      assert.equal(after.defaultUserRolePermissions.allowedToCreateApps, false);
      assert.equal(after.defaultUserRolePermissions.allowedToReadOtherUsers, true, 'other flags kept');
      const beta2 = await ts.request('PATCH', '/beta/policies/authorizationPolicy/authorizationPolicy', { token: t.adminToken, body: { blockMsolPowerShell: true } });
      assert.equal(beta2.status, 204);

      for (const body of [
        { guestUserRoleId: randomUUID() }, { guestUserRoleId: 'guest' }, { allowInvitesFrom: 'anyone' }, { id: 'other' },
        { blockMsolPowerShell: 'yes' }, { defaultUserRolePermissions: { allowedToDoAnything: true } }, { notAProperty: 1 }, [],
      ]) {
        const r = await ts.request('PATCH', '/v1.0/policies/authorizationPolicy', { token: t.adminToken, body });
        assert.equal(r.status, 400, JSON.stringify(body));
        assert.equal(r.body.error.code, 'Request_BadRequest');
      }
    });

    test('permissions: apps, members, guests, admin roles', async () => {
      const t = await ts.tenant();
      const auth = '/v1.0/policies/authorizationPolicy';
      const partners = '/v1.0/policies/crossTenantAccessPolicy/partners';
      const call = (method: string, path: string, token: string, body?: unknown) =>
        ts.request(method, path, { token, ...(body !== undefined ? { body } : {}) });
      const expectDenied = async (p: Promise<{ status: number; body: { error: { code: string } } }>) => {
        const r = await p;
        assert.equal(r.status, 403);
        assert.equal(r.body.error.code, 'Authorization_RequestDenied');
      };
      const none = await ts.appToken(t.tenantId, ['User.Read.All']);
      await expectDenied(call('GET', auth, none));
      await expectDenied(call('GET', `${CTAP}/default`, none));
      const reader = await ts.appToken(t.tenantId, ['Policy.Read.All']);
      assert.equal((await call('GET', auth, reader)).status, 200);
      assert.equal((await call('GET', partners, reader)).status, 200);
      await expectDenied(call('POST', partners, reader, { tenantId: randomUUID() }));
      await expectDenied(call('PATCH', auth, reader, { allowInvitesFrom: 'none' }));
      const ctaWriter = await ts.appToken(t.tenantId, ['Policy.ReadWrite.CrossTenantAccess']);
      assert.equal((await call('POST', partners, ctaWriter, { tenantId: randomUUID() })).status, 201);
      await expectDenied(call('PATCH', auth, ctaWriter, { allowInvitesFrom: 'none' }));
      const authzWriter = await ts.appToken(t.tenantId, ['Policy.ReadWrite.Authorization']);
      assert.equal((await call('PATCH', auth, authzWriter, { allowInvitesFrom: 'everyone' })).status, 204);
      await expectDenied(call('POST', partners, authzWriter, { tenantId: randomUUID() }));

      const member = await ts.userToken(t.tenantId, await ts.user(t.tenantId));
      assert.equal((await call('GET', auth, member)).status, 200);
      assert.equal((await call('GET', `${CTAP}/default`, member)).status, 200);
      await expectDenied(call('PATCH', auth, member, { allowInvitesFrom: 'none' }));
      await expectDenied(call('POST', partners, member, { tenantId: randomUUID() }));
      const guest = await ts.userToken(t.tenantId, await ts.user(t.tenantId, { userType: 'Guest' }));
      await expectDenied(call('GET', auth, guest));
      await expectDenied(call('GET', partners, guest));

      const secAdmin = await ts.userToken(t.tenantId, await ts.user(t.tenantId, { roles: ['Security Administrator'] }));
      assert.equal((await call('POST', partners, secAdmin, { tenantId: randomUUID() })).status, 201);
      await expectDenied(call('PATCH', auth, secAdmin, { allowInvitesFrom: 'none' }));
      const pra = await ts.userToken(t.tenantId, await ts.user(t.tenantId, { roles: ['Privileged Role Administrator'] }));
      assert.equal((await call('PATCH', auth, pra, { allowInvitesFrom: 'none' })).status, 204);
      const ga = await ts.userToken(t.tenantId, await ts.user(t.tenantId, { roles: ['Global Administrator'] }));
      assert.equal((await call('PATCH', auth, ga, { guestUserRoleId: guestRoles.member })).status, 204);
      assert.equal((await call('PATCH', `${CTAP}/default`, ga, { inboundTrust: null })).status, 400, 'the default cannot inherit');
      // With member permissions, guests read policies like members do.
      assert.equal((await call('GET', auth, guest)).status, 200);
    });
  });
}
