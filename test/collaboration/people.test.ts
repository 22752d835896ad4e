// People search for signed-in users (GET /me/people) through the Microsoft Graph client with delegated
// tokens: ranking (exact, name prefix, address prefix; ties by displayName), paging, $select, the address
// list and disabled filtering, guest restrictions, the tenant wall, B2B members marked, and a user synced a
// moment ago found at once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@microsoft/microsoft-graph-client';
import { dialects, graphClient, startTestServer, type TestServer, type TestTenant, type TestUser } from '../helpers/harness.js';
import { allowInbound, allowOutbound, assign, configure, jobAction, settle } from '../helpers/sync.js';

type Person = { id: string; displayName: string; userPrincipalName?: string; jobTitle?: string | null; personType: { class: string; subclass: string };
  scoredEmailAddresses?: { address: string; relevanceScore: number }[] };

for (const dialect of dialects()) {
  describe(`people search (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    let b: TestTenant;
    const u = new Map<string, TestUser>();
    let annie: Client;
    const domainOf = (t: TestTenant) => (t as unknown as { domain: string }).domain;
    const names = async (client: Client, search: string, top = 20) =>
      ((await client.api('/me/people').search(search).top(top).get()).value as Person[]).map((p) => p.displayName);

    before(async () => {
      ts = await startTestServer(dialect);
      [a, b] = [await ts.tenant('A'), await ts.tenant('B')];
      const da = domainOf(a);
      const add = async (t: TestTenant, key: string, props: Record<string, unknown>) => u.set(key, await ts.user(t.tenantId, { userPrincipalName: `${key}@${domainOf(t)}`, ...props }));
      await add(a, 'annie', { displayName: 'Annie Archer', givenName: 'Annie', surname: 'Archer', mail: `annie@${da}`, jobTitle: 'Engineer' });
      await add(a, 'ann', { displayName: 'Ann' });
      await add(a, 'zach', { displayName: 'Zach Ann', givenName: 'Zach', surname: 'Ann' });
      await add(a, 'anna', { displayName: 'Anna Zed', givenName: 'Anna', surname: 'Zed' });
      await add(a, 'zoe', { displayName: 'Zoe Annex', givenName: 'Zoe', surname: 'Annex' });
      await add(a, 'bot', { displayName: 'Report Bot', mail: `annual@${da}` });
      await add(a, 'hidden', { displayName: 'Anne Hidden', showInAddressList: false });
      await add(a, 'off', { displayName: 'Anne Disabled', accountEnabled: false });
      await add(a, 'guest', { displayName: 'Annika Guest', userType: 'Guest', mail: `annika@elsewhere.test` });
      await add(b, 'annabel', { displayName: 'Annabel Bee', givenName: 'Annabel', mail: `annabel@${domainOf(b)}` });
      await add(b, 'anders', { displayName: 'Anders Bee', givenName: 'Anders' });
      annie = graphClient(ts, await ts.userToken(a.tenantId, u.get('annie')!));
    });
    after(() => ts?.close());

    test('ranked: exact names, then name prefixes, then address prefixes; ties by displayName', async () => {
      assert.deepEqual(await names(annie, 'ann'), ['Ann', 'Zach Ann', 'Anna Zed', 'Annie Archer', 'Zoe Annex', 'Report Bot']);
      // Quoted as Graph's examples write it, any case.
      assert.deepEqual(await names(annie, '"ANNIE"'), ['Annie Archer']);
      assert.deepEqual(await names(annie, 'annual@'), ['Report Bot']);
      const page = (await annie.api('/me/people').search('ann').get()).value as Person[];
      assert.equal(page[0]?.scoredEmailAddresses?.length, 0);
      const archer = page.find((p) => p.displayName === 'Annie Archer')!;
      assert.deepEqual(archer.personType, { class: 'Person', subclass: 'OrganizationUser' });
      assert.equal(archer.scoredEmailAddresses?.[0]?.address, `annie@${domainOf(a)}`);
      assert.equal(archer.userPrincipalName, u.get('annie')!.userPrincipalName);
      assert.equal(archer.jobTitle, 'Engineer');
    });

    test('$top, $skip and nextLink page through the same ranking; $select narrows the person', async () => {
      const first = await annie.api('/me/people').search('ann').top(2).get();
      assert.deepEqual(first.value.map((p: Person) => p.displayName), ['Ann', 'Zach Ann']);
      assert.ok(first['@odata.nextLink']);
      const second = await annie.api(first['@odata.nextLink']).get();
      assert.deepEqual(second.value.map((p: Person) => p.displayName), ['Anna Zed', 'Annie Archer']);
      const skipped = await annie.api('/me/people').search('ann').skip(4).top(5).get();
      assert.deepEqual(skipped.value.map((p: Person) => p.displayName), ['Zoe Annex', 'Report Bot']);
      assert.equal(skipped['@odata.nextLink'], undefined);
      const sel = await annie.api('/me/people').search('zach').select(['displayName', 'personType']).get();
      assert.deepEqual(sel.value, [{ id: u.get('zach')!.id, displayName: 'Zach Ann', personType: { class: 'Person', subclass: 'OrganizationUser' } }]);
      const bad = await ts.request('GET', '/v1.0/me/people?$top=0', { token: await ts.userToken(a.tenantId, u.get('annie')!) });
      assert.equal(bad.status, 400);
      const badSelect = await ts.request('GET', '/v1.0/me/people?$select=mobilePhone', { token: await ts.userToken(a.tenantId, u.get('annie')!) });
      assert.equal(badSelect.status, 400);
    });

    test('hidden, disabled and unlisted guests are left out; another tenant\'s users are never returned', async () => {
      const all = await names(annie, 'ann');
      for (const n of ['Anne Hidden', 'Anne Disabled', 'Annika Guest', 'Annabel Bee']) assert.ok(!all.includes(n), n);
      // Without $search: everyone listed, by displayName.
      const everyone = ((await annie.api('/me/people').top(50).get()).value as Person[]).map((p) => p.displayName);
      assert.deepEqual(everyone, ['Ann', 'Anna Zed', 'Annie Archer', 'Report Bot', 'Zach Ann', 'Zoe Annex']);
      const bToken = await ts.userToken(b.tenantId, u.get('annabel')!);
      assert.deepEqual(await names(graphClient(ts, bToken), 'ann'), ['Annabel Bee']);
    });

    test('a default guest finds others only by full address, with the guest property set; a restricted guest only itself', async () => {
      const guest = graphClient(ts, await ts.userToken(a.tenantId, u.get('guest')!));
      // Nobody but itself by a name (a guest cannot enumerate; the caller always finds itself).
      assert.deepEqual(await names(guest, 'ann'), ['Annika Guest']);
      const byAddress = (await guest.api('/me/people').search(`annie@${domainOf(a)}`).get()).value as Person[];
      assert.equal(byAddress.length, 1);
      assert.equal(byAddress[0]!.displayName, 'Annie Archer');
      assert.equal(byAddress[0]!.jobTitle, undefined);
      await graphClient(ts, a.adminToken).api('/policies/authorizationPolicy').patch({ guestUserRoleId: '2af84b1e-32c8-42b7-82bc-daa82404023b' });
      try {
        assert.deepEqual(await names(guest, `annie@${domainOf(a)}`), []);
        assert.deepEqual(await names(guest, 'annika'), ['Annika Guest']);
        assert.deepEqual(((await guest.api('/me/people').get()).value as Person[]).map((p) => p.id), [u.get('guest')!.id]);
      } finally {
        await graphClient(ts, a.adminToken).api('/policies/authorizationPolicy').patch({ guestUserRoleId: '10dae51f-b6af-4016-8d66-8c2a99b929b3' });
      }
    });

    test('delegated only: an app token gets the /me error; /users/{id}/people serves only the caller', async () => {
      const app = await ts.request('GET', '/v1.0/me/people', { token: a.adminToken });
      assert.equal(app.status, 400);
      assert.match(app.body.error.message, /delegated authentication flow/);
      const token = await ts.userToken(a.tenantId, u.get('annie')!);
      const own = await ts.request('GET', `/v1.0/users/${u.get('annie')!.id}/people?$search=zach`, { token });
      assert.equal(own.status, 200, own.text);
      assert.equal(own.body.value[0].displayName, 'Zach Ann');
      assert.equal((await ts.request('GET', `/v1.0/users/${u.get('ann')!.id}/people`, { token })).status, 403);
      assert.equal((await ts.request('GET', `/v1.0/users/${u.get('annie')!.id}/people`, { token: a.adminToken })).status, 403);
    });

    test('a B2B member synced a moment ago is found at once, marked apart from internal members', async () => {
      assert.deepEqual(await names(annie, 'annabel'), []);
      await allowInbound(ts, a, b);
      await allowOutbound(ts, b, a);
      const cfg = await configure(ts, b, a);
      await assign(ts, b, cfg, u.get('annabel')!.id);
      await jobAction(ts, b, cfg, 'start');
      await settle(ts);
      const found = (await annie.api('/me/people').search('annabel').get()).value as Person[];
      assert.deepEqual(found.map((p) => [p.displayName, p.personType.subclass]), [['Annabel Bee', 'ExternalMember']]);
      // Anders is not assigned: never provisioned, never found.
      assert.deepEqual(await names(annie, 'anders'), []);
      // A change at home reaches A's search as soon as the engine's write commits.
      await graphClient(ts, b.adminToken).api(`/users/${u.get('annabel')!.id}`).patch({ displayName: 'Annabel Renamed' });
      await settle(ts);
      assert.deepEqual(await names(annie, 'annabel r'), ['Annabel Renamed']);
    });
  });
}
