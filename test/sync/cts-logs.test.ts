// The provisioning log of cross-tenant sync through the Graph SDK (entra-mto-cts.md §3.12): Graph's
// provisioningObjectSummary property set (v1.0 CSDL), $filter on jobId, servicePrincipal/id,
// provisioningAction and activityDateTime, paging with $top and @odata.nextLink, steps and modifiedProperties.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@microsoft/microsoft-graph-client';
import { dialects, iterateAll, startTestServer, type TestServer, type TestTenant, type TestUser } from '../helpers/harness.js';
import { assign, connectedPair, jobPath, provisioningLog, type SyncConfig, settle } from '../helpers/sync.js';

// provisioningObjectSummary in graph-v1.0.csdl (entity: id), and its complex types.
const SUMMARY = `id activityDateTime changeId cycleId durationInMilliseconds initiatedBy jobId modifiedProperties provisioningAction
  provisioningStatusInfo provisioningSteps servicePrincipal sourceIdentity sourceSystem targetIdentity targetSystem tenantId`.split(/\s+/).sort();
const STEP = ['description', 'details', 'name', 'provisioningStepType', 'status'];
const ERROR_INFO = ['additionalDetails', 'errorCategory', 'errorCode', 'reason', 'recommendedAction'];
const ACTIONS = new Set(['other', 'create', 'delete', 'disable', 'update', 'stagedDelete']);
const STEP_TYPES = new Set(['import', 'scoping', 'matching', 'processing', 'referenceResolution', 'export']);
const RESULTS = new Set(['success', 'failure', 'skipped', 'warning']);

const keys = (o: Record<string, unknown>) => Object.keys(o).filter((k) => !k.startsWith('@')).sort();

