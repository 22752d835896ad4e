// Share users (docs/collaboration.md): the shared scope of each tenant becomes one MTO_Sync_<target>
// configuration per other active tenant of the organization, through the operator API; edits reach every
// configuration, a tenant joining later gets everything, leaving stops outbound sharing and deletes nothing,
// hand-made configurations are left alone; and `openmto share` on a data directory.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@microsoft/microsoft-graph-client';
import { groupsRepo } from '../../src/store/repos/groups.js';
import { cliRun } from '../helpers/cli.js';
import { dialects, graphClient, startTestServer, type TestServer, type TestTenant, type TestUser, eventually } from '../helpers/harness.js';
import { assign, b2bUsersIn, configure, securityGroup, settle } from '../helpers/sync.js';

const MTO = '/tenantRelationships/multiTenantOrganization';
const CTAP = '/policies/crossTenantAccessPolicy';

type Sharing = { users: string[]; groups: string[]; configurations: { targetTenantId: string; servicePrincipalId: string; jobId: string; state: string }[] };

for (const dialect of dialects()) {
  describe(`share users (${dialect})`, () => {
    let ts: TestServer;
    let key: string;
    let a: TestTenant;
    let b: TestTenant;
    let c: TestTenant;
    const people = new Map<string, TestUser>();
    const g = (t: TestTenant): Client => graphClient(ts, t.adminToken);
    const sharing = async (t: TestTenant) => (await ts.request('GET', `/operator/v1/tenants/${t.tenantId}/sharing`, { token: key })).body as Sharing;
    const share = async (t: TestTenant, body: unknown) => ts.request('PUT', `/operator/v1/tenants/${t.tenantId}/sharing`, { token: key, body });
    const assigned = async (t: TestTenant, spId: string) =>
      ((await g(t).api(`/servicePrincipals/${spId}/appRoleAssignedTo`).get()).value as { principalId: string }[]).map((x) => x.principalId).sort();
    /** Live B2B users of `target` from `source`, by home user id. */
    const live = async (target: TestTenant, source: TestTenant) =>
      (await b2bUsersIn(ts, target, source.tenantId)).filter((u) => !u.deleted).map((u) => u.homeUserId).sort();

    /** Each tenant's templates accept inbound (sync and automatic redemption) only: outbound consent is sharing's to set. */
    async function acceptInbound(t: TestTenant) {
      await g(t).api(`${CTAP}/templates/multiTenantOrganizationPartnerConfiguration`).patch({ automaticUserConsentSettings: { inboundAllowed: true } });
      await g(t).api(`${CTAP}/templates/multiTenantOrganizationIdentitySynchronization`).patch({ userSyncInbound: { isSyncAllowed: true } });
    }
    async function join(t: TestTenant, owner: TestTenant) {
      await g(owner).api(`${MTO}/tenants`).post({ tenantId: t.tenantId, displayName: t.displayName });
      await g(t).api(`${MTO}/joinRequest`).patch({ addedByTenantId: owner.tenantId });
      await eventually(async () => (await g(t).api(MTO).get()).state === 'active', `${t.displayName} joined`);
    }

    before(async () => {
      ts = await startTestServer(dialect);
      key = readFileSync(ts.server.operatorKeyPath, 'utf8').trim();
      [a, b, c] = [await ts.tenant('A'), await ts.tenant('B'), await ts.tenant('C')];
      for (const [t, names] of [[a, ['annie', 'alan']], [b, ['bob', 'barbara']], [c, ['charlie']]] as const) {
        for (const n of names) people.set(n, await ts.user(t.tenantId, { displayName: n }));
        await acceptInbound(t);
      }
      await g(a).api(MTO).put({ displayName: 'Contoso' });
    });
    after(() => ts?.close());

    test('a shared scope becomes one started MTO_Sync_ configuration per other tenant, and edits reach all of them', async () => {
      await join(b, a);
      await join(c, a);
      // Before anything is shared there are no configurations (Entra runs them only once users are shared).
      assert.deepEqual((await sharing(a)).configurations, []);
      const r = await share(a, { users: [people.get('annie')!.userPrincipalName], groups: [] });
      assert.equal(r.status, 200, r.text);
      const configs = (r.body as Sharing).configurations;
      assert.deepEqual(configs.map((x) => x.targetTenantId).sort(), [b.tenantId, c.tenantId].sort());
      assert.ok(configs.every((x) => x.state === 'Active' && x.jobId.startsWith('Azure2Azure.')));
      assert.deepEqual((r.body as Sharing).users, [people.get('annie')!.id]);
      for (const x of configs) {
        const sp = await g(a).api(`/servicePrincipals/${x.servicePrincipalId}`).get();
        assert.equal(sp.displayName, `MTO_Sync_${x.targetTenantId}`);
        const secrets = new Map(((await g(a).api(`/servicePrincipals/${x.servicePrincipalId}/synchronization/secrets`).get()).value as { key: string; value: string }[]).map((s) => [s.key, s.value]));
        assert.equal(secrets.get('CompanyId'), x.targetTenantId);
        assert.equal(secrets.get('SyncAll'), 'false');
        assert.equal(JSON.parse(secrets.get('SyncNotificationSettings')!).DeleteThresholdValue, 500);
        assert.deepEqual(await assigned(a, x.servicePrincipalId), [people.get('annie')!.id]);
      }
      await settle(ts);
      // Annie is a B2B member of B and C: sharing set A's outbound consent, the templates the targets' inbound.
      for (const t of [b, c]) assert.deepEqual(await live(t, a), [people.get('annie')!.id]);

      // Edit: Alan through a security group instead of Annie. Every configuration follows; Annie is soft-deleted.
      const group = await securityGroup(g(a), [people.get('alan')!.id]);
      const edited = await share(a, { users: [], groups: [group] });
      assert.equal(edited.status, 200, edited.text);
      for (const x of (edited.body as Sharing).configurations) assert.deepEqual(await assigned(a, x.servicePrincipalId), [group]);
      // The same scope again changes nothing (idempotent).
      const again = await share(a, { users: [], groups: [group] });
      assert.deepEqual((again.body as Sharing).configurations.map((x) => x.servicePrincipalId).sort(), (edited.body as Sharing).configurations.map((x) => x.servicePrincipalId).sort());
      await settle(ts);
      for (const t of [b, c]) assert.deepEqual(await live(t, a), [people.get('alan')!.id]);
    });

    test('configurations made by hand are neither listed nor touched', async () => {
      const hand = await configure(ts, a, b);
      await assign(ts, a, hand, people.get('annie')!.id);
      await share(a, { users: [people.get('annie')!.id, people.get('alan')!.id], groups: [] });
      const shown = await sharing(a);
      assert.ok(!shown.configurations.some((x) => x.servicePrincipalId === hand.spId));
      assert.equal(shown.configurations.length, 2);
      assert.deepEqual(await assigned(a, hand.spId), [people.get('annie')!.id]);
      assert.equal((await g(a).api(`/servicePrincipals/${hand.spId}`).get()).displayName, `Sync to ${b.displayName}`);
      const job = await g(a).api(`/servicePrincipals/${hand.spId}/synchronization/jobs/${hand.jobId}`).get();
      assert.equal(job.schedule.state, 'Disabled');
      await g(a).api(`/servicePrincipals/${hand.spId}`).delete();
    });

    test('a tenant that joins later gets a configuration from every sharing tenant, and its own scope reaches everyone', async () => {
      await share(b, { users: [people.get('bob')!.userPrincipalName, people.get('barbara')!.id], groups: [] });
      const d = await ts.tenant('D');
      const dora = await ts.user(d.tenantId, { displayName: 'dora' });
      await acceptInbound(d);
      // D shares before it is in any organization: saved, nothing to configure yet.
      const early = await share(d, { users: [dora.id], groups: [] });
      assert.equal(early.status, 200, early.text);
      assert.deepEqual((early.body as Sharing).configurations, []);
      await join(d, a);
      await eventually(async () => (await sharing(d)).configurations.length === 3 && (await sharing(b)).configurations.length === 3, 'configurations with D');
      for (const t of [a, b]) {
        const toD = (await sharing(t)).configurations.find((x) => x.targetTenantId === d.tenantId);
        assert.ok(toD, `${t.displayName} shares with D`);
        assert.equal(toD.state, 'Active');
        assert.deepEqual(await assigned(t, toD.servicePrincipalId), [...(await sharing(t)).users, ...(await sharing(t)).groups].sort());
      }
      await settle(ts);
      assert.deepEqual(await live(d, a), [people.get('alan')!.id, people.get('annie')!.id].sort());
      assert.deepEqual(await live(d, b), [people.get('bob')!.id, people.get('barbara')!.id].sort());
      for (const t of [a, b, c]) assert.deepEqual(await live(t, d), [dora.id]);

      // D leaves: its MTO_Sync_ jobs are paused, not deleted; its users stay in A, B and C; sharing to D pauses too.
      await g(d).api(`${MTO}/tenants/${d.tenantId}`).delete();
      await eventually(async () => (await sharing(d)).configurations.every((x) => x.state === 'Paused')
        && (await sharing(a)).configurations.find((x) => x.targetTenantId === d.tenantId)?.state === 'Paused', 'paused after leaving');
      assert.equal((await sharing(d)).configurations.length, 3);
      await ts.request('PATCH', `/v1.0/users/${dora.id}`, { token: d.adminToken, body: { jobTitle: 'after leaving' } });
      await share(d, { users: [], groups: [] });
      await settle(ts);
      for (const t of [a, b, c]) {
        const [u] = (await b2bUsersIn(ts, t, d.tenantId));
        assert.equal(u?.deleted, false, 'nothing is removed in the targets');
        assert.notEqual(u?.user.jobTitle, 'after leaving', 'and nothing flows any more');
      }
      // Back in the organization: the paused jobs run again.
      await join(d, a);
      await eventually(async () => (await sharing(a)).configurations.find((x) => x.targetTenantId === d.tenantId)?.state === 'Active', 'active after coming back');
    });

    test('the operator API validates the scope', async () => {
      const bad = async (body: unknown, pattern: RegExp, status = 400) => {
        const r = await share(a, body);
        assert.equal(r.status, status, r.text);
        assert.match(r.body.error.message, pattern);
      };
      await bad({ users: ['nobody@nowhere.test'], groups: [] }, /User 'nobody@nowhere\.test' does not exist/);
      await bad({ users: [people.get('bob')!.id], groups: [] }, new RegExp(`User '${people.get('bob')!.id}' does not exist`));
      const distribution = { id: crypto.randomUUID(), displayName: 'Everyone (mail)', createdDateTime: new Date().toISOString(), securityEnabled: false, mailEnabled: true, mailNickname: 'everyone' };
      // Graph here creates security groups only; a distribution list can still come with an imported directory.
      await ts.server.store.transaction((db) => groupsRepo.insert(db, a.tenantId, distribution));
      await bad({ users: [], groups: [distribution.id] }, /is not a security group/);
      await bad({ users: 'annie' }, /Invalid request body: users/);
      await bad({ users: [], groups: [], extra: 1 }, /Invalid request body/);
      const b2b = (await b2bUsersIn(ts, a, b.tenantId))[0]!;
      await bad({ users: [b2b.id], groups: [] }, /is not an internal member/);
      assert.equal((await ts.request('GET', `/operator/v1/tenants/${crypto.randomUUID()}/sharing`, { token: key })).status, 404);
      assert.equal((await ts.request('GET', `/operator/v1/tenants/${a.tenantId}/sharing`, { token: a.adminToken })).status, 401);
      // A refused edit leaves the scope as it was.
      assert.deepEqual((await sharing(a)).users.sort(), [people.get('alan')!.id, people.get('annie')!.id].sort());
    });
  });
}

