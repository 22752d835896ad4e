// Readiness of an organization (docs/collaboration.md): the collaborating user set against every tenant,
// one state per (person, tenant), coverage, explanations in an admin's words, the CSV export, and
// `openmto readiness` on a data directory.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@microsoft/microsoft-graph-client';
import { cliOk, cliRun } from '../helpers/cli.js';
import { dialects, graphClient, startTestServer, type TestServer, type TestTenant, type TestUser, eventually } from '../helpers/harness.js';
import { assign, b2bUsersIn, configure, jobAction, settle } from '../helpers/sync.js';

const MTO = '/tenantRelationships/multiTenantOrganization';
const CTAP = '/policies/crossTenantAccessPolicy';

type Cell = { personId: string; tenantId: string; state: string; findable: boolean; userId: string | null };
type Report = { mtoId: string; people: { id: string; displayName: string }[]; tenants: { tenantId: string; coverage: number; findable: number; people: number }[]; cells: Cell[] };
type Explanation = { canFind: boolean; state: string; reasons: string[] };

for (const dialect of dialects()) {
  describe(`readiness (${dialect})`, () => {
    let ts: TestServer;
    let key: string;
    let a: TestTenant;
    let b: TestTenant;
    let c: TestTenant;
    const p = new Map<string, TestUser>();
    const g = (t: TestTenant): Client => graphClient(ts, t.adminToken);
    const op = async (path: string) => ts.request('GET', `/operator/v1${path}`, { token: key });
    const report = async () => {
      const r = await op(`/organizations/${a.tenantId}/readiness`);
      assert.equal(r.status, 200, r.text);
      return r.body as Report;
    };
    const cellOf = (r: Report, person: string, t: TestTenant) => r.cells.find((x) => x.personId === p.get(person)!.id && x.tenantId === t.tenantId);
    const explain = async (searcher: string, person: string) => {
      const r = await op(`/organizations/${a.tenantId}/readiness/explain?searcher=${encodeURIComponent(p.get(searcher)!.userPrincipalName)}&person=${p.get(person)!.id}`);
      assert.equal(r.status, 200, r.text);
      return r.body as Explanation;
    };
    const b2bOf = async (target: TestTenant, source: TestTenant, person: string) =>
      (await b2bUsersIn(ts, target, source.tenantId)).find((u) => u.homeUserId === p.get(person)!.id && !u.deleted)!.id;
    const share = async (t: TestTenant, users: string[]) => {
      const r = await ts.request('PUT', `/operator/v1/tenants/${t.tenantId}/sharing`, { token: key, body: { users: users.map((n) => p.get(n)!.id), groups: [] } });
      assert.equal(r.status, 200, r.text);
    };

    before(async () => {
      ts = await startTestServer(dialect);
      key = readFileSync(ts.server.operatorKeyPath, 'utf8').trim();
      [a, b, c] = [await ts.tenant('A'), await ts.tenant('B'), await ts.tenant('C')];
      const people = [[a, ['Annie', 'Alan', 'Ada']], [b, ['Bob', 'Barbara "Babs" Jones, PhD']], [c, ['Charlie', 'Cora']]] as const;
      for (const [t, names] of people) {
        for (const n of names) {
          const nick = n.split(' ')[0]!.toLowerCase();
          p.set(nick, await ts.user(t.tenantId, { displayName: n, userPrincipalName: `${nick}@${(t as unknown as { domain: string }).domain}` }));
        }
        await g(t).api(`${CTAP}/templates/multiTenantOrganizationPartnerConfiguration`).patch({ automaticUserConsentSettings: { inboundAllowed: true } });
        await g(t).api(`${CTAP}/templates/multiTenantOrganizationIdentitySynchronization`).patch({ userSyncInbound: { isSyncAllowed: true } });
      }
      await g(a).api(MTO).put({ displayName: 'Contoso' });
      for (const t of [b, c]) {
        await g(a).api(`${MTO}/tenants`).post({ tenantId: t.tenantId, displayName: t.displayName });
        await g(t).api(`${MTO}/joinRequest`).patch({ addedByTenantId: a.tenantId });
        await eventually(async () => (await g(t).api(MTO).get()).state === 'active', `${t.displayName} joined`);
      }
      await share(a, ['annie', 'alan']);
      await share(b, ['bob', 'barbara']);
      await share(c, ['charlie']);
      await settle(ts);
    });
    after(() => ts?.close());

    test('every person shared is home or a B2B member everywhere: full coverage', async () => {
      const r = await report();
      assert.deepEqual(r.people.map((x) => x.displayName), ['Alan', 'Annie', 'Barbara "Babs" Jones, PhD', 'Bob', 'Charlie']);
      // Ada and Cora are nobody's shared users yet.
      assert.equal(r.cells.length, 15);
      assert.equal(cellOf(r, 'annie', a)?.state, 'home');
      assert.equal(cellOf(r, 'annie', b)?.state, 'b2bMember');
      assert.equal(cellOf(r, 'charlie', a)?.state, 'b2bMember');
      assert.ok(r.cells.every((x) => x.findable && (x.state === 'home' || x.state === 'b2bMember')));
      assert.deepEqual(r.tenants.map((t) => t.coverage), [1, 1, 1]);
      assert.deepEqual((await explain('annie', 'bob')).canFind, true);
      // The same organization by its id.
      assert.equal((await op(`/organizations/${r.mtoId}/readiness`)).body.cells.length, 15);
    });

    test('each state, its coverage and its explanation', async () => {
      // Guest: Charlie's user in B made Guest by B's admin (the userType mapping applies on create only).
      await g(b).api(`/users/${await b2bOf(b, c, 'charlie')}`).patch({ userType: 'Guest' });
      // Hidden at home; disabled in a target; pending redemption in a target.
      await g(a).api(`/users/${p.get('alan')!.id}`).patch({ showInAddressList: false });
      await g(c).api(`/users/${await b2bOf(c, b, 'bob')}`).patch({ accountEnabled: false });
      await g(c).api(`/users/${await b2bOf(c, a, 'annie')}`).patch({ externalUserState: 'PendingAcceptance' });
      // Barbara unshared: soft-deleted in A and C.
      await share(b, ['bob']);
      await settle(ts);
      // Alan's user in C deleted for good by C's admin: missing until Alan changes at home.
      const alanInC = await b2bOf(c, a, 'alan');
      await g(c).api(`/users/${alanInC}`).delete();
      await g(c).api(`/directory/deletedItems/${alanInC}`).delete();

      const r = await report();
      assert.equal(cellOf(r, 'charlie', b)?.state, 'b2bGuest');
      assert.equal(cellOf(r, 'charlie', b)?.findable, false);
      assert.equal(cellOf(r, 'alan', a)?.state, 'hiddenFromAddressList');
      assert.equal(cellOf(r, 'bob', c)?.state, 'disabled');
      assert.equal(cellOf(r, 'annie', c)?.state, 'b2bMemberPendingRedemption');
      assert.equal(cellOf(r, 'annie', c)?.findable, true);
      assert.equal(cellOf(r, 'alan', c)?.state, 'missing');
      assert.equal(cellOf(r, 'alan', c)?.userId, null);
      // Barbara is no longer shared, so she is not a person of the set; her users in A and C are soft-deleted.
      assert.equal(r.people.some((x) => x.id === p.get('barbara')!.id), false);
      const deleted = (await b2bUsersIn(ts, a, b.tenantId)).find((u) => u.homeUserId === p.get('barbara')!.id);
      assert.equal(deleted?.deleted, true);
      // Coverage of 4 people (Alan, Annie, Bob, Charlie): A misses Alan; B misses Charlie; C misses Alan and Bob.
      const cov = new Map(r.tenants.map((t) => [t.tenantId, [t.findable, t.people, t.coverage]]));
      assert.deepEqual(cov.get(a.tenantId), [3, 4, 0.75]);
      assert.deepEqual(cov.get(b.tenantId), [3, 4, 0.75]);
      assert.deepEqual(cov.get(c.tenantId), [2, 4, 0.5]);

      const guest = await explain('bob', 'charlie');
      assert.equal(guest.canFind, false);
      assert.match(guest.reasons[0]!, /Charlie is a Guest in B: make the userType mapping .* apply Always, or PATCH Charlie's userType to Member/);
      assert.match((await explain('annie', 'alan')).reasons[0]!, /Alan is hidden from the address list in A: PATCH showInAddressList to true/);
      assert.match((await explain('charlie', 'bob')).reasons[0]!, /Bob's user in C is disabled: PATCH accountEnabled to true/);
      const missing = await explain('charlie', 'alan');
      assert.equal(missing.state, 'missing');
      assert.match(missing.reasons.join('\n'), /Alan has no user in C\.\nMTO_Sync_.* covers Alan and runs/);
      const pending = await explain('charlie', 'annie');
      assert.equal(pending.canFind, true);
      assert.match(pending.reasons[0]!, /has not redeemed/);
      // Barbara, unshared: still named by her id, she is explained as not shared.
      const r2 = await op(`/organizations/${a.tenantId}/readiness/explain?searcher=${p.get('annie')!.id}&person=${p.get('barbara')!.userPrincipalName}`);
      assert.equal(r2.status, 200, r2.text);
      assert.equal(r2.body.canFind, false);
      assert.equal(r2.body.state, 'softDeleted');
      assert.match(r2.body.reasons.join(' '), /does not share Barbara/);
      // Named by her B2B user in C, she is the same person.
      const viaB2b = (await b2bUsersIn(ts, c, b.tenantId)).find((x) => x.homeUserId === p.get('barbara')!.id)!.id;
      const r3 = await op(`/organizations/${a.tenantId}/readiness/explain?searcher=${p.get('annie')!.id}&person=${viaB2b}`);
      assert.equal(r3.body.person.id, p.get('barbara')!.id);
    });

    test('a paused job and an inbound policy turned off are named', async () => {
      const sharing = (await op(`/tenants/${c.tenantId}/sharing`)).body as { configurations: { targetTenantId: string; servicePrincipalId: string; jobId: string }[] };
      const toA = sharing.configurations.find((x) => x.targetTenantId === a.tenantId)!;
      assert.equal((await ts.request('POST', `/v1.0/servicePrincipals/${toA.servicePrincipalId}/synchronization/jobs/${toA.jobId}/pause`, { token: c.adminToken })).status, 204);
      await g(a).api(`${CTAP}/partners/${c.tenantId}/identitySynchronization`).patch({ userSyncInbound: { isSyncAllowed: false } });
      await share(c, ['charlie', 'cora']);
      await settle(ts);
      const r = await report();
      assert.equal(cellOf(r, 'cora', a)?.state, 'missing');
      assert.equal(cellOf(r, 'cora', b)?.state, 'b2bMember');
      const e = await explain('annie', 'cora');
      assert.equal(e.canFind, false);
      const text = e.reasons.join('\n');
      assert.match(text, /MTO_Sync_.* in C is paused/);
      assert.match(text, /A does not allow users to sync in from C/);
    });

    // A second configuration from A to B (made by hand, scoped to Ada) must not soft-delete in B the users A's
    // MTO_Sync_ configuration provisioned (Annie, Alan): as in Entra, a job deprovisions only the objects it
    // provisioned or matched (the B2B user's syncJobs).
    test('a second configuration to the same tenant leaves the first one\'s users alone', async () => {
      const hand = await configure(ts, a, b);
      await assign(ts, a, hand, p.get('ada')!.id);
      await jobAction(ts, a, hand, 'start');
      await settle(ts);
      const r = await report();
      assert.equal(cellOf(r, 'ada', b)?.state, 'b2bMember');
      assert.equal(cellOf(r, 'annie', b)?.state, 'b2bMember');
    });

    test('the CSV export has a header row and quotes fields', async () => {
      const r = await op(`/organizations/${a.tenantId}/readiness.csv`);
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /^text\/csv/);
      const lines = r.text.trimEnd().split('\r\n');
      assert.equal(lines[0], 'personId,displayName,userPrincipalName,homeTenantId,tenantId,tenant,state,findable,userId');
      assert.equal(lines.length, 1 + (await report()).cells.length);
      assert.ok(lines.some((l) => l.includes(',home,true,')));
      assert.equal((await op('/organizations/nope/readiness')).status, 404);
      assert.equal((await op(`/organizations/${a.tenantId}/readiness/explain?searcher=x`)).status, 400);
      assert.equal((await ts.request('GET', `/operator/v1/organizations/${a.tenantId}/readiness`)).status, 401);
    });
  });
}

describe('openmto readiness', () => {
  let dir: string;
  const env = { OPENMTO_DATABASE_URL: '' };
  const ok = cliOk(env, () => dir);
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'openmto-cli-readiness-'));
    await ok('tenant', 'create', '--name', 'Alpha', '--domain', 'alpha.ready.test');
    await ok('tenant', 'create', '--name', 'Beta', '--domain', 'beta.ready.test');
    const user = (n: string, d: string) => JSON.stringify({ userPrincipalName: `${n}@${d}`, displayName: n === 'ann' ? 'Ann, "the first"' : n, mailNickname: n, accountEnabled: true });
    writeFileSync(join(dir, 'a.jsonl'), `${user('ann', 'alpha.ready.test')}\n`);
    writeFileSync(join(dir, 'b.jsonl'), `${user('ben', 'beta.ready.test')}\n`);
    await ok('user', 'import', '--tenant', 'alpha.ready.test', '--file', join(dir, 'a.jsonl'));
    await ok('user', 'import', '--tenant', 'beta.ready.test', '--file', join(dir, 'b.jsonl'));
    await ok('mto', 'create', '--tenant', 'alpha.ready.test', '--name', 'Ready');
    await ok('mto', 'add', '--tenant', 'alpha.ready.test', '--member', 'beta.ready.test');
    await ok('mto', 'join', '--tenant', 'beta.ready.test', '--owner', 'alpha.ready.test');
    await ok('share', 'set', '--tenant', 'alpha.ready.test', '--user', 'ann@alpha.ready.test');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('table, JSON, CSV and an explanation', async () => {
    const table = (await ok('readiness', '--tenant', 'beta.ready.test')).stdout;
    assert.match(table, /Ready \(.*\): 1 people, 2 tenants/);
    assert.match(table, /Ann, "the first"\s+home\s+MISSING ✗/);
    assert.match(table, /coverage\s+100% 1\/1\s+0% 0\/1/);
    const json = (await ok('readiness', '--tenant', 'alpha.ready.test', '--json')).json<Report>();
    assert.deepEqual(json.cells.map((x) => x.state), ['home', 'missing']);
    const csv = (await ok('readiness', '--tenant', 'alpha.ready.test', '--csv')).stdout;
    assert.match(csv, /^personId,displayName,userPrincipalName,homeTenantId,tenantId,tenant,state,findable,userId\r\n/m);
    assert.match(csv, /,"Ann, ""the first""",ann@alpha\.ready\.test,/);
    const e = (await ok('readiness', '--tenant', 'alpha.ready.test', '--explain', 'ben@beta.ready.test', 'ann@alpha.ready.test')).stdout;
    assert.match(e, /ben@beta\.ready\.test does not find Ann, "the first" in Beta \(missing\)/);
    assert.match(e, /has no user in Beta/);
    const bad = await cliRun(env, 'readiness', '--tenant', 'alpha.ready.test', '--explain', 'ben@beta.ready.test', '--data', dir);
    assert.equal(bad.code, 2);
  });
});
