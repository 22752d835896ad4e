// OIDC discovery, JWKS, token claims, and who may do what with app and delegated tokens.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, decodeJwt, type JSONWebKeySet, jwtVerify } from 'jose';
import { dialects, startTestServer, type TestServer, type TestTenant, type TestUser } from '../helpers/harness.js';

for (const dialect of dialects()) {
  describe(`authentication and authorization (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    let member: TestUser;
    let other: TestUser;
    let admin: TestUser;
    let memberToken: string;

    before(async () => {
      ts = await startTestServer(dialect);
      a = await ts.tenant('Auth Co');
      member = await ts.user(a.tenantId, { displayName: 'Mel Member' });
      other = await ts.user(a.tenantId, { displayName: 'Otto Other' });
      admin = await ts.user(a.tenantId, { displayName: 'Ada Admin', roles: ['User Administrator'] });
      memberToken = await ts.userToken(a.tenantId, member);
    });
    after(() => ts.close());

    test('OIDC discovery by tenant id and by domain, on both well-known paths', async () => {
      const issuer = `${ts.url}/${a.tenantId}/v2.0`;
      for (const ref of [a.tenantId, a.domain, a.domain.toUpperCase()]) {
        for (const path of [`/${ref}/v2.0/.well-known/openid-configuration`, `/${ref}/.well-known/openid-configuration`]) {
          const res = await ts.request('GET', path);
          assert.equal(res.status, 200, path);
          assert.equal(res.body.issuer, issuer, 'the issuer names the tenant by id whatever the path used');
          assert.equal(res.body.token_endpoint, `${ts.url}/${a.tenantId}/oauth2/v2.0/token`);
          assert.equal(res.body.jwks_uri, `${ts.url}/${a.tenantId}/discovery/v2.0/keys`);
          assert.ok(res.body.id_token_signing_alg_values_supported.includes('RS256'));
        }
      }
      const unknown = await ts.request('GET', '/nobody.example/v2.0/.well-known/openid-configuration');
      assert.equal(unknown.status, 400);
    });

    test('JWKS verifies issued tokens; claims match the authority', async () => {
      const discovery = (await ts.request('GET', `/${a.tenantId}/v2.0/.well-known/openid-configuration`)).body;
      const jwks = createLocalJWKSet((await ts.request('GET', new URL(discovery.jwks_uri).pathname)).body as JSONWebKeySet);
      const verify = (t: string) => jwtVerify(t, jwks, { issuer: discovery.issuer, audience: 'https://graph.microsoft.com', currentDate: ts.clock.now() });

      const app = (await verify(a.adminToken)).payload;
      assert.equal(app.tid, a.tenantId);
      assert.equal(app.oid, a.adminApp.clientId);
      assert.equal(app.idtyp, 'app');
      assert.ok(Array.isArray(app.roles) && (app.roles as string[]).includes('User.ReadWrite.All'));
      assert.equal(app.scp, undefined);
      const lifetime = (app.exp ?? 0) - (app.iat ?? 0);
      assert.ok(lifetime > 3000 && lifetime <= 5400, `an hour-ish lifetime, got ${lifetime}s`);

      const user = (await verify(memberToken)).payload;
      assert.equal(user.tid, a.tenantId);
      assert.equal(user.oid, member.id);
      assert.equal(user.idtyp, 'user');
      assert.match(String(user.scp), /\bUser\.Read\b/);
      assert.equal(user.roles, undefined);
      assert.equal(user.preferred_username, member.userPrincipalName);

      // Another tenant's token carries that tenant's issuer and fails this tenant's issuer check.
      const b = await ts.tenant('Other Co');
      assert.equal(decodeJwt(b.adminToken).iss, `${ts.url}/${b.tenantId}/v2.0`);
      await assert.rejects(verify(b.adminToken));
    });

    test('a member lists users and changes only its own self-service properties', async () => {
      const list = await ts.request('GET', '/v1.0/users', { token: memberToken });
      assert.equal(list.status, 200);
      assert.equal(list.body.value.length, 3);
      assert.equal((await ts.request('GET', `/v1.0/users/${other.id}`, { token: memberToken })).status, 200);

      assert.equal((await ts.request('PATCH', '/v1.0/me', { token: memberToken, body: { mobilePhone: '+1 555 0100' } })).status, 204);
      assert.equal((await ts.request('PATCH', `/v1.0/users/${member.id}`, { token: memberToken, body: { officeLocation: '4/101' } })).status, 204);
      const me = await ts.request('GET', '/v1.0/me?$select=mobilePhone,officeLocation', { token: memberToken });
      assert.deepEqual([me.body.mobilePhone, me.body.officeLocation], ['+1 555 0100', '4/101']);

      const denied = async (path: string, body: unknown) => {
        const res = await ts.request('PATCH', path, { token: memberToken, body });
        assert.equal(res.status, 403, `${path} ${JSON.stringify(body)}`);
        assert.equal(res.body.error.code, 'Authorization_RequestDenied');
      };
      await denied(`/v1.0/users/${other.id}`, { mobilePhone: '+1 555 0199' });
      await denied('/v1.0/me', { userType: 'Guest' });
      await denied('/v1.0/me', { jobTitle: 'Chief Everything' });
      assert.equal((await ts.request('DELETE', `/v1.0/users/${other.id}`, { token: memberToken })).status, 403);
      const created = await ts.request('POST', '/v1.0/users', {
        token: memberToken,
        body: { accountEnabled: true, displayName: 'X', mailNickname: 'x', userPrincipalName: `x@${a.domain}`, passwordProfile: { password: 'Str0ng!Passw0rd' } },
      });
      assert.equal(created.status, 403);
      const o = await ts.request('GET', `/v1.0/users/${other.id}?$select=mobilePhone,jobTitle`, { token: a.adminToken });
      assert.deepEqual([o.body.mobilePhone, o.body.jobTitle], [null, null]);
      assert.equal((await ts.request('GET', '/v1.0/me?$select=userType', { token: memberToken })).body.userType, 'Member');
    });

    test('a user with an admin role writes other users', async () => {
      const token = await ts.userToken(a.tenantId, admin);
      assert.equal((await ts.request('PATCH', `/v1.0/users/${other.id}`, { token, body: { jobTitle: 'Engineer', userType: 'Guest' } })).status, 204);
      const o = await ts.request('GET', `/v1.0/users/${other.id}?$select=jobTitle,userType`, { token });
      assert.deepEqual([o.body.jobTitle, o.body.userType], ['Engineer', 'Guest']);
    });

    test('apps: no User.Read.All → 403 on GET /users; User.Read.All → reads but cannot write', async () => {
      const none = await ts.appToken(a.tenantId, []);
      const res = await ts.request('GET', '/v1.0/users', { token: none });
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'Authorization_RequestDenied');
      assert.equal((await ts.request('GET', `/v1.0/users/${member.id}`, { token: none })).status, 403);
      const groupsOnly = await ts.appToken(a.tenantId, ['Group.Read.All']);
      assert.equal((await ts.request('GET', '/v1.0/users', { token: groupsOnly })).status, 403);

      const reader = await ts.appToken(a.tenantId, ['User.Read.All']);
      assert.equal((await ts.request('GET', '/v1.0/users', { token: reader })).status, 200);
      assert.equal((await ts.request('GET', `/v1.0/users/${member.userPrincipalName}`, { token: reader })).status, 200);
      const post = await ts.request('POST', '/v1.0/users', {
        token: reader,
        body: { accountEnabled: true, displayName: 'Y', mailNickname: 'y', userPrincipalName: `y@${a.domain}`, passwordProfile: { password: 'Str0ng!Passw0rd' } },
      });
      assert.equal(post.status, 403);
      assert.equal(post.body.error.code, 'Authorization_RequestDenied');
      assert.equal((await ts.request('PATCH', `/v1.0/users/${member.id}`, { token: reader, body: { jobTitle: 'x' } })).status, 403);
      assert.equal((await ts.request('DELETE', `/v1.0/users/${member.id}`, { token: reader })).status, 403);
      assert.equal((await ts.request('GET', '/v1.0/me', { token: reader })).status, 400, '/me needs a delegated token');
    });
  });
}
