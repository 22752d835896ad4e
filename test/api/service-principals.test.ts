// Applications, service principals and app role assignments: the surface a cross-tenant sync
// configuration stands on. The Entra sequence through the Graph SDK (instantiate the Azure2Azure
// template → read the SP → assign a user and a group → list → unassign → delete), Graph's shapes (every
// declared v1.0 property), Graph's errors, who may do what, and the change-log rows the engine reads.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@microsoft/microsoft-graph-client';
import { deleteServicePrincipal } from '../../src/apps/index.js';
import { resolveActor } from '../../src/directory/access.js';
import { appRoleAssignmentsRepo } from '../../src/store/repos/appRoleAssignments.js';
import { groupsRepo } from '../../src/store/repos/groups.js';
import { servicePrincipalsRepo } from '../../src/store/repos/servicePrincipals.js';
import { dialects, graphClient, iterateAll, startTestServer, type TestServer, type TestTenant, type TestUser } from '../helpers/harness.js';
import { tenantKeyOf } from '../../src/store/repos/tenantKeys.js';

const TEMPLATE = '518e5f48-1fc8-4c48-9387-9fdf28b0dfe7';
const HOMEPAGE = 'https://account.activedirectory.windowsazure.com:444/applications/default.aspx?metadata=aad2aadsync|ISV9.1|primary|z';
const DEFAULT_ACCESS = '00000000-0000-0000-0000-000000000000';
// Declared v1.0 properties (graph-v1.0.csdl), less those Graph returns only on $select (application:
// authenticationBehaviors; servicePrincipal: customSecurityAttributes) and the application's logo stream.
const applicationProperties = `id deletedDateTime addIns api appId applicationTemplateId appRoles certification createdByAppId
  createdDateTime defaultRedirectUri description disabledByMicrosoftStatus displayName groupMembershipClaims identifierUris info
  isDeviceOnlyAuthSupported isDisabled isFallbackPublicClient keyCredentials managerApplications nativeAuthenticationApisEnabled notes
  oauth2RequirePostResponse optionalClaims parentalControlSettings passwordCredentials publicClient publisherDomain
  requestSignatureVerification requiredResourceAccess samlMetadataUrl serviceManagementReference servicePrincipalLockConfiguration
  signInAudience spa tags tokenEncryptionKeyId uniqueName verifiedPublisher web`.split(/\s+/);
const servicePrincipalProperties = `id deletedDateTime accountEnabled addIns alternativeNames appDescription appDisplayName appId
  applicationTemplateId appOwnerOrganizationId appRoleAssignmentRequired appRoles createdByAppId description disabledByMicrosoftStatus
  displayName homepage info isDisabled keyCredentials loginUrl logoutUrl notes notificationEmailAddresses oauth2PermissionScopes
  passwordCredentials preferredSingleSignOnMode preferredTokenSigningKeyThumbprint replyUrls resourceSpecificApplicationPermissions
  samlSingleSignOnSettings servicePrincipalNames servicePrincipalType signInAudience tags tokenEncryptionKeyId verifiedPublisher`.split(/\s+/);
const assignmentProperties = 'id deletedDateTime appRoleId createdDateTime principalDisplayName principalId principalType resourceDisplayName resourceId'.split(' ');

const keysOf = (o: Record<string, unknown>) => Object.keys(o).filter((k) => !k.startsWith('@')).sort();

