// Graph delta queries (/users/delta, /groups/delta) through the real Graph SDK and raw HTTPS: the
// initial round by nextLinks to a deltaLink, then every kind of change, $select tracking,
// return=minimal, `latest`, token expiry and pruning, malformed tokens, and tenant isolation.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@microsoft/microsoft-graph-client';
import type { Actor } from '../../src/directory/access.js';
import { purgeUser, restoreUser } from '../../src/directory/users.js';
import { changesRepo } from '../../src/store/repos/changes.js';
import { groupsRepo } from '../../src/store/repos/groups.js';
import { dialects, graphClient, startTestServer, type TestServer, type TestTenant } from '../helpers/harness.js';

const DAY = 86_400_000;
// biome-ignore lint/suspicious/noExplicitAny: delta pages are inspected freely
type Page = any;

/** Follows nextLinks from `first` to the deltaLink; returns every page. */
async function round(client: Client, first: string, headers: Record<string, string> = {}): Promise<Page[]> {
  const pages: Page[] = [];
  let url: string | undefined = first;
  while (url) {
    let call = client.api(url);
    for (const [k, v] of Object.entries(headers)) call = call.header(k, v);
    const page: Page = await call.get();
    assert.ok(!(page['@odata.nextLink'] && page['@odata.deltaLink']), 'a page never has both links');
    pages.push(page);
    url = page['@odata.nextLink'];
    assert.ok(pages.length < 100, 'runaway paging');
  }
  assert.ok(pages.at(-1)['@odata.deltaLink'], 'the last page has the deltaLink');
  return pages;
}

const values = (pages: Page[]) => pages.flatMap((p) => p.value as Page[]);
const byId = (entries: Page[]) => new Map(entries.map((e) => [e.id as string, e]));

/** An actor for the use cases that have no Graph route yet (restore, permanent delete). */
const appActor = (tenantId: string): Actor => ({
  principal: { tenantId, kind: 'app', appId: 'delta-test', roles: new Set(['Directory.ReadWrite.All']), scopes: new Set() },
  readLevel: 'all', isAdmin: false,
});