describe('openmto share', () => {
  let dir: string;
  const env = { OPENMTO_DATABASE_URL: '' };
  const run = (...args: string[]) => cliRun(env, ...args, '--data', dir);
  const ok = async (...args: string[]) => {
    const r = await run(...args);
    assert.equal(r.code, 0, `openmto ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'openmto-cli-share-'));
    for (const n of ['alpha', 'beta']) await ok('tenant', 'create', '--name', n, '--domain', `${n}.share.test`, '--json');
    writeFileSync(join(dir, 'u.jsonl'), ['ann', 'ben'].map((n) => JSON.stringify({ userPrincipalName: `${n}@alpha.share.test`, displayName: n, mailNickname: n, accountEnabled: true })).join('\n'));
    await ok('user', 'import', '--tenant', 'alpha.share.test', '--file', join(dir, 'u.jsonl'));
    await ok('mto', 'create', '--tenant', 'alpha.share.test', '--name', 'Org');
    await ok('mto', 'add', '--tenant', 'alpha.share.test', '--member', 'beta.share.test');
    await ok('mto', 'join', '--tenant', 'beta.share.test', '--owner', 'alpha.share.test');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('set, add, remove and show; bad input exits 1 with the reason', async () => {
    const set = (await ok('share', 'set', '--tenant', 'alpha.share.test', '--user', 'ann@alpha.share.test', '--json')).json<Sharing>();
    assert.equal(set.users.length, 1);
    assert.equal(set.configurations.length, 1);
    assert.equal(set.configurations[0]!.state, 'Active');
    const added = (await ok('share', 'add', '--tenant', 'alpha.share.test', '--user', 'ben@alpha.share.test', '--json')).json<Sharing>();
    assert.equal(added.users.length, 2);
    const text = (await ok('share', 'show', '--tenant', 'alpha.share.test')).stdout;
    assert.match(text, /users \(2\): ann@alpha\.share\.test, ben@alpha\.share\.test/);
    assert.match(text, /MTO_Sync_\S+ {2}Active/);
    const removed = (await ok('share', 'remove', '--tenant', 'alpha.share.test', '--user', 'ann@alpha.share.test', '--json')).json<Sharing>();
    assert.equal(removed.users.length, 1);

    const unknown = await run('share', 'add', '--tenant', 'alpha.share.test', '--user', 'zed@alpha.share.test');
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /User 'zed@alpha\.share\.test' does not exist/);
    const nothing = await run('share', 'add', '--tenant', 'alpha.share.test');
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /give at least one --user or --group/);
    const noTenant = await run('share', 'show', '--tenant', 'gamma.share.test');
    assert.equal(noTenant.code, 4);
    assert.match(noTenant.stderr, /tenant 'gamma\.share\.test' does not exist/);
  });
});
