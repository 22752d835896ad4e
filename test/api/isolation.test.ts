// Tenant isolation sweep: tenant B's most powerful app token and a B member's delegated token call every
// Graph route the app has registered (buildApp's routeTable, so routes added later are swept too) with
// tenant A's object ids and UPNs in the route parameters. Each call must be refused and no response may
// carry anything of A. Then: tokens that must never authenticate at all.
//
// Not swept, with reason: the identity routes (`/{tenant}/…`: OIDC discovery, JWKS, token endpoint) are
// public by design and addressed by tenant, not by token; the operator API (`/operator/v1/…`) is guarded
// by the operator key, not by tenant tokens — its key check is covered below instead. The tenant API
// (`/openmto/v1/…`) takes no tenant or id from the path; it is swept separately with A's ids in the query.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { dialects, startTestServer, type TestServer, type TestTenant } from '../helpers/harness.js';
import { tenantKeyOf } from '../../src/store/repos/tenantKeys.js';

const refusedStatuses = new Set([400, 401, 403, 404, 405]);

for (const dialect of dialects()) {
  describe(`tenant isolation (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    let b: TestTenant;
    let bUserToken: string;
    /** A's identifiers that may be echoed back only when the request itself carried them. */
    const aKeys: string[] = [];
    /** A's facts no response to B may ever contain. */
    const aSecrets: string[] = [];
    const aState: { userId: string; upn: string; deletedId: string; groupId?: string; spId?: string; applicationId?: string; assignmentId?: string } = {
      userId: '', upn: '', deletedId: '',
    };

    before(async () => {
      ts = await startTestServer(dialect);
      [a, b] = [await ts.tenant('Alpha Isolated'), await ts.tenant('Bravo Prober')];
      const user = await ts.user(a.tenantId, { displayName: 'Zyxalpha Visible', mail: `zyx.visible@${a.domain}`, otherMails: ['zyx.other@alpha.example'] });
      const gone = await ts.user(a.tenantId, { displayName: 'Zyxalpha Deleted' });
      assert.equal((await ts.request('DELETE', `/v1.0/users/${gone.id}`, { token: a.adminToken })).status, 204);
      Object.assign(aState, { userId: user.id, upn: user.userPrincipalName, deletedId: gone.id });
      aKeys.push(user.id, user.userPrincipalName, gone.id, gone.userPrincipalName);
      aSecrets.push(a.tenantId, 'Zyxalpha', 'zyx.visible', 'zyx.other');
      // Groups join the sweep as soon as the groups module serves POST /groups.
      const group = await ts.request('POST', '/v1.0/groups', {
        token: a.adminToken,
        body: { displayName: 'Zyxalpha Group', mailEnabled: false, mailNickname: 'zyxgroup', securityEnabled: true },
      });
      if (group.status === 201) {
        aState.groupId = group.body.id;
        aKeys.push(group.body.id);
      }
      // A's cross-tenant sync configuration (application + service principal) and an assignment to it.
      const config = await ts.request('POST', '/v1.0/applicationTemplates/518e5f48-1fc8-4c48-9387-9fdf28b0dfe7/instantiate', {
        token: a.adminToken, body: { displayName: 'Zyxalpha Config' },
      });
      if (config.status === 201) {
        const sp = config.body.servicePrincipal;
        const assigned = await ts.request('POST', `/v1.0/servicePrincipals/${sp.id}/appRoleAssignedTo`, {
          token: a.adminToken, body: { principalId: user.id, resourceId: sp.id, appRoleId: sp.appRoles[0].id },
        });
        assert.equal(assigned.status, 201);
        Object.assign(aState, { spId: sp.id, applicationId: config.body.application.id, assignmentId: assigned.body.id });
        aKeys.push(sp.id, sp.appId, config.body.application.id, assigned.body.id);
      }
      bUserToken = await ts.userToken(b.tenantId, await ts.user(b.tenantId, { displayName: 'Bravo Member' }));
    });
    after(() => ts.close());

    const assertNoLeak = (text: string, sent: string, where: string) => {
      for (const s of aSecrets) assert.ok(!text.includes(s), `${where} leaked '${s}': ${text.slice(0, 300)}`);
      for (const k of aKeys) {
        if (!sent.toLowerCase().includes(k.toLowerCase())) assert.ok(!text.toLowerCase().includes(k.toLowerCase()), `${where} leaked '${k}'`);
      }
    };

    test('B tokens on every Graph route with A ids: refused, nothing of A returned or changed', async (t) => {
      const routes = ts.server.app.routeTable.filter((r) => /^\/(v1\.0|beta)(\/|$)/.test(r.url));
      assert.ok(routes.some((r) => r.method === 'GET' && r.url === '/v1.0/users/:id'), 'the route table is populated');
      const values = [aState.userId, aState.upn, aState.deletedId, ...(aState.groupId ? [aState.groupId] : [])];
      const apps = aState.spId ? [aState.spId, aState.applicationId!, aState.assignmentId!] : [];
      values.push(...apps);
      let calls = 0;
      for (const route of routes) {
        const params = route.url.match(/:[^/]+/g) ?? [];
        const variants: string[][] = params.length ? values.map((v) => params.map(() => v)) : [[]];
        if (params.length > 1) {
          // Mixed: a container of A's (group or user) with A's user as the member/item.
          for (const first of values) variants.push(params.map((_, i) => (i === 0 ? first : aState.userId)));
          // A's service principal with its assignment (appRoleAssignedTo/{assignmentId}).
          if (aState.spId) variants.push(params.map((_, i) => (i === 0 ? aState.spId! : aState.assignmentId!)));
        }
        for (const variant of variants) {
          let i = 0;
          const path = route.url.replace(/:[^/]+/g, () => encodeURIComponent(variant[i++]!));
          const sentValues = variant.join(' ');
          // Bodies and queries also point at A's objects, the way a $ref or a filter would.
          const isBatch = route.url.endsWith('/$batch');
          const body = isBatch
            ? {
              requests: values.flatMap((v, n) => [
                { id: `g${n}`, method: 'GET', url: `/users/${v}` },
                { id: `p${n}`, method: 'PATCH', url: `/users/${v}`, body: { jobTitle: 'Probe' }, headers: { 'content-type': 'application/json' } },
                { id: `r${n}`, method: 'POST', url: `/directory/deletedItems/${v}/restore` },
              ]),
            }
            : ['POST', 'PATCH', 'PUT'].includes(route.method)
              ? { '@odata.id': `${ts.url}/v1.0/directoryObjects/${variant[0] ?? aState.userId}`, displayName: 'Probe' }
              : undefined;
          const query = !params.length && route.method === 'GET' ? `?$filter=${encodeURIComponent(`id eq '${aState.userId}'`)}` : '';
          const sentText = `${sentValues} ${body ? JSON.stringify(body) : ''} ${query ? aState.userId : ''}`;
          const batchInnerRefused = (res: { body: { responses?: { id: string; status: number }[] } }, where: string) => {
            if (!isBatch || !Array.isArray(res.body?.responses)) return;
            for (const r of res.body.responses) assert.ok(refusedStatuses.has(r.status), `${where}: batch item ${r.id} → ${r.status}`);
          };
          for (const [who, token] of [['B admin app', b.adminToken], ['B member', bUserToken]] as const) {
            for (const q of query ? ['', query] : ['']) {
              const res = await ts.request(route.method, `${path}${q}`, { token, ...(body ? { body } : {}) });
              calls++;
              const where = `${who}: ${route.method} ${path}${q} → ${res.status}`;
              assert.ok(res.status < 500, where);
              if (params.length) assert.ok(refusedStatuses.has(res.status), `${where} ${res.text.slice(0, 200)}`);
              assertNoLeak(res.text, sentText, where);
              batchInnerRefused(res, where);
            }
          }
        }
      }
      assert.ok(calls > 20, `swept ${calls} calls`);
      t.diagnostic(`swept ${routes.length} routes in ${calls} calls${aState.groupId ? ', groups included' : ', no groups module'}`);
      // And A's objects are exactly as they were.
      const got = await ts.request('GET', `/v1.0/users/${aState.userId}?$select=displayName,deletedDateTime`, { token: a.adminToken });
      assert.equal(got.body.displayName, 'Zyxalpha Visible');
      assert.equal((await ts.request('GET', `/v1.0/users/${aState.deletedId}`, { token: a.adminToken })).status, 404, 'still soft-deleted');
      const deleted = await ts.server.store.db.selectFrom('users').select('deleted_at')
        .where('tenant_no', '=', tenantKeyOf(a.tenantId)).where('id', '=', aState.deletedId).executeTakeFirst();
      assert.ok(deleted?.deleted_at, 'the soft-deleted user is neither restored nor purged');
      if (aState.groupId) assert.equal((await ts.request('GET', `/v1.0/groups/${aState.groupId}`, { token: a.adminToken })).status, 200);
      if (aState.spId) {
        const assigned = await ts.request('GET', `/v1.0/servicePrincipals/${aState.spId}/appRoleAssignedTo`, { token: a.adminToken });
        assert.deepEqual(assigned.body.value.map((x: { id: string }) => x.id), [aState.assignmentId], 'the assignment is untouched');
        assert.equal((await ts.request('GET', `/v1.0/applications/${aState.applicationId}`, { token: a.adminToken })).body.displayName, 'Zyxalpha Config');
      }
    });

    test('B sees none of A through collection queries', async () => {
      for (const token of [b.adminToken, bUserToken]) {
        const list = await ts.request('GET', `/v1.0/users?$filter=${encodeURIComponent(`userPrincipalName eq '${aState.upn}'`)}`, { token });
        assert.deepEqual(list.body.value, []);
        const search = await ts.request('GET', `/v1.0/users?$search=${encodeURIComponent('"displayName:zyxalpha"')}&$count=true`, {
          token, headers: { consistencylevel: 'eventual' },
        });
        assert.equal(search.body['@odata.count'], 0);
        const all = await ts.request('GET', '/v1.0/users?$top=999', { token });
        assertNoLeak(all.text, '', 'GET /users');
      }
    });

    describe('tokens that never authenticate', () => {
      const expect401 = async (token: string, why: string) => {
        for (const path of ['/v1.0/users', '/v1.0/me', `/v1.0/users/${aState.userId}`]) {
          const res = await ts.request('GET', path, { token });
          assert.equal(res.status, 401, `${why}: ${path} ${res.text}`);
          assert.equal(res.body.error.code, 'InvalidAuthenticationToken');
          assertNoLeak(res.text, '', why);
        }
      };

      test('signed by another key (same kid and claims)', async () => {
        const { privateKey } = await generateKeyPair('RS256');
        const real = a.adminToken;
        const forged = await new SignJWT(decodeJwt(real)).setProtectedHeader(decodeProtectedHeader(real) as { alg: string }).sign(privateKey);
        await expect401(forged, 'forged');
        const none = `${real.split('.').slice(0, 2).join('.')}.`;
        await expect401(none, 'unsigned');
      });

      test('a tampered tid', async () => {
        const [h, p, s] = b.adminToken.split('.') as [string, string, string];
        const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
        claims.tid = a.tenantId;
        claims.iss = String(claims.iss).replace(b.tenantId, a.tenantId);
        await expect401(`${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`, 'tampered tid');
      });

      test('a token whose tenant was deleted', async () => {
        const c = await ts.tenant('Soon Gone');
        assert.equal((await ts.request('GET', '/v1.0/users', { token: c.adminToken })).status, 200);
        const key = readFileSync(ts.server.operatorKeyPath, 'utf8').trim();
        assert.equal((await ts.request('DELETE', `/operator/v1/tenants/${c.tenantId}`, { token: key })).status, 204);
        await expect401(c.adminToken, 'deleted tenant');
      });

      test('an expired token (2 h later)', async () => {
        ts.clock.advance(2 * 3600_000);
        try {
          await expect401(b.adminToken, 'expired');
          await expect401(bUserToken, 'expired delegated');
        } finally {
          ts.clock.advance(-2 * 3600_000);
        }
        assert.equal((await ts.request('GET', '/v1.0/users', { token: b.adminToken })).status, 200);
      });
    });

    test('tenant API (/openmto/v1): B tokens on every route, with A ids in the query, read only B', async () => {
      // These routes take no tenant or object from the path: the token's tenant is the only one they touch.
      const routes = ts.server.app.routeTable.filter((r) => r.url.startsWith('/openmto/') && r.method !== 'HEAD');
      assert.ok(routes.length >= 5, 'the tenant API is in the route table');
      const query = `?searcher=${encodeURIComponent(aState.upn)}&person=${aState.userId}&tenant=${a.tenantId}`;
      for (const r of routes) {
        for (const [who, token] of [['B admin app', b.adminToken], ['B member', bUserToken]] as const) {
          const body = r.method === 'PUT' ? { users: [aState.userId, aState.upn], groups: aState.groupId ? [aState.groupId] : [] } : undefined;
          const res = await ts.request(r.method, `${r.url}${query}`, { token, ...(body ? { body } : {}) });
          const where = `${who}: ${r.method} ${r.url} → ${res.status}`;
          assert.ok(res.status < 500, where);
          assertNoLeak(res.text, `${decodeURIComponent(query)} ${JSON.stringify(body ?? '')}`, where);
          // The sweep above may have made B an organization of its own ("Probe"): its report holds B only.
          if (who === 'B member') assert.equal(res.status, 403, where);
          if (r.url.endsWith('/readiness') && res.status === 200) assert.deepEqual(res.body.tenants.map((t: { tenantId: string }) => t.tenantId), [b.tenantId]);
          if (r.url.endsWith('/explain') && who !== 'B member') assert.ok(res.status === 400 || res.status === 404, `${where}: A's users are not in B's organization`);
          if (r.method === 'PUT') assert.ok(refusedStatuses.has(res.status), `${where}: A's users are not B's to share`);
        }
      }
      const aSharing = await ts.request('GET', '/openmto/v1/sharing', { token: a.adminToken });
      assert.deepEqual(aSharing.body.users, [], "A's sharing is untouched");
    });

    test('operator API: no key or a wrong key → 401 on every operator route; tenant tokens are not keys', async () => {
      const routes = ts.server.app.routeTable.filter((r) => r.url.startsWith('/operator/'));
      assert.ok(routes.length >= 3);
      for (const r of routes) {
        const path = r.url.replace(/:[^/]+/g, a.tenantId);
        for (const token of [undefined, 'omk_wrong', b.adminToken]) {
          const res = await ts.request(r.method, path, { ...(token ? { token } : {}), ...(r.method === 'POST' ? { body: { name: 'x' } } : {}) });
          assert.equal(res.status, 401, `${r.method} ${path} with ${token ? 'a wrong key' : 'no key'}`);
          if (r.method !== 'HEAD') assert.equal(res.body.error.code, 'InvalidAuthenticationToken');
        }
      }
      const key = readFileSync(ts.server.operatorKeyPath, 'utf8').trim();
      assert.equal((await ts.request('GET', '/operator/v1/tenants', { token: key })).status, 200);
    });
  });
}
