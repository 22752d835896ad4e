// Cross-tenant sync scenarios about who is provisioned and who is deprovisioned (entra-mto-cts.md §3.7):
// assigned users, assigned security groups (direct members only), Sync all, scoping filters, every
// deprovisioning trigger, restore within 30 days, and the Delete target object action switched off.
// Configuration through the Graph SDK; the target checked in its own store rows.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { syncReads } from '../../src/store/repos/syncReads.js';
import { dialects, graphClient, startTestServer, type TestServer } from '../helpers/harness.js';
import {
  addMember, allowInbound, allowOutbound, assign, b2bUsersIn, configure, connectedPair, jobPath, linkedByHome, provisioningLog, removeMember, securityGroup, settle, unassign,
} from '../helpers/sync.js';

/** In scope when the department is one of `values` (groups are OR-ed). */
const deptFilter = (...values: string[]) => ({
  groups: values.map((v) => ({ name: v, clauses: [{ operatorName: 'EQUALS', sourceOperandName: 'department', targetOperand: { values: [v] } }] })),
  inputFilterGroups: [], categoryFilterGroups: [],
});

/** PUT schema with the user mapping changed by `edit`. */
// biome-ignore lint/suspicious/noExplicitAny: the schema is Graph JSON edited freely
async function editUserMapping(sdk: import('@microsoft/microsoft-graph-client').Client, path: string, edit: (m: any) => void) {
  const schema = await sdk.api(`${path}/schema`).get();
  delete schema['@odata.context'];
  edit(schema.synchronizationRules[0].objectMappings.find((m: { sourceObjectName: string }) => m.sourceObjectName === 'User'));
  await sdk.api(`${path}/schema`).put(schema);
}