for (const dialect of dialects()) {
  describe(`applications and service principals (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    let b: TestTenant;
    let sdk: Client;
    let n = 0;
    const instantiate = async (token: string, displayName = `CTS config ${n++}`) =>
      ts.request('POST', `/v1.0/applicationTemplates/${TEMPLATE}/instantiate`, { token, body: { displayName } });
    const newGroup = async (tenant: TestTenant, displayName: string) =>
      graphClient(ts, tenant.adminToken).api('/groups').post({ displayName, mailNickname: `g${n++}`, securityEnabled: true, mailEnabled: false });
    const changes = async (tenantId: string, id: string) =>
      (await ts.server.store.db.selectFrom('change_log').select(['object_type', 'change', 'props']).where('tenant_no', '=', tenantKeyOf(tenantId))
        .where('object_id', '=', id).orderBy('seq').execute()).map((r) => `${r.object_type} ${r.change}${r.props ? ` ${r.props}` : ''}`);
    const assign = (token: string, spId: string, principalId: string, appRoleId: string) =>
      ts.request('POST', `/v1.0/servicePrincipals/${spId}/appRoleAssignedTo`, { token, body: { principalId, resourceId: spId, appRoleId } });

    before(async () => {
      ts = await startTestServer(dialect);
      a = await ts.tenant('Contoso');
      b = await ts.tenant('Fabrikam');
      sdk = graphClient(ts, a.adminToken);
    });
    after(() => ts.close());

    test('the Entra sequence through the Graph SDK: instantiate, read, assign a user and a group, list, unassign, delete', async () => {
      const template = await sdk.api(`/applicationTemplates/${TEMPLATE}`).get();
      assert.equal(template.id, TEMPLATE);
      const created = await sdk.api(`/applicationTemplates/${TEMPLATE}/instantiate`).post({ displayName: 'MTO_Sync_Fabrikam' });
      assert.match(created['@odata.context'], /\$metadata#microsoft\.graph\.applicationServicePrincipal$/);
      const { application, servicePrincipal: sp } = created;
      assert.deepEqual(keysOf(application), [...applicationProperties].sort());
      assert.deepEqual(keysOf(sp), [...servicePrincipalProperties].sort());
      assert.equal(application.signInAudience, 'AzureADMyOrg');
      assert.equal(application.applicationTemplateId, TEMPLATE);
      assert.equal(application.displayName, 'MTO_Sync_Fabrikam');
      assert.equal(application.publisherDomain, a.domain);
      assert.equal(sp.appId, application.appId);
      assert.equal(sp.applicationTemplateId, TEMPLATE);
      assert.equal(sp.appRoleAssignmentRequired, true);
      assert.deepEqual(sp.tags, ['WindowsAzureActiveDirectoryIntegratedApp']);
      assert.equal(sp.homepage, HOMEPAGE);
      assert.equal(sp.appOwnerOrganizationId, a.tenantId);
      assert.deepEqual(sp.servicePrincipalNames, [sp.appId]);
      assert.equal(sp.appRoles.length, 1);
      const role = sp.appRoles[0];
      assert.deepEqual({ ...role, id: undefined }, {
        allowedMemberTypes: ['User'], description: 'msiam_access', displayName: 'msiam_access', id: undefined, isEnabled: true, origin: 'Application', value: null,
      });
      assert.deepEqual(application.appRoles, sp.appRoles);

      const got = await sdk.api(`/servicePrincipals/${sp.id}`).get();
      assert.match(got['@odata.context'], /\$metadata#servicePrincipals\/\$entity$/);
      assert.deepEqual({ ...got, '@odata.context': undefined }, { ...sp, '@odata.context': undefined });
      const byAppId = await sdk.api('/servicePrincipals').filter(`appId eq '${sp.appId}'`).select('id,appId,displayName').get();
      assert.deepEqual(byAppId.value, [{ id: sp.id, appId: sp.appId, displayName: 'MTO_Sync_Fabrikam' }]);
      assert.equal((await sdk.api(`/applications/${application.id}`).get()).appId, sp.appId);

      const user = await ts.user(a.tenantId, { displayName: 'Ada Assigned' });
      const group = await newGroup(a, 'Sync Scope');
      const ua = await sdk.api(`/servicePrincipals/${sp.id}/appRoleAssignedTo`).post({ principalId: user.id, resourceId: sp.id, appRoleId: role.id });
      assert.deepEqual(keysOf(ua), [...assignmentProperties].sort());
      assert.equal(ua.principalType, 'User');
      assert.equal(ua.principalDisplayName, 'Ada Assigned');
      assert.equal(ua.resourceDisplayName, 'MTO_Sync_Fabrikam');
      assert.equal(ua.resourceId, sp.id);
      assert.match(ua.id, /^[A-Za-z0-9_-]{43}$/);
      assert.ok(Date.parse(ua.createdDateTime) > 0);
      const ga = await sdk.api(`/servicePrincipals/${sp.id}/appRoleAssignedTo`).post({ principalId: group.id, resourceId: sp.id, appRoleId: role.id });
      assert.equal(ga.principalType, 'Group');
      assert.equal(ga.principalDisplayName, 'Sync Scope');

      const listed = await iterateAll(sdk, await sdk.api(`/servicePrincipals/${sp.id}/appRoleAssignedTo`).top(1).get());
      assert.deepEqual(listed.map((x) => (x as { id: string }).id).sort(), [ua.id, ga.id].sort());
      const ofUser = await sdk.api(`/users/${user.userPrincipalName}/appRoleAssignments`).get();
      assert.deepEqual(ofUser.value.map((x: { id: string }) => x.id), [ua.id]);
      assert.deepEqual((await sdk.api(`/groups/${group.id}/appRoleAssignments`).get()).value.map((x: { id: string }) => x.id), [ga.id]);

      // What the sync engine reads: the configuration's scope, and the change log telling it of each change.
      const db = ts.server.store.db;
      const record = await servicePrincipalsRepo.get(db, a.tenantId, sp.id);
      assert.equal(record?.applicationId, application.id);
      assert.equal(record?.appRoles[0]?.id, role.id);
      assert.deepEqual(await appRoleAssignmentsRepo.principalsOf(db, a.tenantId, sp.id),
        [{ principalId: user.id, principalType: 'User' }, { principalId: group.id, principalType: 'Group' }].sort((x, y) => x.principalId.localeCompare(y.principalId)));
      assert.deepEqual([...await appRoleAssignmentsRepo.ofPrincipals(db, a.tenantId, sp.id, [user.id, 'other'])], [user.id]);
      assert.deepEqual((await changes(a.tenantId, user.id)).slice(1), ['user updated ["appRoleAssignments"]']);
      assert.deepEqual((await changes(a.tenantId, group.id)).slice(1), ['group updated ["appRoleAssignments"]']);

      await sdk.api(`/servicePrincipals/${sp.id}/appRoleAssignedTo/${ua.id}`).delete();
      assert.deepEqual((await changes(a.tenantId, user.id)).slice(1), ['user updated ["appRoleAssignments"]', 'user updated ["appRoleAssignments"]']);
      assert.deepEqual((await sdk.api(`/users/${user.id}/appRoleAssignments`).get()).value, []);

      // Deleting the application deletes its service principal and the group's assignment with it.
      await sdk.api(`/applications/${application.id}`).delete();
      for (const path of [`/servicePrincipals/${sp.id}`, `/applications/${application.id}`]) {
        await assert.rejects(sdk.api(path).get(), (e: { statusCode?: number; code?: string }) => e.statusCode === 404 && e.code === 'Request_ResourceNotFound');
      }
      assert.deepEqual(await appRoleAssignmentsRepo.principalsOf(db, a.tenantId, sp.id), []);
      assert.equal((await changes(a.tenantId, group.id)).length, 3, 'the group hears it lost its assignment');
    });

    test('lists page with $top and nextLink; $filter on displayName and appId; $count; unsupported filters', async () => {
      const made = [];
      for (let i = 0; i < 5; i++) made.push((await instantiate(a.adminToken, `Pager ${i}`)).body.servicePrincipal);
      const first = await sdk.api('/servicePrincipals').filter("startsWith(displayName,'pager')").top(2).get();
      assert.equal(first.value.length, 2);
      assert.ok(first['@odata.nextLink'].startsWith(ts.url));
      const all = (await iterateAll(sdk, first)) as { id: string }[];
      assert.deepEqual(all.map((s) => s.id), made.map((s) => s.id));
      const apps = (await iterateAll(sdk, await sdk.api('/applications').filter("startsWith(displayName,'Pager')").top(3).get())) as { appId: string }[];
      assert.deepEqual(apps.map((x) => x.appId), made.map((s) => s.appId));
      const two = await sdk.api('/servicePrincipals').filter(`appId in ('${made[1].appId}', '${made[3].appId}') or displayName eq 'PAGER 4'`).select('displayName').get();
      assert.deepEqual(two.value.map((s: { displayName: string }) => s.displayName), ['Pager 1', 'Pager 3', 'Pager 4']);
      const counted = await ts.request('GET', `/v1.0/servicePrincipals?$count=true&$filter=${encodeURIComponent("startsWith(displayName,'pager')")}&$top=1`, {
        token: a.adminToken, headers: { consistencylevel: 'eventual' },
      });
      assert.equal(counted.body['@odata.count'], 5);
      for (const filter of ["tags/any(t:t eq 'x')", "homepage eq 'x'", "endsWith(displayName,'4')", "displayName ne 'x'"]) {
        const res = await ts.request('GET', `/v1.0/servicePrincipals?$filter=${encodeURIComponent(filter)}`, { token: a.adminToken });
        assert.equal(res.status, 400, filter);
        assert.equal(res.body.error.code, 'Request_UnsupportedQuery', filter);
      }
      const bad = await ts.request('GET', '/v1.0/servicePrincipals?$select=nope', { token: a.adminToken });
      assert.equal(bad.status, 400);
    });

    test('assignment errors as Graph gives them', async () => {
      const { servicePrincipal: sp } = (await instantiate(a.adminToken)).body;
      const role = sp.appRoles[0].id;
      const user = await ts.user(a.tenantId);
      const token = a.adminToken;
      const expect = async (res: { status: number; body: { error: { code: string; message: string } } }, status: number, code: string, message?: RegExp) => {
        assert.equal(res.status, status, JSON.stringify(res.body));
        assert.equal(res.body.error.code, code);
        if (message) assert.match(res.body.error.message, message);
      };
      await expect(await assign(token, sp.id, '3f2504e0-4f89-41d3-9a0c-0305e82c3301', role), 404, 'Request_ResourceNotFound');
      await expect(await assign(token, sp.id, user.id, '3f2504e0-4f89-41d3-9a0c-0305e82c3301'), 400, 'Request_BadRequest', /Permission being assigned was not found/);
      await expect(await assign(token, sp.id, 'not-a-guid', role), 400, 'Request_BadRequest', /principalId/);
      await expect(await ts.request('POST', `/v1.0/servicePrincipals/${sp.id}/appRoleAssignedTo`, { token, body: { principalId: user.id, appRoleId: role } }),
        400, 'Request_BadRequest', /resourceId/);
      await expect(await ts.request('POST', `/v1.0/servicePrincipals/${sp.id}/appRoleAssignedTo`, {
        token, body: { principalId: user.id, resourceId: sp.id, appRoleId: role, principalType: 'User' },
      }), 400, 'Request_BadRequest', /read-only/);
      const other = (await instantiate(token)).body.servicePrincipal;
      await expect(await ts.request('POST', `/v1.0/servicePrincipals/${sp.id}/appRoleAssignedTo`, {
        token, body: { principalId: user.id, resourceId: other.id, appRoleId: role },
      }), 400, 'Request_BadRequest', /resourceId/);
      await expect(await assign(token, sp.id, other.id, role), 400, 'Request_BadRequest', /users and groups/);
      await expect(await assign(token, '3f2504e0-4f89-41d3-9a0c-0305e82c3301', user.id, role), 404, 'Request_ResourceNotFound');
      // A user of another tenant is unknown here.
      await expect(await assign(token, sp.id, (await ts.user(b.tenantId)).id, role), 404, 'Request_ResourceNotFound');

      assert.equal((await assign(token, sp.id, user.id, role)).status, 201);
      await expect(await assign(token, sp.id, user.id, role), 400, 'Request_BadRequest', /^Permission being assigned already exists on the object\.$/);
      // Graph's default-access role is accepted beside the declared one.
      const dflt = await assign(token, sp.id, user.id, DEFAULT_ACCESS);
      assert.equal(dflt.status, 201);
      assert.equal(dflt.body.appRoleId, DEFAULT_ACCESS);
      assert.deepEqual(await appRoleAssignmentsRepo.principalsOf(ts.server.store.db, a.tenantId, sp.id), [{ principalId: user.id, principalType: 'User' }]);

      // CTS scopes by security groups only: a group that is not security-enabled is refused clearly.
      const now = new Date().toISOString();
      const m365 = { id: '0190f0f0-0000-7000-8000-00000000abcd', displayName: 'Mail list', createdDateTime: now, securityEnabled: false, mailEnabled: true };
      await ts.server.store.transaction((db) => groupsRepo.insert(db, a.tenantId, m365));
      await expect(await assign(token, sp.id, m365.id, role), 400, 'Request_BadRequest', /not a security group/);

      await expect(await ts.request('DELETE', `/v1.0/servicePrincipals/${sp.id}/appRoleAssignedTo/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`, { token }), 404, 'Request_ResourceNotFound');
      // An assignment is removed through its own service principal only.
      await expect(await ts.request('DELETE', `/v1.0/servicePrincipals/${other.id}/appRoleAssignedTo/${dflt.body.id}`, { token }), 404, 'Request_ResourceNotFound');
      await expect(await ts.request('POST', '/v1.0/applicationTemplates/8adf8e6e-67b2-4cf2-a259-e3dc5476c621/instantiate', { token, body: { displayName: 'x' } }),
        404, 'Request_ResourceNotFound');
      await expect(await ts.request('POST', `/v1.0/applicationTemplates/${TEMPLATE}/instantiate`, { token, body: {} }), 400, 'Request_BadRequest', /displayName/);
      await expect(await ts.request('GET', '/v1.0/applicationTemplates/8adf8e6e-67b2-4cf2-a259-e3dc5476c621', { token }), 404, 'Request_ResourceNotFound');
    });

    test('updates: application name flows to appDisplayName; SP properties; read-only and unknown properties refused', async () => {
      const { application, servicePrincipal: sp } = (await instantiate(a.adminToken, 'Before')).body;
      assert.equal((await ts.request('PATCH', `/v1.0/applications/${application.id}`, { token: a.adminToken, body: { displayName: 'After', notes: 'n' } })).status, 204);
      const got = await sdk.api(`/servicePrincipals/${sp.id}`).select('displayName,appDisplayName').get();
      assert.deepEqual([got.displayName, got.appDisplayName], ['Before', 'After']);
      await sdk.api(`/servicePrincipals/${sp.id}`).patch({ appRoleAssignmentRequired: false, displayName: 'Renamed', notes: 'why' });
      const again = await sdk.api(`/servicePrincipals/${sp.id}`).get();
      assert.deepEqual([again.appRoleAssignmentRequired, again.displayName, again.notes], [false, 'Renamed', 'why']);
      for (const [path, body, pattern] of [
        [`/applications/${application.id}`, { appId: 'x' }, /read-only/],
        [`/servicePrincipals/${sp.id}`, { appRoles: [] }, /read-only/],
        [`/servicePrincipals/${sp.id}`, { bogus: 1 }, /does not exist/],
        [`/servicePrincipals/${sp.id}`, { accountEnabled: 'yes' }, /Invalid value/],
      ] as const) {
        const res = await ts.request('PATCH', `/v1.0${path}`, { token: a.adminToken, body });
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.match(res.body.error.message, pattern);
      }
      // Deleting the service principal leaves its application (Entra's enterprise app vs app registration).
      assert.equal((await ts.request('DELETE', `/v1.0/servicePrincipals/${sp.id}`, { token: a.adminToken })).status, 204);
      assert.equal((await ts.request('GET', `/v1.0/applications/${application.id}`, { token: a.adminToken })).status, 200);
    });

    test('deleting a service principal runs the synchronization hook in its transaction', async () => {
      const { servicePrincipal: sp } = (await instantiate(a.adminToken)).body;
      const user = await ts.user(a.tenantId);
      assert.equal((await assign(a.adminToken, sp.id, user.id, sp.appRoles[0].id)).status, 201);
      const principal = { tenantId: a.tenantId, kind: 'app' as const, appId: a.adminApp.clientId, roles: new Set(['Application.ReadWrite.All']), scopes: new Set<string>() };
      const actor = await resolveActor(ts.server.store.db, principal);
      const seen: string[] = [];
      const ctx = { store: ts.server.store, clock: ts.clock };
      // A failing hook rolls the whole delete back.
      await assert.rejects(deleteServicePrincipal({ ...ctx, onDelete: async () => { throw new Error('sync cleanup failed'); } }, a.tenantId, actor, sp.id));
      assert.ok(await servicePrincipalsRepo.get(ts.server.store.db, a.tenantId, sp.id), 'still there');
      assert.equal((await appRoleAssignmentsRepo.principalsOf(ts.server.store.db, a.tenantId, sp.id)).length, 1);
      await deleteServicePrincipal({ ...ctx, onDelete: async (_db, tenantId, spId) => { seen.push(`${tenantId} ${spId}`); } }, a.tenantId, actor, sp.id);
      assert.deepEqual(seen, [`${a.tenantId} ${sp.id}`]);
      assert.equal(await servicePrincipalsRepo.get(ts.server.store.db, a.tenantId, sp.id), undefined);
      assert.deepEqual((await changes(a.tenantId, user.id)).slice(1), ['user updated ["appRoleAssignments"]', 'user updated ["appRoleAssignments"]']);
    });

    test('deleting a user for good or a group removes its assignments; a soft delete keeps them', async () => {
      const { servicePrincipal: sp } = (await instantiate(a.adminToken)).body;
      const role = sp.appRoles[0].id;
      const user = await ts.user(a.tenantId);
      const group = await newGroup(a, 'Going away');
      for (const id of [user.id, group.id]) assert.equal((await assign(a.adminToken, sp.id, id, role)).status, 201);
      const db = ts.server.store.db;
      assert.equal((await ts.request('DELETE', `/v1.0/users/${user.id}`, { token: a.adminToken })).status, 204);
      assert.equal((await appRoleAssignmentsRepo.ofPrincipals(db, a.tenantId, sp.id, [user.id])).size, 1, 'kept for a restore');
      assert.equal((await ts.request('DELETE', `/v1.0/directory/deletedItems/${user.id}`, { token: a.adminToken })).status, 204);
      assert.equal((await ts.request('DELETE', `/v1.0/groups/${group.id}`, { token: a.adminToken })).status, 204);
      assert.deepEqual(await appRoleAssignmentsRepo.principalsOf(db, a.tenantId, sp.id), []);
    });

    describe('who may', () => {
      let sp: { id: string; appRoles: { id: string }[] };
      let target: TestUser;
      before(async () => {
        sp = (await instantiate(a.adminToken, 'Guarded')).body.servicePrincipal;
        target = await ts.user(a.tenantId);
      });
      const calls = (token: string) => ({
        list: () => ts.request('GET', '/v1.0/servicePrincipals', { token }),
        get: () => ts.request('GET', `/v1.0/servicePrincipals/${sp.id}`, { token }),
        listAssigned: () => ts.request('GET', `/v1.0/servicePrincipals/${sp.id}/appRoleAssignedTo`, { token }),
        instantiate: () => instantiate(token),
        assign: () => assign(token, sp.id, target.id, sp.appRoles[0]!.id),
      });
      const statuses = async (token: string) => {
        const out: Record<string, number> = {};
        for (const [name, call] of Object.entries(calls(token))) {
          const res = await call();
          out[name] = res.status;
          if (name === 'assign' && res.status === 201) {
            await ts.request('DELETE', `/v1.0/servicePrincipals/${sp.id}/appRoleAssignedTo/${res.body.id}`, { token: a.adminToken });
          }
        }
        return out;
      };

      test('apps by permission', async () => {
        assert.deepEqual(await statuses(await ts.appToken(a.tenantId, ['User.Read.All', 'Group.ReadWrite.All'])),
          { list: 403, get: 403, listAssigned: 403, instantiate: 403, assign: 403 });
        assert.deepEqual(await statuses(await ts.appToken(a.tenantId, ['Application.Read.All'])),
          { list: 200, get: 200, listAssigned: 200, instantiate: 403, assign: 403 });
        assert.deepEqual(await statuses(await ts.appToken(a.tenantId, ['Application.Read.All', 'AppRoleAssignment.ReadWrite.All'])),
          { list: 200, get: 200, listAssigned: 200, instantiate: 403, assign: 201 });
        assert.deepEqual(await statuses(await ts.appToken(a.tenantId, ['Application.ReadWrite.All'])),
          { list: 200, get: 200, listAssigned: 200, instantiate: 201, assign: 201 });
        assert.deepEqual(await statuses(await ts.appToken(a.tenantId, ['Directory.Read.All'])),
          { list: 200, get: 200, listAssigned: 200, instantiate: 403, assign: 403 });
      });

      test('signed-in users by role; guests; another tenant', async () => {
        const member = await ts.userToken(a.tenantId, await ts.user(a.tenantId));
        assert.deepEqual(await statuses(member), { list: 200, get: 200, listAssigned: 200, instantiate: 403, assign: 403 });
        for (const role of ['Application Administrator', 'Cloud Application Administrator', 'Global Administrator']) {
          const admin = await ts.userToken(a.tenantId, await ts.user(a.tenantId, { roles: [role] }));
          assert.deepEqual(await statuses(admin), { list: 200, get: 200, listAssigned: 200, instantiate: 201, assign: 201 }, role);
        }
        const userAdmin = await ts.userToken(a.tenantId, await ts.user(a.tenantId, { roles: ['User Administrator'] }));
        assert.deepEqual(await statuses(userAdmin), { list: 200, get: 200, listAssigned: 200, instantiate: 403, assign: 403 });
        const guestUser = await ts.user(a.tenantId, { userType: 'Guest' });
        const guest = await ts.userToken(a.tenantId, guestUser);
        assert.deepEqual(await statuses(guest), { list: 403, get: 403, listAssigned: 403, instantiate: 403, assign: 403 });
        // Anyone may read their own assignments.
        assert.equal((await ts.request('GET', `/v1.0/users/${guestUser.id}/appRoleAssignments`, { token: guest })).status, 200);
        assert.equal((await ts.request('GET', `/v1.0/users/${target.id}/appRoleAssignments`, { token: guest })).status, 403);
        // Tenant B's all-powerful app never sees A's service principal.
        const other = await statuses(b.adminToken);
        assert.deepEqual({ ...other, list: 0, instantiate: 0 }, { list: 0, get: 404, listAssigned: 404, instantiate: 0, assign: 404 });
        const listed = await ts.request('GET', '/v1.0/servicePrincipals', { token: b.adminToken });
        assert.ok(!listed.text.includes(sp.id));
        assert.ok(listed.body.value.every((s: { appOwnerOrganizationId: string }) => s.appOwnerOrganizationId === b.tenantId));
      });
    });
  });
}

