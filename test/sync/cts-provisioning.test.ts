// Cross-tenant sync scenarios about what lands in the target (entra-mto-cts.md §3.6, §3.8, §3.11): the
// B2B member a create makes, adopting an unredeemed guest and the userType rule, never taking over an
// internal user, the accidental-deletion threshold, provision on demand, and openmto's dry run.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@microsoft/microsoft-graph-client';
import { dialects, graphClient, startTestServer, type TestServer, type TestTenant, type TestUser } from '../helpers/harness.js';
import { assign, b2bUsersIn, connectedPair, jobPath, linkedByHome, provisioningLog, settle } from '../helpers/sync.js';

/** PUT schema with the user mapping changed by `edit`. */
// biome-ignore lint/suspicious/noExplicitAny: the schema is Graph JSON edited freely
async function editUserMapping(sdk: Client, path: string, edit: (m: any) => void) {
  const schema = await sdk.api(`${path}/schema`).get();
  delete schema['@odata.context'];
  edit(schema.synchronizationRules[0].objectMappings.find((m: { sourceObjectName: string }) => m.sourceObjectName === 'User'));
  await sdk.api(`${path}/schema`).put(schema);
}

const deptFilter = (value: string) => ({
  groups: [{ name: 'Dept', clauses: [{ operatorName: 'EQUALS', sourceOperandName: 'department', targetOperand: { values: [value] } }] }],
  inputFilterGroups: [], categoryFilterGroups: [],
});

const b2bUpn = (upn: string, target: TestTenant) => `${upn.replace('@', '_')}#EXT#@${target.domain}`;

/** A guest the target invited by mail, not redeemed. */
async function pendingGuest(ts: TestServer, target: TestTenant, email: string): Promise<string> {
  const inv = await graphClient(ts, target.adminToken).api('/invitations').post({ invitedUserEmailAddress: email, inviteRedirectUrl: 'https://myapps.microsoft.com' });
  assert.equal(inv.invitedUser.id && inv.status, 'PendingAcceptance');
  return inv.invitedUser.id as string;
}

