// Who may do what, as one table: callers (rows) × operations (columns), each cell the expected HTTP
// status; then the guest rules in detail, and the seed's point: the same B2B person cannot search the
// directory as a Guest and can once converted to a Member.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { guestVisibleUserProperties } from '../../src/directory/access.js';
import { dialects, graphClient, startTestServer, type TestServer, type TestTenant, type TestUser } from '../helpers/harness.js';

const CTAP = '/policies/crossTenantAccessPolicy';
const eventual = { consistencylevel: 'eventual' };
// A PATCH that changes nothing: inboundTrust is already inherited.
const noChange = { inboundTrust: null };

type Row = 'appWithout' | 'appWith' | 'member' | 'defaultGuest' | 'restrictedGuest' | 'b2bMember' | 'otherTenant';
type Column = 'listUsers' | 'getUserById' | 'search' | 'invite' | 'readPolicy' | 'writePolicy';

const matrix: Record<Row, Record<Column, number>> = {
  //                listUsers  getUserById  search  invite  readPolicy  writePolicy
  appWithout:      { listUsers: 403, getUserById: 403, search: 403, invite: 403, readPolicy: 403, writePolicy: 403 },
  appWith:         { listUsers: 200, getUserById: 200, search: 200, invite: 201, readPolicy: 200, writePolicy: 204 },
  member:          { listUsers: 200, getUserById: 200, search: 200, invite: 201, readPolicy: 200, writePolicy: 403 },
  defaultGuest:    { listUsers: 403, getUserById: 200, search: 403, invite: 201, readPolicy: 403, writePolicy: 403 },
  restrictedGuest: { listUsers: 403, getUserById: 403, search: 403, invite: 201, readPolicy: 403, writePolicy: 403 },
  b2bMember:       { listUsers: 200, getUserById: 200, search: 200, invite: 201, readPolicy: 200, writePolicy: 403 },
  // Another tenant's token only ever reaches its own tenant: B's user is not found, B's data never listed.
  otherTenant:     { listUsers: 200, getUserById: 404, search: 200, invite: 201, readPolicy: 200, writePolicy: 204 },
};