for (const dialect of dialects()) {
  describe(`Graph delta queries (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    let b: TestTenant;
    let client: Client;
    const aUsers: string[] = [];
    const bUsers: string[] = [];
    before(async () => {
      ts = await startTestServer(dialect);
      a = await ts.tenant('Delta A');
      b = await ts.tenant('Delta B');
      client = graphClient(ts, a.adminToken);
      for (let i = 0; i < 7; i++) aUsers.push((await ts.user(a.tenantId, { displayName: `Alpha ${i}`, jobTitle: 'Tester' })).id);
      // B has more history than A, so A's watermarks are valid positions in B's log (isolation test).
      for (let i = 0; i < 12; i++) bUsers.push((await ts.user(b.tenantId, { displayName: `Beta ${i}` })).id);
    });
    after(() => ts.close());

    const dir = () => ({ store: ts.server.store, clock: ts.clock });

    test('initial round pages by nextLink to a deltaLink, then reports create, update, soft delete, restore, delete', async () => {
      const pages = await round(client, '/users/delta', { Prefer: 'odata.maxpagesize=3' });
      assert.ok(pages.length >= 3);
      assert.ok(pages.slice(0, -1).every((p) => p['@odata.nextLink'].startsWith(`${ts.url}/v1.0/users/delta?$skiptoken=`)));
      const deltaLink: string = pages.at(-1)['@odata.deltaLink'];
      assert.ok(deltaLink.startsWith(`${ts.url}/v1.0/users/delta?$deltatoken=`));
      const seen = values(pages);
      assert.deepEqual(seen.map((u) => u.id).sort(), [...aUsers].sort());
      assert.equal(seen[0].jobTitle, 'Tester');
      assert.ok(!('@removed' in seen[0]) && !('passwordProfile' in seen[0]));

      const [upd, soft, restored, purged] = aUsers as [string, string, string, string];
      await client.api(`/users/${restored}`).delete();
      await client.api(`/users/${purged}`).delete();
      const mid = await client.api(deltaLink).get();
      const midSeen = byId(mid.value);
      assert.deepEqual(midSeen.get(restored), { id: restored, '@removed': { reason: 'changed' } });

      const created = await client.api('/users').post({
        accountEnabled: true, displayName: 'New Person', mailNickname: 'newp', userPrincipalName: `newp@${a.domain}`,
        passwordProfile: { password: 'Passw0rd!long' },
      });
      await client.api(`/users/${upd}`).patch({ jobTitle: 'Lead' });
      await client.api(`/users/${upd}`).patch({ officeLocation: 'B2' });
      await client.api(`/users/${soft}`).delete();
      await restoreUser(dir(), a.tenantId, appActor(a.tenantId), restored);
      await purgeUser(dir(), a.tenantId, appActor(a.tenantId), purged);

      const changes = await round(client, mid['@odata.deltaLink']);
      const got = byId(values(changes));
      assert.equal(values(changes).length, 5, 'one entry per changed object');
      assert.equal(got.get(created.id).displayName, 'New Person');
      assert.equal(got.get(created.id)['@removed'], undefined);
      assert.equal(got.get(upd).jobTitle, 'Lead');
      assert.equal(got.get(upd).officeLocation, 'B2');
      assert.deepEqual(got.get(soft), { id: soft, '@removed': { reason: 'changed' } });
      assert.equal(got.get(restored).displayName, 'Alpha 2');
      assert.equal(got.get(restored)['@removed'], undefined);
      assert.deepEqual(got.get(purged), { id: purged, '@removed': { reason: 'deleted' } });

      // Nothing since: an empty page with a fresh deltaLink.
      const quiet = await client.api(changes.at(-1)['@odata.deltaLink']).get();
      assert.deepEqual(quiet.value, []);
      assert.ok(quiet['@odata.deltaLink']);
      aUsers.splice(0, 4, upd, restored, created.id);
    });

    test('$select tracks only the selected properties; return=minimal sends only what changed', async () => {
      const [x, y] = aUsers as [string, string];
      const first = await ts.request('GET', '/v1.0/users/delta?$select=displayName,jobTitle&$deltatoken=latest', { token: a.adminToken });
      assert.equal(first.status, 200);
      assert.deepEqual(first.body.value, []);
      assert.equal(first.body['@odata.nextLink'], undefined);
      assert.match(first.body['@odata.context'], /\$metadata#users\(displayName,jobTitle\)$/);
      await client.api(`/users/${x}`).patch({ department: 'Ops' });
      await client.api(`/users/${y}`).patch({ jobTitle: 'Architect' });
      const r = await client.api(first.body['@odata.deltaLink']).get();
      assert.deepEqual(r.value, [{ displayName: (await client.api(`/users/${y}`).get()).displayName, jobTitle: 'Architect', id: y }]);

      await client.api(`/users/${y}`).patch({ displayName: 'Yara Renamed', department: 'Ops' });
      const link = new URL(r['@odata.deltaLink']);
      const minimal = await ts.request('GET', `${link.pathname}${link.search}`, { token: a.adminToken, headers: { Prefer: 'return=minimal' } });
      assert.equal(minimal.status, 200);
      assert.deepEqual(minimal.body.value, [{ displayName: 'Yara Renamed', id: y }]);
      assert.match(minimal.headers.get('preference-applied') ?? '', /return=minimal/);
      // The tracked $select lives in the token; restating options on a follow-up call is refused.
      const again = await ts.request('GET', `${link.pathname}${link.search}&$select=mail`, { token: a.adminToken });
      assert.equal(again.status, 400);
    });

    test('$filter on ids limits the round to those objects', async () => {
      const [x, y] = aUsers as [string, string];
      const pages = await round(client, `/users/delta?$filter=id eq '${x}' or id eq '${y}'`);
      assert.deepEqual(values(pages).map((u) => u.id).sort(), [x, y].sort());
      const other = aUsers[2] as string;
      await client.api(`/users/${other}`).patch({ jobTitle: 'Elsewhere' });
      await client.api(`/users/${x}`).patch({ jobTitle: 'Here' });
      const r = await client.api(pages.at(-1)['@odata.deltaLink']).get();
      assert.deepEqual(r.value.map((u: Page) => u.id), [x]);
      const bad = await ts.request('GET', `/v1.0/users/delta?$filter=displayName eq 'x'`, { token: a.adminToken });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'Request_UnsupportedQuery');
    });

    test('a large change set pages too; /users/delta is not read as a user id; beta answers as well', async () => {
      const start = await client.api('/users/delta?$deltatoken=latest').get();
      for (let i = 0; i < 5; i++) await ts.user(a.tenantId, { displayName: `Batch ${i}` });
      const pages = await round(client, start['@odata.deltaLink'], { Prefer: 'odata.maxpagesize=2' });
      assert.equal(pages.length, 3);
      assert.equal(values(pages).length, 5);
      const call = await ts.request('GET', '/v1.0/users/delta()?$deltatoken=latest', { token: a.adminToken });
      assert.equal(call.status, 200);
      assert.ok(call.body['@odata.deltaLink']);
      const beta = await graphClient(ts, a.adminToken, 'beta').api('/users/delta').get();
      assert.ok(beta['@odata.deltaLink'].includes('/beta/users/delta?$deltatoken='));
    });

    test('malformed tokens are 400 Request_BadRequest; a users token is no groups token', async () => {
      for (const q of ['$deltatoken=garbage', '$skiptoken=e30', `$deltatoken=${Buffer.from('{"v":1}').toString('base64url')}`]) {
        const r = await ts.request('GET', `/v1.0/users/delta?${q}`, { token: a.adminToken });
        assert.equal(r.status, 400, q);
        assert.equal(r.body.error.code, 'Request_BadRequest');
      }
      const users = await client.api('/users/delta?$deltatoken=latest').get();
      const token = new URL(users['@odata.deltaLink']).searchParams.get('$deltatoken');
      const r = await ts.request('GET', `/v1.0/groups/delta?$deltatoken=${token}`, { token: a.adminToken });
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, 'Request_BadRequest');
    });

    test("another tenant's token only ever reads the caller's tenant", async () => {
      const pages = await round(client, '/users/delta', { Prefer: 'odata.maxpagesize=1' });
      const aNext = new URL((await client.api('/users/delta').header('Prefer', 'odata.maxpagesize=1').get())['@odata.nextLink']);
      const aDelta = new URL(pages.at(-1)['@odata.deltaLink']);
      await client.api(`/users/${aUsers[0]}`).patch({ jobTitle: 'A only' });
      const bClient = graphClient(ts, b.adminToken);
      const db = ts.server.store.db;
      // A's watermark beyond B's whole history names no state of B's: resync, never A's data.
      assert.ok((await changesRepo.head(db, a.tenantId)) > (await changesRepo.head(db, b.tenantId)));
      const ahead = await ts.request('GET', `${aDelta.pathname}${aDelta.search}`, { token: b.adminToken });
      assert.equal(ahead.status, 400);
      assert.equal(ahead.body.error.code, 'syncStateNotFound');
      // Once B's log is longer, the same token reads B's changes after that position, and only B's.
      while ((await changesRepo.head(db, b.tenantId)) <= (await changesRepo.head(db, a.tenantId))) {
        await bClient.api(`/users/${bUsers[0]}`).patch({ jobTitle: `B ${Math.random()}` });
      }
      const bSeen = values(await round(bClient, `${aNext.pathname}${aNext.search}`.replace(/^\/v1\.0/, '')));
      const bDelta = values(await round(bClient, `${aDelta.pathname}${aDelta.search}`.replace(/^\/v1\.0/, '')));
      assert.ok(bSeen.length > 0);
      assert.ok(bDelta.some((e) => e.id === bUsers[0]));
      for (const e of [...bSeen, ...bDelta]) {
        assert.ok(bUsers.includes(e.id), `entry ${e.id} is B's`);
        assert.ok(!aUsers.includes(e.id));
      }
    });

    test('permissions: like listing', async () => {
      const noRead = await ts.appToken(a.tenantId, ['Group.Read.All']);
      assert.equal((await ts.request('GET', '/v1.0/users/delta', { token: noRead })).status, 403);
      assert.equal((await ts.request('GET', '/v1.0/groups/delta', { token: noRead })).status, 200);
      const member = await ts.user(a.tenantId);
      assert.equal((await ts.request('GET', '/v1.0/users/delta', { token: await ts.userToken(a.tenantId, member) })).status, 200);
      const guest = await ts.user(a.tenantId, { userType: 'Guest' });
      const denied = await ts.request('GET', '/v1.0/users/delta', { token: await ts.userToken(a.tenantId, guest) });
      assert.equal(denied.status, 403);
      assert.equal(denied.body.error.code, 'Authorization_RequestDenied');
    });

    test('groups: members@delta with added and removed members; untracked membership is silent', async () => {
      const db = ts.server.store;
      const now = () => ts.clock.now().toISOString();
      // Written the way the group use cases record membership: props ['members', 'members:±<id>'].
      const newGroup = (name: string) => db.transaction(async (tx) => {
        const g = { id: randomUUID(), displayName: name, description: null, createdDateTime: now(), securityEnabled: true, mailEnabled: false };
        await groupsRepo.insert(tx, a.tenantId, g);
        await changesRepo.append(tx, a.tenantId, [{ objectType: 'group', objectId: g.id, change: 'created' }], now());
        return g.id;
      });
      const member = (groupId: string, userId: string, op: '+' | '-', detailed = true) => db.transaction(async (tx) => {
        if (op === '+') await groupsRepo.addMember(tx, a.tenantId, groupId, userId, 'user', now());
        else await groupsRepo.removeMember(tx, a.tenantId, groupId, userId);
        const props = detailed ? ['members', `members:${op}${userId}`] : ['members'];
        await changesRepo.append(tx, a.tenantId, [{ objectType: 'group', objectId: groupId, change: 'updated', props }], now());
      });
      const [u1, u2, u3] = aUsers as [string, string, string];
      const g1 = await newGroup('Engineering');
      const g2 = await newGroup('Sales');
      await member(g1, u1, '+');
      await member(g1, u2, '+');

      const pages = await round(client, '/groups/delta', { Prefer: 'odata.maxpagesize=1' });
      const initial = byId(values(pages));
      assert.equal(initial.get(g1).displayName, 'Engineering');
      assert.deepEqual(
        initial.get(g1)['members@delta'].map((m: Page) => m.id).sort(), [u1, u2].sort(),
      );
      assert.equal(initial.get(g1)['members@delta'][0]['@odata.type'], '#microsoft.graph.user');
      const selected = await client.api('/groups/delta?$select=displayName&$deltatoken=latest').get();

      await member(g1, u3, '+');
      await member(g1, u1, '-');
      await member(g2, u2, '+', false);
      const r = byId(values(await round(client, pages.at(-1)['@odata.deltaLink'])));
      assert.deepEqual(r.get(g1)['members@delta'], [
        { '@odata.type': '#microsoft.graph.user', id: u3 },
        { '@odata.type': '#microsoft.graph.user', id: u1, '@removed': { reason: 'deleted' } },
      ]);
      assert.deepEqual(r.get(g2)['members@delta'], [{ '@odata.type': '#microsoft.graph.user', id: u2 }]);
      assert.deepEqual((await client.api(selected['@odata.deltaLink']).get()).value, [], 'members untracked under $select');

      await db.transaction(async (tx) => {
        await groupsRepo.remove(tx, a.tenantId, g2);
        await changesRepo.append(tx, a.tenantId, [{ objectType: 'group', objectId: g2, change: 'deleted' }], now());
      });
      const gone = await client.api(selected['@odata.deltaLink']).get();
      assert.deepEqual(gone.value, [{ id: g2, '@removed': { reason: 'deleted' } }]);
    });

    // Moves the shared clock 8 days: keep last (earlier tokens of this suite expire with it).
    test('tokens expire after 7 days and below the pruned floor: syncStateNotFound', async () => {
      const fresh = await client.api('/users/delta?$deltatoken=latest').get();
      const link = new URL(fresh['@odata.deltaLink']);
      await client.api(`/users/${aUsers[0]}`).patch({ jobTitle: 'Before prune' });
      // Pruning everything written so far puts the floor above this token's watermark.
      const future = new Date(ts.clock.now().getTime() + 60_000).toISOString();
      const pruned = await ts.server.store.transaction((db) => changesRepo.prune(db, a.tenantId, future));
      assert.ok(pruned > 0);
      assert.ok((await changesRepo.floor(ts.server.store.db, a.tenantId)) > 0);
      const below = await ts.request('GET', `${link.pathname}${link.search}`, { token: a.adminToken });
      assert.equal(below.status, 400);
      assert.equal(below.body.error.code, 'syncStateNotFound');

      const current = await client.api('/users/delta?$deltatoken=latest').get();
      const cLink = new URL(current['@odata.deltaLink']);
      assert.equal((await ts.request('GET', `${cLink.pathname}${cLink.search}`, { token: a.adminToken })).status, 200);
      ts.clock.advance(8 * DAY);
      const token = await ts.appToken(a.tenantId, ['User.Read.All']);
      const expired = await ts.request('GET', `${cLink.pathname}${cLink.search}`, { token });
      assert.equal(expired.status, 400);
      assert.equal(expired.body.error.code, 'syncStateNotFound');
      assert.equal(expired.body.error.message, 'The sync state generation is not found. The delta token is expired and data must be synchronized again.');
    });
  });
}
