// Cross-tenant sync reacting to source changes between cycles (entra-mto-cts.md §3.7, §3.9, §3.10):
// groups assigned, unassigned and deleted after the job started, overlapping assignments, attribute
// changes moving a user in and out of scope, the disabled-then-removed edge, and escrowed failures retried.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { dialects, graphClient, startTestServer, type TestServer } from '../helpers/harness.js';
import {
  addMember, assign, b2bUsersIn, connectedPair, jobPath, linkedByHome, provisioningLog, removeMember, securityGroup, settle, unassign,
} from '../helpers/sync.js';

const ESCROW_RETRY_MS = 300;

for (const dialect of dialects()) {
  describe(`cross-tenant sync: source changes between cycles (${dialect})`, () => {
    let ts: TestServer;
    before(async () => {
      ts = await startTestServer(dialect, { sync: { pollMs: 50, engine: { escrowRetryMs: ESCROW_RETRY_MS } } });
    });
    after(() => ts.close());

    test('a group assigned after the start is provisioned; unassigned, its members are soft-deleted unless assigned otherwise', async () => {
      const { source, target, cfg, sdk } = await connectedPair(ts);
      const a = await ts.user(source.tenantId);
      const b = await ts.user(source.tenantId);
      const both = await ts.user(source.tenantId);
      const c = await ts.user(source.tenantId);
      await assign(ts, source, cfg, both.id);
      await sdk.api(jobPath(cfg, '/start')).post({});
      await settle(ts);
      const g1 = await securityGroup(sdk, [a.id, both.id]);
      const g2 = await securityGroup(sdk, [b.id, c.id]);
      const g1Assignment = await assign(ts, source, cfg, g1);
      const g2Assignment = await assign(ts, source, cfg, g2);
      await settle(ts);
      let linked = await linkedByHome(ts, target, source.tenantId);
      assert.deepEqual([...linked.keys()].sort(), [a.id, b.id, both.id, c.id].sort());

      await unassign(ts, source, cfg, g1Assignment);
      await settle(ts);
      linked = await linkedByHome(ts, target, source.tenantId);
      assert.equal(linked.get(a.id)?.deleted, true, 'the unassigned group\'s member is soft-deleted');
      assert.equal(linked.get(both.id)?.deleted, false, 'a member also assigned directly stays');
      await unassign(ts, source, cfg, g2Assignment);
      await settle(ts);
      linked = await linkedByHome(ts, target, source.tenantId);
      assert.ok(linked.get(b.id)?.deleted && linked.get(c.id)?.deleted);

    });

    test('a deleted assigned group soft-deletes its members, unless they are assigned otherwise', async () => {
      const { source, target, cfg, sdk } = await connectedPair(ts);
      const a = await ts.user(source.tenantId);
      const direct = await ts.user(source.tenantId);
      const g = await securityGroup(sdk, [a.id, direct.id]);
      await assign(ts, source, cfg, g);
      await assign(ts, source, cfg, direct.id);
      await sdk.api(jobPath(cfg, '/start')).post({});
      await settle(ts);
      assert.equal((await linkedByHome(ts, target, source.tenantId)).get(a.id)?.deleted, false);
      await sdk.api(`/groups/${g}`).delete();
      await settle(ts);
      const linked = await linkedByHome(ts, target, source.tenantId);
      assert.equal(linked.get(a.id)?.deleted, true);
      assert.equal(linked.get(direct.id)?.deleted, false);
    });

    test('attribute changes move users in and out of a scoping filter; updates flow; disabled-then-removed stays', async () => {
      const { source, target, cfg, sdk } = await connectedPair(ts);
      const schema = await sdk.api(jobPath(cfg, '/schema')).get();
      delete schema['@odata.context'];
      schema.synchronizationRules[0].objectMappings[0].scope = {
        groups: [{ name: 'Sales', clauses: [{ operatorName: 'EQUALS', sourceOperandName: 'department', targetOperand: { values: ['Sales'] } }] }],
      };
      await sdk.api(jobPath(cfg, '/schema')).put(schema);
      const u = await ts.user(source.tenantId, { department: 'Sales', jobTitle: 'Rep' });
      const later = await ts.user(source.tenantId, { department: 'Support' });
      const member = await ts.user(source.tenantId, { department: 'Sales' });
      const group = await securityGroup(sdk, [member.id]);
      for (const id of [u.id, later.id, group]) await assign(ts, source, cfg, id);
      await sdk.api(jobPath(cfg, '/start')).post({});
      await settle(ts);
      let linked = await linkedByHome(ts, target, source.tenantId);
      assert.deepEqual([...linked.keys()].sort(), [u.id, member.id].sort());

      await sdk.api(`/users/${u.id}`).patch({ jobTitle: 'Lead' });
      await sdk.api(`/users/${later.id}`).patch({ department: 'Sales' });
      await settle(ts);
      linked = await linkedByHome(ts, target, source.tenantId);
      assert.equal(linked.get(u.id)?.user.jobTitle, 'Lead', 'an update flows');
      assert.equal(linked.get(later.id)?.deleted, false, 'newly in scope → created');
      const original = linked.get(u.id)!.id;

      await sdk.api(`/users/${u.id}`).patch({ department: 'Finance' });
      await settle(ts);
      assert.equal((await linkedByHome(ts, target, source.tenantId)).get(u.id)?.deleted, true, 'out of scope → soft-deleted');
      await sdk.api(`/users/${u.id}`).patch({ department: 'Sales' });
      await settle(ts);
      linked = await linkedByHome(ts, target, source.tenantId);
      assert.equal(linked.get(u.id)?.deleted, false);
      assert.equal(linked.get(u.id)?.id, original, 'the same object restored');

      // Entra's documented edge: disabled (and synced), then removed from the group → not soft-deleted.
      await sdk.api(`/users/${member.id}`).patch({ accountEnabled: false });
      await settle(ts);
      assert.equal((await linkedByHome(ts, target, source.tenantId)).get(member.id)?.user.accountEnabled, false);
      await removeMember(sdk, group, member.id);
      await settle(ts);
      const m = (await linkedByHome(ts, target, source.tenantId)).get(member.id)!;
      assert.equal(m.deleted, false, 'disabled then removed: stays (disabled)');
      assert.equal(m.user.accountEnabled, false);
      assert.equal((await b2bUsersIn(ts, target, source.tenantId)).length, 3);
      void addMember;
    });

    test('a UPN or mail change in the source follows to the target', async () => {
      const { source, target, cfg, sdk } = await connectedPair(ts);
      const u = await ts.user(source.tenantId);
      await assign(ts, source, cfg, u.id);
      await sdk.api(jobPath(cfg, '/start')).post({});
      await settle(ts);
      const renamed = `renamed-${u.userPrincipalName}`;
      const mail = `mail-${u.userPrincipalName}`;
      await sdk.api(`/users/${u.id}`).patch({ userPrincipalName: renamed, mail });
      await settle(ts);
      const t = (await linkedByHome(ts, target, source.tenantId)).get(u.id)!;
      assert.equal(t.user.userPrincipalName, `${renamed.replace('@', '_')}#EXT#@${target.domain}`);
      assert.equal(t.user.mail, mail);
      const updates = await provisioningLog(sdk, `jobId eq '${cfg.jobId}' and provisioningAction eq 'update'`);
      assert.equal(updates.length, 1);
      const changed = updates[0]!.modifiedProperties.map((m: { displayName: string }) => m.displayName);
      assert.ok(changed.includes('mail') && changed.includes('userPrincipalName'), changed.join());
    });

    test('a failed object is escrowed and retried with back-off; fixing the target lets the retry create it', async () => {
      const { source, target, cfg, sdk } = await connectedPair(ts);
      const u = await ts.user(source.tenantId);
      const internal = await ts.user(target.tenantId, { mail: u.userPrincipalName });
      await assign(ts, source, cfg, u.id);
      await sdk.api(jobPath(cfg, '/start')).post({});
      await settle(ts);
      assert.equal((await linkedByHome(ts, target, source.tenantId)).size, 0);
      let job = await sdk.api(jobPath(cfg)).get();
      assert.equal(job.status.lastExecution.countEscrowed, 1);
      assert.equal(job.status.lastExecution.state, 'EntryLevelErrors');
      // The retry comes by itself (no source change).
      await sleep(ESCROW_RETRY_MS + 150);
      await settle(ts);
      const failures = await provisioningLog(sdk, `jobId eq '${cfg.jobId}' and provisioningStatusInfo/status eq 'failure'`);
      assert.ok(failures.length >= 2, `retried: ${failures.length} failures logged`);
      // The target admin deletes the internal user holding the address (a changed mail stays a proxy address); a later retry succeeds.
      await graphClient(ts, target.adminToken).api(`/users/${internal.id}`).delete();
      for (let i = 0; i < 80 && !(await linkedByHome(ts, target, source.tenantId)).size; i++) {
        await sleep(100);
        await settle(ts);
      }
      assert.equal((await linkedByHome(ts, target, source.tenantId)).get(u.id)?.deleted, false, 'created by a retry');
      job = await sdk.api(jobPath(cfg)).get();
      assert.equal(job.status.code, 'Active');
    });
  });
}