for (const dialect of dialects()) {
  describe(`permission matrix (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant; // home of the B2B users; its admin app is the "other tenant" caller
    let b: TestTenant; // resource tenant, default guest role
    let c: TestTenant; // resource tenant, restricted guest role
    let target: { b: TestUser; c: TestUser };
    const callers = {} as Record<Row, { token: string; tenant: TestTenant; partner?: string }>;
    let n = 0;

    /** Invites a home user of A into `resource` (auto-redeemed) and returns a resource-tenant token for it. */
    async function b2bToken(resource: TestTenant, type: 'Guest' | 'Member', home?: TestUser): Promise<{ token: string; id: string; home: TestUser }> {
      const who = home ?? (await ts.user(a.tenantId));
      const inv = await graphClient(ts, resource.adminToken).api('/invitations')
        .post({ invitedUserEmailAddress: who.userPrincipalName, inviteRedirectUrl: 'https://example.net/', invitedUserType: type });
      assert.equal(inv.status, 'Completed');
      return { token: await ts.userToken(resource.tenantId, who), id: inv.invitedUser.id, home: who };
    }

    before(async () => {
      ts = await startTestServer(dialect);
      a = await ts.tenant('Contoso');
      b = await ts.tenant('Fabrikam');
      c = await ts.tenant('Northwind');
      const ga = graphClient(ts, a.adminToken);
      for (const resource of [b, c]) {
        await ga.api(`${CTAP}/partners`).post({ tenantId: resource.tenantId, automaticUserConsentSettings: { outboundAllowed: true } });
        await graphClient(ts, resource.adminToken).api(`${CTAP}/partners`).post({ tenantId: a.tenantId, automaticUserConsentSettings: { inboundAllowed: true } });
      }
      await graphClient(ts, c.adminToken).api('/policies/authorizationPolicy').patch({ guestUserRoleId: '2af84b1e-32c8-42b7-82bc-daa82404023b' });
      target = { b: await ts.user(b.tenantId, { displayName: 'Target Person' }), c: await ts.user(c.tenantId, { displayName: 'Target Person' }) };
      const policyPerms = ['User.Read.All', 'User.Invite.All', 'Policy.ReadWrite.CrossTenantAccess', 'Policy.ReadWrite.Authorization'];
      callers.appWithout = { token: await ts.appToken(b.tenantId, []), tenant: b };
      callers.appWith = { token: await ts.appToken(b.tenantId, policyPerms), tenant: b };
      callers.member = { token: await ts.userToken(b.tenantId, await ts.user(b.tenantId)), tenant: b };
      callers.defaultGuest = { token: (await b2bToken(b, 'Guest')).token, tenant: b };
      callers.restrictedGuest = { token: (await b2bToken(c, 'Guest')).token, tenant: c };
      callers.b2bMember = { token: (await b2bToken(b, 'Member')).token, tenant: b };
      callers.otherTenant = { token: a.adminToken, tenant: b, partner: b.tenantId };
    });
    after(() => ts.close());

    const run: Record<Column, (token: string, t: TestTenant, partnerId: string) => Promise<{ status: number; body: { value?: { id: string }[] } }>> = {
      listUsers: (token) => ts.request('GET', '/v1.0/users?$select=id', { token }),
      getUserById: (token, t) => ts.request('GET', `/v1.0/users/${t === c ? target.c.id : target.b.id}`, { token }),
      search: (token) => ts.request('GET', '/v1.0/users?$search="displayName:Target"', { token, headers: eventual }),
      invite: (token) => ts.request('POST', '/v1.0/invitations', {
        token, body: { invitedUserEmailAddress: `matrix${n++}@outside.example.org`, inviteRedirectUrl: 'https://example.net/' },
      }),
      readPolicy: async (token) => {
        const partners = await ts.request('GET', `/v1.0${CTAP}/partners`, { token });
        const authz = await ts.request('GET', '/v1.0/policies/authorizationPolicy', { token });
        assert.equal(partners.status, authz.status, 'both policies answer alike');
        return partners;
      },
      writePolicy: async (token, _t, partnerId) => {
        const authz = await ts.request('PATCH', '/v1.0/policies/authorizationPolicy', { token, body: { blockMsolPowerShell: false } });
        const partner = await ts.request('PATCH', `/v1.0${CTAP}/partners/${partnerId}`, { token, body: noChange });
        assert.equal(partner.status, authz.status, 'both policies answer alike');
        return authz;
      },
    };

    for (const [row, cells] of Object.entries(matrix) as [Row, Record<Column, number>][]) {
      test(`${row}: ${Object.entries(cells).map(([k, v]) => `${k} ${v}`).join(', ')}`, async () => {
        const { token, tenant, partner = a.tenantId } = callers[row];
        for (const [column, expected] of Object.entries(cells) as [Column, number][]) {
          const res = await run[column](token, tenant, partner);
          assert.equal(res.status, expected, `${row} × ${column}: ${JSON.stringify(res.body)}`);
          if (row === 'otherTenant' && column === 'invite') {
            const id = (res.body as unknown as { invitedUser: { id: string } }).invitedUser.id;
            const where = await ts.server.store.db.selectFrom('users').innerJoin('tenants', 'tenants.no', 'users.tenant_no')
              .select('tenants.id as tenantId').where('users.id', '=', id).execute();
            assert.deepEqual(where.map((w) => w.tenantId), [a.tenantId], 'the invitation lands in the token\'s own tenant');
          }
          if (row === 'otherTenant' && res.status === 200 && Array.isArray(res.body.value)) {
            const bIds = new Set([target.b.id]);
            assert.ok(res.body.value.every((u) => !bIds.has(u.id)), 'no object of another tenant is listed');
          }
        }
      });
    }

    test('guests in detail: limited properties by id, never by UPN; restricted guests see only themselves', async () => {
      const guest = callers.defaultGuest.token;
      const byId = await ts.request('GET', `/v1.0/users/${target.b.id}?$select=id,displayName,jobTitle,mail,userPrincipalName`, { token: guest });
      assert.equal(byId.status, 200);
      const keys = Object.keys(byId.body).filter((k) => !k.startsWith('@odata'));
      assert.ok(keys.every((k) => guestVisibleUserProperties.has(k)), keys.join());
      assert.ok(!('jobTitle' in byId.body));
      assert.equal((await ts.request('GET', `/v1.0/users/${target.b.userPrincipalName}`, { token: guest })).status, 403);
      assert.equal((await ts.request('GET', '/v1.0/users/$count', { token: guest, headers: eventual })).status, 403);
      const restricted = callers.restrictedGuest.token;
      const me = await ts.request('GET', '/v1.0/me', { token: restricted });
      assert.equal(me.status, 200);
      assert.equal((await ts.request('GET', `/v1.0/users/${me.body.id}`, { token: restricted })).status, 200);
      assert.equal((await ts.request('GET', `/v1.0/users/${target.c.userPrincipalName}`, { token: restricted })).status, 403);
    });

    test('the seed: as a Guest the same person cannot search the directory; as a B2B Member they can', async () => {
      const annie = await b2bToken(b, 'Guest');
      const search = () => ts.request('GET', '/v1.0/users?$search="displayName:Target"&$select=id,displayName', { token: annie.token, headers: eventual });
      assert.equal((await search()).status, 403);
      const convert = await ts.request('PATCH', `/v1.0/users/${annie.id}`, { token: b.adminToken, body: { userType: 'Member' } });
      assert.equal(convert.status, 204);
      const found = await search();
      assert.equal(found.status, 200);
      assert.deepEqual(found.body.value.map((u: { id: string }) => u.id), [target.b.id]);
      const u = await ts.request('GET', `/v1.0/users/${annie.id}?$select=userType,creationType,externalUserState,showInAddressList`, { token: b.adminToken });
      assert.deepEqual(
        [u.body.userType, u.body.creationType, u.body.externalUserState, u.body.showInAddressList],
        ['Member', 'Invitation', 'Accepted', true],
      );
    });
  });
}