for (const dialect of dialects()) {
  describe(`cross-tenant sync: what lands in the target (${dialect})`, () => {
    let ts: TestServer;
    let idle: TestServer;
    before(async () => {
      ts = await startTestServer(dialect, { sync: { pollMs: 50 } });
      idle = await startTestServer(dialect, { sync: false });
    });
    after(async () => {
      await ts.close();
      await idle.close();
    });

    test('a created user is a B2B member: Member, Accepted, in the address list, Invitation, #EXT# UPN, home link', async () => {
      const { source, target, cfg, sdk } = await connectedPair(ts);
      const u = await ts.user(source.tenantId, { displayName: 'Grace Hopper', department: 'Navy' });
      await assign(ts, source, cfg, u.id);
      await sdk.api(jobPath(cfg, '/start')).post({});
      await settle(ts);
      const t = (await linkedByHome(ts, target, source.tenantId)).get(u.id);
      assert.ok(t && !t.deleted);
      const got = await graphClient(ts, target.adminToken).api(`/users/${t.id}`)
        .select('userType,externalUserState,showInAddressList,creationType,userPrincipalName,displayName,department,accountEnabled,mail').get();
      assert.equal(got.userType, 'Member');
      assert.equal(got.externalUserState, 'Accepted');
      assert.equal(got.showInAddressList, true);
      assert.equal(got.creationType, 'Invitation');
      assert.equal(got.userPrincipalName, b2bUpn(u.userPrincipalName, target));
      assert.equal(got.displayName, 'Grace Hopper');
      assert.equal(got.department, 'Navy');
      assert.equal(got.accountEnabled, true);
      const log = await provisioningLog(sdk, `jobId eq '${cfg.jobId}' and provisioningAction eq 'create'`);
      assert.equal(log.length, 1);
      assert.equal(log[0]!.targetIdentity.id, t.id);
    });

    test('an unredeemed guest invited by mail is adopted and stays Guest; userType flow Always makes it Member; an internal user is never adopted', async () => {
      let invited!: TestUser;
      let guestId = '';
      // Invited before the policies allow automatic redemption, so the invitation stays pending.
      const { source, target, cfg, sdk } = await connectedPair(ts, {}, async (s, t) => {
        invited = await ts.user(s.tenantId);
        guestId = await pendingGuest(ts, t, invited.userPrincipalName);
      });
      const clash = await ts.user(source.tenantId);
      const internal = await ts.user(target.tenantId, { mail: clash.userPrincipalName });
      await assign(ts, source, cfg, invited.id);
      await assign(ts, source, cfg, clash.id);
      await sdk.api(jobPath(cfg, '/start')).post({});
      await settle(ts);
      const tsdk = graphClient(ts, target.adminToken);
      const linked = await linkedByHome(ts, target, source.tenantId);
      assert.equal(linked.get(invited.id)?.id, guestId, 'the invited guest is linked, not a second user');
      let g = await tsdk.api(`/users/${guestId}`).select('userType,externalUserState,creationType').get();
      assert.equal(g.externalUserState, 'Accepted', 'redeemed');
      assert.equal(g.userType, 'Guest', 'an existing guest stays Guest');
      assert.ok(!linked.has(clash.id), 'no user for the address an internal user holds');
      const i = await tsdk.api(`/users/${internal.id}`).select('userType,creationType,userPrincipalName').get();
      assert.equal(i.userPrincipalName, internal.userPrincipalName, 'the internal user is untouched');
      const failures = await provisioningLog(sdk, `jobId eq '${cfg.jobId}' and provisioningStatusInfo/status eq 'failure'`);
      assert.ok(failures.length >= 1);
      assert.ok(failures.every((e) => e.sourceIdentity.id === clash.id));
      assert.equal(failures[0]!.provisioningStatusInfo.errorInformation.errorCode, 'InvitationCreationFailureAmbiguousUser');
      assert.equal((await b2bUsersIn(ts, target, source.tenantId)).length, 1);

      await editUserMapping(sdk, jobPath(cfg), (m) => {
        m.attributeMappings.find((a: { targetAttributeName: string }) => a.targetAttributeName === 'userType').flowType = 'Always';
      });
      await settle(ts);
      g = await tsdk.api(`/users/${guestId}`).select('userType').get();
      assert.equal(g.userType, 'Member', 'userType mapping applied Always converts the guest');
    });

    test('accidental-deletion threshold: too many leave scope → quarantine TooManyDeletes, staged; ForceDeletes applies them', async () => {
      const { source, target, cfg, sdk } = await connectedPair(ts, {
        SyncNotificationSettings: JSON.stringify({ Enabled: false, DeleteThresholdEnabled: true, DeleteThresholdValue: 2 }),
      });
      const users = [];
      for (const department of ['Keep', 'Go', 'Go', 'Go']) {
        const u = await ts.user(source.tenantId, { department });
        await assign(ts, source, cfg, u.id);
        users.push(u);
      }
      await sdk.api(jobPath(cfg, '/start')).post({});
      await settle(ts);
      assert.equal((await linkedByHome(ts, target, source.tenantId)).size, 4);
      await editUserMapping(sdk, jobPath(cfg), (m) => {
        m.scope = deptFilter('Keep');
      });
      await settle(ts);
      let job = await sdk.api(jobPath(cfg)).get();
      assert.equal(job.status.code, 'Quarantine');
      assert.equal(job.status.quarantine.reason, 'TooManyDeletes');
      let linked = await linkedByHome(ts, target, source.tenantId);
      assert.ok([...linked.values()].every((u) => !u.deleted), 'nothing deleted');
      const staged = await provisioningLog(sdk, `jobId eq '${cfg.jobId}' and provisioningAction eq 'stagedDelete'`);
      assert.deepEqual(new Set(staged.map((e) => e.sourceIdentity.id)), new Set(users.slice(1).map((u) => u.id)));
      // Still held on the next pass (another change in the source wakes the job).
      await ts.user(source.tenantId);
      await settle(ts);
      assert.ok([...(await linkedByHome(ts, target, source.tenantId)).values()].every((u) => !u.deleted), 'still nothing deleted');

      await sdk.api(jobPath(cfg, '/restart')).post({ criteria: { resetScope: 'ForceDeletes' } });
      await settle(ts);
      linked = await linkedByHome(ts, target, source.tenantId);
      assert.equal(linked.get(users[0]!.id)?.deleted, false);
      for (const u of users.slice(1)) assert.equal(linked.get(u.id)?.deleted, true, 'deleted once allowed');
      job = await sdk.api(jobPath(cfg)).get();
      assert.equal(job.status.quarantine, null);
      assert.equal(job.status.code, 'Active');
      const deletes = await provisioningLog(sdk, `jobId eq '${cfg.jobId}' and provisioningAction eq 'delete'`);
      assert.equal(deletes.length, 3);
    });

    test('provisionOnDemand before the job is started creates the user; shape; 5 requests per 10 s', async () => {
      const { source, target, cfg, sdk } = await connectedPair(idle);
      const tsdk = graphClient(idle, source.adminToken);
      const u = await idle.user(source.tenantId);
      await assign(idle, source, cfg, u.id);
      const body = { parameters: [{ ruleId: 'USER_INBOUND_USER', subjects: [{ objectId: u.id, objectTypeName: 'User' }] }] };
      const res = await tsdk.api(jobPath(cfg, '/provisionOnDemand')).post(body);
      assert.equal(typeof res.key, 'string');
      assert.equal(typeof res.value, 'string');
      const v = JSON.parse(res.value);
      assert.equal(v.result, 'Success');
      assert.equal(v.action, 'Create');
      assert.deepEqual(v.provisioningSteps.map((s: { provisioningStepType: string }) => s.provisioningStepType), ['import', 'scoping', 'matching', 'export']);
      assert.deepEqual(v.provisioningSteps.map((s: { status: string }) => s.status), ['success', 'success', 'skipped', 'success'], 'no match, so created');
      assert.equal(v.targetIdentity.details.UserPrincipalName, b2bUpn(u.userPrincipalName, target));
      const linked = await linkedByHome(idle, target, source.tenantId);
      assert.equal(linked.get(u.id)?.deleted, false, 'created without the job running');
      assert.equal((await sdk.api(jobPath(cfg)).get()).schedule.state, 'Disabled');
      const again = JSON.parse((await tsdk.api(jobPath(cfg, '/provisionOnDemand')).post(body)).value);
      assert.equal(again.result, 'Skipped');
      assert.equal(again.details.errorCode, 'RedundantExport');
      for (let i = 0; i < 3; i++) await tsdk.api(jobPath(cfg, '/provisionOnDemand')).post(body);
      const sixth = await idle.request('POST', `${cfg.base}/jobs/${cfg.jobId}/provisionOnDemand`, { token: source.adminToken, body });
      assert.equal(sixth.status, 429);
      assert.equal(sixth.body.error.code, 'TooManyRequests');
      assert.ok(Number(sixth.headers.get('retry-after')) >= 1);
      assert.equal((await b2bUsersIn(idle, target, source.tenantId)).length, 1);
    });

    test('disables count toward the threshold too; a plain restart (QuarantineState) holds them again', async () => {
      const { source, target, cfg, sdk } = await connectedPair(ts, {
        SyncNotificationSettings: JSON.stringify({ DeleteThresholdEnabled: true, DeleteThresholdValue: 2 }),
      });
      const users = [await ts.user(source.tenantId), await ts.user(source.tenantId), await ts.user(source.tenantId)];
      for (const u of users) await assign(ts, source, cfg, u.id);
      await sdk.api(jobPath(cfg, '/start')).post({});
      await settle(ts);
      // Three disables in one cycle: the job is paused while they happen.
      await sdk.api(jobPath(cfg, '/pause')).post({});
      for (const u of users) await sdk.api(`/users/${u.id}`).patch({ accountEnabled: false });
      await sdk.api(jobPath(cfg, '/start')).post({});
      await settle(ts);
      let job = await sdk.api(jobPath(cfg)).get();
      assert.equal(job.status.quarantine?.reason, 'TooManyDeletes');
      assert.ok([...(await linkedByHome(ts, target, source.tenantId)).values()].every((u) => u.user.accountEnabled === true), 'nothing disabled');
      await sdk.api(jobPath(cfg, '/restart')).post({ criteria: { resetScope: 'QuarantineState' } });
      await settle(ts);
      job = await sdk.api(jobPath(cfg)).get();
      assert.equal(job.status.quarantine?.reason, 'TooManyDeletes', 'still over the threshold');
      await sdk.api(jobPath(cfg, '/restart')).post({ criteria: { resetScope: 'ForceDeletes' } });
      await settle(ts);
      assert.ok([...(await linkedByHome(ts, target, source.tenantId)).values()].every((u) => u.user.accountEnabled === false && !u.deleted), 'disabled, not deleted');
      assert.equal((await provisioningLog(sdk, `jobId eq '${cfg.jobId}' and provisioningAction eq 'disable'`)).length, 3);
    });

    test('a user provisioned on demand is matched, not created again, by the first cycle', async () => {
      const { source, target, cfg, sdk } = await connectedPair(ts);
      const u = await ts.user(source.tenantId);
      await assign(ts, source, cfg, u.id);
      const v = JSON.parse((await sdk.api(jobPath(cfg, '/provisionOnDemand')).post({
        parameters: [{ ruleId: 'USER_INBOUND_USER', subjects: [{ objectId: u.id, objectTypeName: 'User' }] }],
      })).value);
      assert.equal(v.action, 'Create');
      const onDemand = await provisioningLog(sdk, `jobId eq '${cfg.jobId}'`);
      assert.equal(onDemand[0]?.initiatedBy.displayName, 'On-demand provisioning');
      await sdk.api(jobPath(cfg, '/start')).post({});
      await settle(ts);
      assert.equal((await b2bUsersIn(ts, target, source.tenantId)).length, 1);
      const cycle = (await provisioningLog(sdk, `jobId eq '${cfg.jobId}' and sourceIdentity/id eq '${u.id}'`))[0]!;
      assert.equal(cycle.provisioningStatusInfo.status, 'skipped');
      assert.equal(cycle.provisioningStatusInfo.errorInformation.errorCode, 'RedundantExport');
    });

    test('provisionOnDemand: an unassigned user is skipped, a B2B user of the source and an unknown id are refused', async () => {
      const { source, cfg } = await connectedPair(idle);
      const sdk = graphClient(idle, source.adminToken);
      const u = await idle.user(source.tenantId);
      const one = (objectId: string) => ({ parameters: [{ ruleId: 'USER_INBOUND_USER', subjects: [{ objectId, objectTypeName: 'User' }] }] });
      const v = JSON.parse((await sdk.api(jobPath(cfg, '/provisionOnDemand')).post(one(u.id))).value);
      assert.equal(v.result, 'Skipped');
      assert.equal(v.details.errorCode, 'NotEffectivelyEntitled');
      const third = await idle.tenant();
      const outsider = await idle.user(third.tenantId);
      const inv = await sdk.api('/invitations').post({ invitedUserEmailAddress: outsider.userPrincipalName, inviteRedirectUrl: 'https://myapps.microsoft.com' });
      const b2b = await idle.request('POST', `${cfg.base}/jobs/${cfg.jobId}/provisionOnDemand`, { token: source.adminToken, body: one(inv.invitedUser.id) });
      assert.equal(b2b.status, 400, b2b.text);
      const unknown = await idle.request('POST', `${cfg.base}/jobs/${cfg.jobId}/provisionOnDemand`, { token: source.adminToken, body: one('00000000-0000-0000-0000-0000000000aa') });
      assert.equal(unknown.status, 404, unknown.text);
      const group = await idle.request('POST', `${cfg.base}/jobs/${cfg.jobId}/provisionOnDemand`, {
        token: source.adminToken, body: { parameters: [{ subjects: [{ objectId: u.id, objectTypeName: 'Group' }] }] },
      });
      assert.equal(group.status, 400, 'groups are not provisioned on demand');
    });

    test('a dry run reports exactly what the first cycle does, and writes nothing', async () => {
      let adopt!: TestUser;
      const { source, target, cfg, sdk } = await connectedPair(ts, {}, async (s, t) => {
        adopt = await ts.user(s.tenantId);
        await pendingGuest(ts, t, adopt.userPrincipalName);
      });
      const creates = [await ts.user(source.tenantId), await ts.user(source.tenantId)];
      const clash = await ts.user(source.tenantId);
      await ts.user(target.tenantId, { mail: clash.userPrincipalName });
      const unassigned = await ts.user(source.tenantId);
      for (const u of [...creates, adopt, clash]) await assign(ts, source, cfg, u.id);
      const report = await sdk.api(jobPath(cfg, '/dryRun')).post({});
      assert.equal((await b2bUsersIn(ts, target, source.tenantId)).length, 0, 'nothing created or linked');
      assert.deepEqual(await provisioningLog(sdk, `jobId eq '${cfg.jobId}'`), [], 'no log written');
      const by = (action: string) => report.objects.filter((o: { action: string; status: string }) => o.action === action && o.status !== 'failure')
        .map((o: { sourceId: string }) => o.sourceId).sort();
      assert.deepEqual(by('create'), creates.map((u) => u.id).sort());
      assert.deepEqual(by('update'), [adopt.id]);
      assert.deepEqual(report.objects.filter((o: { status: string }) => o.status === 'failure').map((o: { sourceId: string }) => o.sourceId), [clash.id]);
      assert.equal(report.counts.create, 2);
      assert.equal(report.counts.failure, 1);
      assert.ok(report.counts.skip >= 1, 'the unassigned user is skipped');
      void unassigned;

      await sdk.api(jobPath(cfg, '/start')).post({});
      await settle(ts);
      const log = await provisioningLog(sdk, `jobId eq '${cfg.jobId}'`);
      const did = (action: string, status = 'success') => log.filter((e) => e.provisioningAction === action && e.provisioningStatusInfo.status === status)
        .map((e) => e.sourceIdentity.id).sort();
      assert.deepEqual(did('create'), by('create'));
      assert.deepEqual(did('update'), by('update'));
      assert.deepEqual([...new Set(did('create', 'failure'))], [clash.id]);
      const skipped = log.filter((e) => e.provisioningStatusInfo.status === 'skipped').length;
      assert.equal(skipped, report.counts.skip);
    });
  });
}