for (const dialect of dialects()) {
  describe(`cross-tenant sync: scope and deprovisioning (${dialect})`, () => {
    let ts: TestServer;
    before(async () => {
      ts = await startTestServer(dialect, { sync: { pollMs: 50 } });
    });
    after(() => ts.close());

    test('assigned users and direct members of assigned security groups; group changes follow', async () => {
      const { source, target, cfg, sdk } = await connectedPair(ts);
      const direct = await ts.user(source.tenantId);
      const unassigned = await ts.user(source.tenantId);
      const m1 = await ts.user(source.tenantId);
      const m2 = await ts.user(source.tenantId);
      const nestedMember = await ts.user(source.tenantId);
      const inner = await securityGroup(sdk, [nestedMember.id]);
      const group = await securityGroup(sdk, [m1.id, m2.id]);
      await addMember(sdk, group, inner);
      await assign(ts, source, cfg, direct.id);
      await assign(ts, source, cfg, group);
      await sdk.api(jobPath(cfg, '/start')).post({});
      await settle(ts);
      let linked = await linkedByHome(ts, target, source.tenantId);
      assert.deepEqual([...linked.keys()].sort(), [direct.id, m1.id, m2.id].sort(), 'assigned users and direct members only, no nested member');
      assert.ok(!linked.has(unassigned.id) && !linked.has(nestedMember.id));

      const m3 = await ts.user(source.tenantId);
      await addMember(sdk, group, m3.id);
      await removeMember(sdk, group, m1.id);
      await settle(ts);
      linked = await linkedByHome(ts, target, source.tenantId);
      assert.equal(linked.get(m3.id)?.deleted, false, 'a member added later is provisioned');
      assert.equal(linked.get(m1.id)?.deleted, true, 'a removed member is soft-deleted');
      assert.equal(linked.get(m2.id)?.deleted, false);
      assert.equal((await b2bUsersIn(ts, target, source.tenantId)).length, 4, 'nothing else created');
    });

    test('Sync all: every internal member, never the source tenant\'s own B2B users', async () => {
      const { source, target, cfg, sdk } = await connectedPair(ts, { SyncAll: 'true' });
      const a = await ts.user(source.tenantId);
      const b = await ts.user(source.tenantId);
      // A B2B guest of the source (invited from a third tenant's address).
      const third = await ts.tenant('Third');
      const outsider = await ts.user(third.tenantId);
      const inv = await sdk.api('/invitations').post({ invitedUserEmailAddress: outsider.userPrincipalName, inviteRedirectUrl: 'https://myapps.microsoft.com' });
      await sdk.api(jobPath(cfg, '/start')).post({});
      await settle(ts);
      const internal = (await sdk.api('/users').filter("userType eq 'Member'").top(999).get()).value
        .filter((u: { userPrincipalName: string }) => !u.userPrincipalName.includes('#EXT#')).map((u: { id: string }) => u.id);
      const linked = await linkedByHome(ts, target, source.tenantId);
      assert.ok(internal.includes(a.id) && internal.includes(b.id));
      assert.deepEqual([...linked.keys()].sort(), [...internal].sort(), 'every internal member, and only them');
      assert.ok(!linked.has(inv.invitedUser.id), 'the B2B guest of the source is not provisioned');
      // The initial cycle's read leaves B2B users out in SQL (a mesh tenant is mostly B2B copies).
      const read = await syncReads.usersPage(ts.server.store.db, source.tenantId, '', 1000);
      assert.deepEqual(read.map((u) => u.id).sort(), [...internal].sort(), 'the initial read returns the internal users only');
    });

    test('a mesh: users synced into a tenant are never synced on from it (Sync all)', async () => {
      const { source: a, target: b, cfg: ab, sdk: aSdk } = await connectedPair(ts);
      const fromA = await ts.user(a.tenantId);
      await assign(ts, a, ab, fromA.id);
      await aSdk.api(jobPath(ab, '/start')).post({});
      await settle(ts);
      const inB = (await linkedByHome(ts, b, a.tenantId)).get(fromA.id)!;
      assert.equal(inB.user.userType, 'Member', 'a B2B member in B');
      const c = await ts.tenant('C');
      await allowInbound(ts, c, b);
      await allowOutbound(ts, b, c);
      const bc = await configure(ts, b, c, { SyncAll: 'true' });
      const own = await ts.user(b.tenantId);
      await graphClient(ts, b.adminToken).api(jobPath(bc, '/start')).post({});
      await settle(ts);
      const inC = await linkedByHome(ts, c, b.tenantId);
      assert.equal(inC.get(own.id)?.deleted, false, "B's own member reaches C");
      assert.ok(!inC.has(inB.id), "A's user synced into B does not");
      assert.equal((await b2bUsersIn(ts, c, a.tenantId)).length, 0);
    });

    test('a scoping filter change re-evaluates everything; every deprovisioning trigger soft-deletes, restore brings back the same object', async () => {
      const { source, target, cfg, sdk } = await connectedPair(ts);
      const mk = async (department: string) => {
        const u = await ts.user(source.tenantId, { department });
        return { ...u, assignment: await assign(ts, source, cfg, u.id) };
      };
      const sales1 = await mk('Sales');
      const sales2 = await mk('Sales');
      const eng = await mk('Engineering');
      const ops = await mk('Ops');
      const toDelete = await mk('Ops');
      const toDisable = await mk('Ops');
      const toUnassign = await mk('Ops');
      await sdk.api(jobPath(cfg, '/start')).post({});
      await settle(ts);
      const first = await linkedByHome(ts, target, source.tenantId);
      assert.equal(first.size, 7);

      // Out of scope: a filter that keeps Sales and Ops only.
      await editUserMapping(sdk, jobPath(cfg), (m) => {
        m.scope = deptFilter('Sales', 'Ops');
      });
      await settle(ts);
      let linked = await linkedByHome(ts, target, source.tenantId);
      assert.equal(linked.get(eng.id)?.deleted, true, 'out of scope → soft-deleted');
      assert.equal(linked.get(sales1.id)?.deleted, false);
      assert.equal(linked.get(ops.id)?.deleted, false);

      // Newly in scope after the filter changes again; the same target object comes back.
      await editUserMapping(sdk, jobPath(cfg), (m) => {
        m.scope = deptFilter('Sales', 'Engineering');
      });
      await settle(ts);
      linked = await linkedByHome(ts, target, source.tenantId);
      assert.equal(linked.get(eng.id)?.deleted, false, 'back in scope → restored');
      assert.equal(linked.get(eng.id)?.id, first.get(eng.id)?.id, 'the same target object');
      assert.equal(linked.get(ops.id)?.deleted, true);
      await editUserMapping(sdk, jobPath(cfg), (m) => {
        m.scope = null;
      });
      await settle(ts);
      assert.equal((await linkedByHome(ts, target, source.tenantId)).get(ops.id)?.deleted, false);

      // Unassigned, soft-deleted in the source, disabled in the source.
      await unassign(ts, source, cfg, toUnassign.assignment);
      await sdk.api(`/users/${toDelete.id}`).delete();
      await sdk.api(`/users/${toDisable.id}`).patch({ accountEnabled: false });
      await settle(ts);
      linked = await linkedByHome(ts, target, source.tenantId);
      assert.equal(linked.get(toUnassign.id)?.deleted, true, 'unassigned → soft-deleted');
      assert.equal(linked.get(toDelete.id)?.deleted, true, 'deleted in the source → soft-deleted');
      assert.equal(linked.get(toDisable.id)?.deleted, false, 'disabled in the source → not deleted');
      assert.equal(linked.get(toDisable.id)?.user.accountEnabled, false, '… but disabled');
      const disables = await provisioningLog(sdk, `jobId eq '${cfg.jobId}' and provisioningAction eq 'disable'`);
      assert.ok(disables.some((e) => e.sourceIdentity.id === toDisable.id && e.provisioningStatusInfo.status === 'success'));

      // Restored in the source, reassigned: the same target objects, no duplicates.
      await sdk.api(`/directory/deletedItems/${toDelete.id}/restore`).post({});
      await assign(ts, source, cfg, toUnassign.id);
      await sdk.api(`/users/${toDisable.id}`).patch({ accountEnabled: true });
      await settle(ts);
      linked = await linkedByHome(ts, target, source.tenantId);
      for (const u of [toDelete, toUnassign, toDisable]) {
        assert.equal(linked.get(u.id)?.deleted, false, 'restored');
        assert.equal(linked.get(u.id)?.id, first.get(u.id)?.id, 'the same target object');
      }
      assert.equal(linked.get(toDisable.id)?.user.accountEnabled, true);
      assert.equal((await b2bUsersIn(ts, target, source.tenantId)).length, 7, 'never a duplicate');
      const status = (await sdk.api(jobPath(cfg)).get()).status;
      assert.deepEqual(status.synchronizedEntryCountByType.map((e: { value: number }) => e.value), [7], 'restored users count as synchronized again');
      void sales2;
    });

    test('Delete target object action off: users leaving the scope stay', async () => {
      const { source, target, cfg, sdk } = await connectedPair(ts);
      const stay = await ts.user(source.tenantId);
      const leave = await ts.user(source.tenantId);
      await assign(ts, source, cfg, stay.id);
      const assignment = await assign(ts, source, cfg, leave.id);
      await editUserMapping(sdk, jobPath(cfg), (m) => {
        m.flowTypes = 'Add, Update';
      });
      await sdk.api(jobPath(cfg, '/start')).post({});
      await settle(ts);
      assert.equal((await linkedByHome(ts, target, source.tenantId)).size, 2);
      await unassign(ts, source, cfg, assignment);
      await sdk.api(`/users/${stay.id}`).delete();
      await settle(ts);
      const linked = await linkedByHome(ts, target, source.tenantId);
      assert.equal(linked.get(leave.id)?.deleted, false, 'unassigned but kept');
      assert.equal(linked.get(stay.id)?.deleted, false, 'deleted in the source but kept');
    });

    test('a disabled user object mapping provisions nobody until it is enabled again', async () => {
      const { source, target, cfg, sdk } = await connectedPair(ts);
      const u = await ts.user(source.tenantId);
      await assign(ts, source, cfg, u.id);
      await editUserMapping(sdk, jobPath(cfg), (m) => {
        m.enabled = false;
      });
      await sdk.api(jobPath(cfg, '/start')).post({});
      await settle(ts);
      assert.equal((await linkedByHome(ts, target, source.tenantId)).size, 0);
      const log = await provisioningLog(sdk, `jobId eq '${cfg.jobId}' and sourceIdentity/id eq '${u.id}'`);
      assert.equal(log[0]?.provisioningStatusInfo.status, 'skipped');
      assert.equal(log[0]?.provisioningStatusInfo.errorInformation.errorCode, 'EntityTypeNotSupported');
      await editUserMapping(sdk, jobPath(cfg), (m) => {
        m.enabled = true;
      });
      await settle(ts);
      assert.equal((await linkedByHome(ts, target, source.tenantId)).get(u.id)?.deleted, false);
    });
  });
}