for (const dialect of dialects()) {
  describe(`cross-tenant sync: provisioning log (${dialect})`, () => {
    let ts: TestServer;
    let source: TestTenant;
    let target: TestTenant;
    let cfg: SyncConfig;
    let sdk: Client;
    let users: TestUser[];
    let clash: TestUser;
    let secondCycle: Date;

    before(async () => {
      ts = await startTestServer(dialect, { sync: { pollMs: 50 } });
      ({ source, target, cfg, sdk } = await connectedPair(ts));
      users = [];
      for (let i = 0; i < 4; i++) users.push(await ts.user(source.tenantId, { displayName: `Log User ${i}` }));
      clash = await ts.user(source.tenantId);
      await ts.user(target.tenantId, { mail: clash.userPrincipalName });
      for (const u of [...users, clash]) await assign(ts, source, cfg, u.id);
      await ts.user(source.tenantId); // not assigned: skipped
      await sdk.api(jobPath(cfg, '/start')).post({});
      await settle(ts);
      ts.clock.advance(120_000);
      secondCycle = ts.clock.now();
      await sdk.api(`/users/${users[0]!.id}`).patch({ accountEnabled: false });
      await settle(ts);
    });
    after(() => ts.close());

    test('entries have exactly Graph\'s provisioningObjectSummary properties, with steps and modifiedProperties', async () => {
      const all = await provisioningLog(sdk, `jobId eq '${cfg.jobId}'`);
      assert.ok(all.length >= 7, `${all.length} entries`);
      for (const e of all) {
        assert.deepEqual(keys(e), SUMMARY);
        assert.equal(e.jobId, cfg.jobId);
        assert.equal(e.tenantId, source.tenantId);
        assert.ok(ACTIONS.has(e.provisioningAction));
        assert.ok(RESULTS.has(e.provisioningStatusInfo.status));
        assert.deepEqual(e.servicePrincipal.id, cfg.spId);
        assert.deepEqual(e.initiatedBy.initiatorType, 'system');
        assert.equal(e.sourceSystem.displayName, 'Azure Active Directory');
        assert.equal(e.targetSystem.displayName, 'Azure Active Directory (target tenant)');
        assert.ok(!Number.isNaN(Date.parse(e.activityDateTime)));
        for (const s of e.provisioningSteps) {
          assert.deepEqual(keys(s), STEP);
          assert.ok(STEP_TYPES.has(s.provisioningStepType));
          assert.ok(RESULTS.has(s.status));
        }
        if (e.provisioningStatusInfo.errorInformation) assert.deepEqual(keys(e.provisioningStatusInfo.errorInformation), ERROR_INFO);
        for (const m of e.modifiedProperties) assert.deepEqual(keys(m), ['displayName', 'newValue', 'oldValue']);
      }
      const created = all.find((e) => e.provisioningAction === 'create' && e.sourceIdentity.id === users[1]!.id)!;
      assert.equal(created.provisioningStatusInfo.status, 'success');
      assert.equal(created.provisioningStatusInfo.errorInformation, null);
      assert.equal(created.targetIdentity.displayName, 'Log User 1');
      assert.ok(created.modifiedProperties.some((m: { displayName: string; newValue: string; oldValue: string | null }) =>
        m.displayName === 'displayName' && m.newValue === 'Log User 1' && m.oldValue === null));
      assert.deepEqual(created.provisioningSteps.map((s: { name: string }) => s.name), ['EntryImportAdd', 'EntrySynchronizationScoping', 'EntryExportUpdate', 'EntryExportCreate']);
      const scoping = created.provisioningSteps[1];
      assert.equal(scoping.details['Assigned to the application'], 'True');
      const disabled = all.find((e) => e.provisioningAction === 'disable')!;
      assert.equal(disabled.sourceIdentity.id, users[0]!.id);
      assert.deepEqual(disabled.modifiedProperties.find((m: { displayName: string }) => m.displayName === 'accountEnabled'),
        { displayName: 'accountEnabled', oldValue: 'True', newValue: 'False' });
      const failed = all.find((e) => e.provisioningStatusInfo.status === 'failure')!;
      assert.equal(failed.sourceIdentity.id, clash.id);
      assert.equal(failed.provisioningStatusInfo.errorInformation.errorCode, 'InvitationCreationFailureAmbiguousUser');
      assert.equal(failed.provisioningSteps.at(-1).status, 'failure');
      const skipped = all.find((e) => e.provisioningStatusInfo.status === 'skipped' && e.provisioningSteps[1].details['Assigned to the application'] === 'False');
      assert.ok(skipped, 'an unassigned user shows as skipped');
    });

    test('$filter on jobId, servicePrincipal/id, provisioningAction, activityDateTime; newest first', async () => {
      const all = await provisioningLog(sdk, `jobId eq '${cfg.jobId}'`);
      const bySp = await provisioningLog(sdk, `servicePrincipal/id eq '${cfg.spId}'`);
      assert.deepEqual(bySp.map((e) => e.id), all.map((e) => e.id));
      const times = all.map((e) => Date.parse(e.activityDateTime));
      assert.deepEqual(times, [...times].sort((a, b) => b - a), 'newest first');
      const creates = await provisioningLog(sdk, `jobId eq '${cfg.jobId}' and provisioningAction eq 'create'`);
      assert.ok(creates.length >= 5 && creates.every((e) => e.provisioningAction === 'create'));
      assert.deepEqual(creates.map((e) => e.id), all.filter((e) => e.provisioningAction === 'create').map((e) => e.id));
      const recent = await provisioningLog(sdk, `activityDateTime ge ${secondCycle.toISOString()} and jobId eq '${cfg.jobId}'`);
      assert.deepEqual(recent.map((e) => e.provisioningAction), ['disable']);
      const older = await provisioningLog(sdk, `activityDateTime lt ${secondCycle.toISOString()}`);
      assert.equal(older.length, all.length - 1);
      const at = recent.length ? (await provisioningLog(sdk, `provisioningAction eq 'disable'`))[0]!.activityDateTime : '';
      assert.equal((await provisioningLog(sdk, `activityDateTime ge ${at}`)).length, 1, 'ge includes the instant');
      assert.equal((await provisioningLog(sdk, `activityDateTime le ${at}`)).length, all.length, 'le includes the instant');
      assert.equal((await provisioningLog(sdk, `activityDateTime gt ${at}`)).length, 0, 'gt excludes it');
      assert.equal((await provisioningLog(sdk, `activityDateTime lt ${at}`)).length, all.length - 1, 'lt excludes it');
      assert.deepEqual(await provisioningLog(sdk, "jobId eq 'Azure2Azure.none'"), []);
      const bad = await ts.request('GET', "/v1.0/auditLogs/provisioning?$filter=startswith(jobId,'A')", { token: source.adminToken });
      assert.equal(bad.status, 400);
      const badAction = await ts.request('GET', "/v1.0/auditLogs/provisioning?$filter=provisioningAction eq 'explode'", { token: source.adminToken });
      assert.equal(badAction.status, 400);
      // The target tenant sees none of the source's configuration's entries.
      const theirs = await ts.request('GET', '/v1.0/auditLogs/provisioning', { token: target.adminToken });
      assert.deepEqual(theirs.body.value, []);
    });

    test('paging with $top follows @odata.nextLink to every entry exactly once', async () => {
      const all = await provisioningLog(sdk, `jobId eq '${cfg.jobId}'`);
      const first = await sdk.api('/auditLogs/provisioning').filter(`jobId eq '${cfg.jobId}'`).top(2).get();
      assert.equal(first.value.length, 2);
      const next = new URL(first['@odata.nextLink']);
      assert.ok(next.searchParams.get('$skiptoken'));
      assert.equal(next.searchParams.get('$top'), '2');
      const items = (await iterateAll(sdk, first)) as { id: string }[];
      assert.deepEqual(items.map((e) => e.id), all.map((e) => e.id));
      const bad = await ts.request('GET', '/v1.0/auditLogs/provisioning?$skiptoken=garbage', { token: source.adminToken });
      assert.equal(bad.status, 400);
    });
  });
}
