// Cross-tenant sync configuration scenarios through the Graph SDK: the three cross-tenant access settings
// (validateCredentials and a started job's quarantine, entra-mto-cts.md §2.3), the job's lifecycle and
// shapes (§3.2, §3.3), the schema endpoints (§3.4, §3.5), and who may see and change a configuration.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dialects, graphClient, startTestServer, type TestServer } from '../helpers/harness.js';
import { allowInbound, allowOutbound, assign, b2bUsersIn, configure, connectedPair, jobPath, linkedByHome, settle } from '../helpers/sync.js';

const PREFIX = 'You appear to have entered invalid credentials. Please confirm you are using the correct information for an administrative account.';
const OUTBOUND = 'The source tenant has not enabled automatic user consent with the target tenant. Please enable the outbound cross-tenant access '
  + 'policy for automatic user consent in the source tenant. aka.ms/TroubleshootingCrossTenantSyncPolicyCheck';
const INBOUND_SYNC = 'The target tenant has not enabled inbound synchronization with this tenant. Please request the target tenant admin to enable '
  + 'the inbound synchronization on their cross-tenant access policy. Learn more: aka.ms/TroubleshootingCrossTenantSyncPolicyCheck';
const INBOUND_CONSENT = 'Policy permitting auto-redemption of invitations not configured.';

const NEW_STATUS = {
  code: 'Paused', countSuccessiveCompleteFailures: 0, escrowsPruned: false, lastExecution: null, lastSuccessfulExecution: null,
  lastSuccessfulExecutionWithExports: null, quarantine: null, steadyStateFirstAchievedTime: '0001-01-01T00:00:00Z',
  steadyStateLastAchievedTime: '0001-01-01T00:00:00Z', troubleshootingUrl: null, progress: [], synchronizedEntryCountByType: [],
};

/** §3.5: every default mapping (target → expression) and its flow type. */
const DEFAULT_MAPPINGS: Record<string, [string, string]> = {
  alternativeSecurityIds: ['AltSecIdFromNetId([netId])', 'Always'], IsSoftDeleted: ['[IsSoftDeleted]', 'Always'], accountEnabled: ['[accountEnabled]', 'Always'],
  ...Object.fromEntries(['streetAddress', 'city', 'state', 'postalCode', 'country', 'department', 'employeeId', 'displayName', 'givenName', 'jobTitle',
    'mailNickname', 'physicalDeliveryOfficeName', 'preferredLanguage', 'surname', 'telephoneNumber', 'userPrincipalName', 'mail']
    .map((a) => [a, [`[${a}]`, 'Always']])),
  showInAddressList: ['"true"', 'Always'], userType: ['"Member"', 'ObjectAddOnly'],
};

for (const dialect of dialects()) {
  describe(`cross-tenant sync: setup, lifecycle, permissions (${dialect})`, () => {
    let ts: TestServer;
    let idle: TestServer;
    before(async () => {
      ts = await startTestServer(dialect, { sync: { pollMs: 50, engine: { quarantineBackoffMs: [60_000] } } });
      // No scheduler: a started job stays NotRun, so the states between runs can be read.
      idle = await startTestServer(dialect, { sync: false });
    });
    after(async () => {
      await ts.close();
      await idle.close();
    });

    test('validateCredentials names the missing cross-tenant access setting; all three present → 204', async () => {
      const source = await ts.tenant();
      const target = await ts.tenant();
      const cfg = await configure(ts, source, target);
      const body = {
        useSavedCredentials: false, templateId: 'Azure2Azure',
        credentials: [{ key: 'CompanyId', value: target.tenantId }, { key: 'AuthenticationType', value: 'SyncPolicy' }],
      };
      const validate = () => ts.request('POST', `${cfg.base}/jobs/validateCredentials`, { token: source.adminToken, body });
      const expectError = async (code: string, message: string) => {
        const r = await validate();
        assert.equal(r.status, 400, r.text);
        assert.deepEqual({ code: r.body.error.code, message: r.body.error.message }, { code, message: `${PREFIX} ${message}` });
      };
      // Target allows sync and consent, the source's outbound consent is missing.
      await allowInbound(ts, target, source);
      await expectError('AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure', OUTBOUND);
      await allowOutbound(ts, source, target);
      const sdk = graphClient(ts, source.adminToken);
      await sdk.api(`/servicePrincipals/${cfg.spId}/synchronization/jobs/validateCredentials`).post(body);
      // Target switches inbound sync off, then inbound consent off.
      const partner = `/v1.0/policies/crossTenantAccessPolicy/partners/${source.tenantId}`;
      let r = await ts.request('PATCH', `${partner}/identitySynchronization`, { token: target.adminToken, body: { userSyncInbound: { isSyncAllowed: false } } });
      assert.equal(r.status, 204, r.text);
      await expectError('AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure', INBOUND_SYNC);
      r = await ts.request('PATCH', `${partner}/identitySynchronization`, { token: target.adminToken, body: { userSyncInbound: { isSyncAllowed: true } } });
      assert.equal(r.status, 204, r.text);
      r = await ts.request('PATCH', partner, { token: target.adminToken, body: { automaticUserConsentSettings: { inboundAllowed: false } } });
      assert.equal(r.status, 204, r.text);
      await expectError('AzureDirectoryB2BManagementPolicyCheckFailure', INBOUND_CONSENT);
      // The saved credentials (the job-level route) are checked the same way.
      const saved = await ts.request('POST', `${cfg.base}/jobs/${cfg.jobId}/validateCredentials`, { token: source.adminToken, body: { useSavedCredentials: true } });
      assert.equal(saved.status, 400);
      assert.equal(saved.body.error.code, 'AzureDirectoryB2BManagementPolicyCheckFailure');
    });

    test('a started job missing a setting is quarantined and exports nothing; fixing the policy resumes it at once', async () => {
      const source = await ts.tenant();
      const target = await ts.tenant();
      await allowInbound(ts, target, source, { sync: false });
      await allowOutbound(ts, source, target);
      const cfg = await configure(ts, source, target);
      const sdk = graphClient(ts, source.adminToken);
      const u = await ts.user(source.tenantId);
      await assign(ts, source, cfg, u.id);
      await sdk.api(jobPath(cfg, '/start')).post({});
      await settle(ts);
      let job = await sdk.api(jobPath(cfg)).get();
      assert.equal(job.status.code, 'Quarantine');
      assert.equal(job.status.quarantine.reason, 'EncounteredQuarantineException');
      assert.equal(job.status.quarantine.error.code, 'AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure');
      assert.equal(job.status.lastExecution.state, 'Failed');
      assert.equal((await b2bUsersIn(ts, target, source.tenantId)).length, 0, 'nothing exported');
      // The quarantine retry is a minute away; the policy change retries now.
      await allowInbound(ts, target, source);
      await settle(ts);
      job = await sdk.api(jobPath(cfg)).get();
      assert.equal(job.status.code, 'Active');
      assert.equal(job.status.quarantine, null);
      assert.equal((await linkedByHome(ts, target, source.tenantId)).get(u.id)?.deleted, false);
    });

    test('a running job whose target switches inbound sync off stops at once and deletes nothing until it is back', async () => {
      const { source, target, cfg, sdk } = await connectedPair(ts);
      const u = await ts.user(source.tenantId);
      const assignment = await assign(ts, source, cfg, u.id);
      await sdk.api(jobPath(cfg, '/start')).post({});
      await settle(ts);
      assert.equal((await linkedByHome(ts, target, source.tenantId)).get(u.id)?.deleted, false);
      const sync = `/v1.0/policies/crossTenantAccessPolicy/partners/${source.tenantId}/identitySynchronization`;
      let r = await ts.request('PATCH', sync, { token: target.adminToken, body: { userSyncInbound: { isSyncAllowed: false } } });
      assert.equal(r.status, 204, r.text);
      const r2 = await ts.request('DELETE', `/v1.0/servicePrincipals/${cfg.spId}/appRoleAssignedTo/${assignment}`, { token: source.adminToken });
      assert.equal(r2.status, 204);
      await settle(ts);
      const job = await sdk.api(jobPath(cfg)).get();
      assert.equal(job.status.code, 'Quarantine');
      assert.equal(job.status.quarantine.error.message, INBOUND_SYNC);
      assert.equal((await linkedByHome(ts, target, source.tenantId)).get(u.id)?.deleted, false, 'nothing deleted while blocked');
      r = await ts.request('PATCH', sync, { token: target.adminToken, body: { userSyncInbound: { isSyncAllowed: true } } });
      assert.equal(r.status, 204, r.text);
      await settle(ts);
      assert.equal((await linkedByHome(ts, target, source.tenantId)).get(u.id)?.deleted, true, 'the held change applies once allowed');
      assert.equal((await sdk.api(jobPath(cfg)).get()).status.code, 'Active');
    });

    test('job shapes: created Paused/Disabled, started NotRun/Active; pause keeps state; restart scopes', async () => {
      const { source, cfg, sdk: _ } = await connectedPair(idle);
      const sdk = graphClient(idle, source.adminToken);
      const job = await sdk.api(jobPath(cfg)).get();
      assert.equal(job.templateId, 'Azure2Azure');
      assert.deepEqual(job.schedule, { expiration: null, interval: 'PT40M', state: 'Disabled' });
      assert.deepEqual(job.status, NEW_STATUS);
      assert.deepEqual(job.synchronizationJobSettings, [
        { name: 'AzureIngestionAttributeOptimization', value: 'False' }, { name: 'LookaheadQueryEnabled', value: 'False' },
      ]);
      const list = await sdk.api(`/servicePrincipals/${cfg.spId}/synchronization/jobs`).get();
      assert.deepEqual(list.value.map((j: { id: string }) => j.id), [cfg.jobId]);
      await sdk.api(jobPath(cfg, '/start')).post({});
      let started = await sdk.api(jobPath(cfg)).get();
      assert.equal(started.schedule.state, 'Active');
      assert.equal(started.status.code, 'NotRun');
      await sdk.api(jobPath(cfg, '/pause')).post({});
      started = await sdk.api(jobPath(cfg)).get();
      assert.equal(started.schedule.state, 'Paused');
      assert.equal(started.status.code, 'Paused');
      for (const resetScope of ['None', 'Escrows', 'Watermark', 'QuarantineState', 'Full', 'ForceDeletes', 'Escrows, Watermark']) {
        await sdk.api(jobPath(cfg, '/restart')).post({ criteria: { resetScope } });
      }
      await sdk.api(jobPath(cfg, '/restart')).post({});
      const bad = await idle.request('POST', `${cfg.base}/jobs/${cfg.jobId}/restart`, { token: source.adminToken, body: { criteria: { resetScope: 'Everything' } } });
      assert.equal(bad.status, 400);
      assert.equal(typeof bad.body.error.code, 'string');
      assert.match(bad.body.error.message, /resetScope/);
      await sdk.api(jobPath(cfg)).delete();
      const gone = await idle.request('GET', `${cfg.base}/jobs/${cfg.jobId}`, { token: source.adminToken });
      assert.equal(gone.status, 404);
    });

    test('pause stops provisioning, start resumes; restart Watermark re-evaluates every user, None does not', async () => {
      const { source, target, cfg, sdk } = await connectedPair(ts);
      const u = await ts.user(source.tenantId, { displayName: 'Ada Source' });
      await assign(ts, source, cfg, u.id);
      await sdk.api(jobPath(cfg, '/start')).post({});
      await settle(ts);
      const t = (await linkedByHome(ts, target, source.tenantId)).get(u.id)!;
      assert.equal(t.user.displayName, 'Ada Source');
      assert.equal((await sdk.api(jobPath(cfg)).get()).status.code, 'Active');

      await sdk.api(jobPath(cfg, '/pause')).post({});
      const late = await ts.user(source.tenantId);
      await assign(ts, source, cfg, late.id);
      await settle(ts);
      assert.equal((await linkedByHome(ts, target, source.tenantId)).has(late.id), false, 'paused: nothing provisioned');
      await sdk.api(jobPath(cfg, '/start')).post({});
      await settle(ts);
      assert.equal((await linkedByHome(ts, target, source.tenantId)).has(late.id), true, 'resumed where it stopped');

      // A target edit persists until the source changes (None re-evaluates nothing); Watermark re-evaluates everyone.
      const tsdk = graphClient(ts, target.adminToken);
      await tsdk.api(`/users/${t.id}`).patch({ displayName: 'Edited in target' });
      await sdk.api(jobPath(cfg, '/restart')).post({ criteria: { resetScope: 'None' } });
      await settle(ts);
      assert.equal((await tsdk.api(`/users/${t.id}`).get()).displayName, 'Edited in target');
      await sdk.api(jobPath(cfg, '/restart')).post({ criteria: { resetScope: 'Watermark' } });
      await settle(ts);
      assert.equal((await tsdk.api(`/users/${t.id}`).get()).displayName, 'Ada Source');
      await sdk.api(jobPath(cfg, '/restart')).post({ criteria: { resetScope: 'Full' } });
      await settle(ts);
      assert.equal((await b2bUsersIn(ts, target, source.tenantId)).length, 2, 'Full: no duplicates');
    });

    test('schema: default mappings, PUT validation (fixed matching attribute), DELETE resets; parseExpression, operators, functions', async () => {
      const { source, cfg } = await connectedPair(idle);
      const sdk = graphClient(idle, source.adminToken);
      const schema = await sdk.api(jobPath(cfg, '/schema')).get();
      assert.equal(schema.version, 'v1.2');
      const rule = schema.synchronizationRules[0];
      assert.equal(rule.name, 'USER_INBOUND_USER');
      assert.equal(rule.sourceDirectoryName, 'Azure Active Directory');
      assert.equal(rule.targetDirectoryName, 'Azure Active Directory (target tenant)');
      const users = rule.objectMappings.find((m: { sourceObjectName: string }) => m.sourceObjectName === 'User');
      const groups = rule.objectMappings.find((m: { sourceObjectName: string }) => m.sourceObjectName === 'Group');
      assert.equal(users.flowTypes, 'Add, Update, Delete');
      assert.equal(users.enabled, true);
      assert.equal(groups.enabled, false, 'group provisioning is off by default');
      const got = Object.fromEntries(users.attributeMappings.map((m: { targetAttributeName: string; source: { expression: string }; flowType: string }) =>
        [m.targetAttributeName, [m.source.expression, m.flowType]]));
      assert.deepEqual(got, DEFAULT_MAPPINGS);
      const anchor = users.attributeMappings.find((m: { targetAttributeName: string }) => m.targetAttributeName === 'alternativeSecurityIds');
      assert.equal(anchor.matchingPriority, 1);
      assert.ok(users.attributeMappings.every((m: { targetAttributeName: string; matchingPriority: number }) =>
        m.targetAttributeName === 'alternativeSecurityIds' || m.matchingPriority === 0));

      // Another matching attribute → schemaInvalid, and nothing changes.
      const edited = structuredClone(schema);
      delete edited['@odata.context'];
      const um = edited.synchronizationRules[0].objectMappings.find((m: { sourceObjectName: string }) => m.sourceObjectName === 'User');
      um.attributeMappings.find((m: { targetAttributeName: string }) => m.targetAttributeName === 'mail').matchingPriority = 2;
      const r = await idle.request('PUT', `${cfg.base}/jobs/${cfg.jobId}/schema`, { token: source.adminToken, body: edited });
      assert.equal(r.status, 400);
      assert.equal(r.body.error.code, 'schemaInvalid');
      um.attributeMappings.find((m: { targetAttributeName: string }) => m.targetAttributeName === 'mail').matchingPriority = 0;
      um.attributeMappings.find((m: { targetAttributeName: string }) => m.targetAttributeName === 'displayName').source = { expression: '"Fixed"', type: 'Constant', name: null, parameters: [] };
      const moved = structuredClone(edited);
      moved.synchronizationRules[0].objectMappings.find((m: { sourceObjectName: string }) => m.sourceObjectName === 'User')
        .attributeMappings.find((m: { targetAttributeName: string }) => m.targetAttributeName === 'alternativeSecurityIds').source =
        { expression: 'AltSecIdFromNetId([mail])', type: 'Function', name: 'AltSecIdFromNetId', parameters: [{ key: 'netId', value: { expression: '[mail]', name: 'mail', type: 'Attribute', parameters: [] } }] };
      const r2 = await idle.request('PUT', `${cfg.base}/jobs/${cfg.jobId}/schema`, { token: source.adminToken, body: moved });
      assert.equal(r2.status, 400, 'changing the anchor is refused');
      assert.equal(r2.body.error.code, 'schemaInvalid');
      await sdk.api(jobPath(cfg, '/schema')).put(edited);
      const saved = await sdk.api(jobPath(cfg, '/schema')).get();
      const dn = saved.synchronizationRules[0].objectMappings[0].attributeMappings.find((m: { targetAttributeName: string }) => m.targetAttributeName === 'displayName');
      assert.equal(dn.source.expression, '"Fixed"');
      await sdk.api(jobPath(cfg, '/schema')).delete();
      const reset = await sdk.api(jobPath(cfg, '/schema')).get();
      assert.deepEqual(reset.synchronizationRules, schema.synchronizationRules);

      const parsed = await sdk.api(jobPath(cfg, '/schema/parseExpression')).post({
        expression: 'Join("_", [givenName], [surname])', testInputObject: { properties: [{ key: 'givenName', value: 'Ada' }, { key: 'surname', value: 'Lovelace' }] },
      });
      assert.equal(parsed.parsingSucceeded, true);
      assert.equal(parsed.evaluationSucceeded, true);
      assert.deepEqual(parsed.evaluationResult, ['Ada_Lovelace']);
      assert.equal(parsed.parsedExpression.name, 'Join');
      const broken = await sdk.api(jobPath(cfg, '/schema/parseExpression')).post({ expression: 'Join("_", [givenName]' });
      assert.equal(broken.parsingSucceeded, false);
      assert.equal(typeof broken.error.code, 'string');
      const ops = (await sdk.api(jobPath(cfg, '/schema/filterOperators')).get()).value;
      assert.ok(ops.some((o: { name: string; arity: string }) => o.name === 'EQUALS' && o.arity === 'Binary'));
      assert.ok(ops.some((o: { name: string; arity: string }) => o.name === 'IS_NULL' && o.arity === 'Unary'));
      const fns = (await sdk.api(jobPath(cfg, '/schema/functions')).get()).value;
      assert.ok(['Join', 'Switch', 'AltSecIdFromNetId'].every((n) => fns.some((f: { name: string }) => f.name === n)));
    });

    test('permissions: an app without Synchronization/Application permissions is denied; another tenant sees nothing', async () => {
      const { source, cfg } = await connectedPair(idle);
      const weak = await idle.appToken(source.tenantId, ['User.Read.All']);
      for (const [method, path, body] of [
        ['GET', `${cfg.base}/jobs`], ['GET', `${cfg.base}/jobs/${cfg.jobId}`], ['POST', `${cfg.base}/jobs/${cfg.jobId}/start`],
        ['PUT', `${cfg.base}/secrets`, { value: [] }], ['GET', `${cfg.base}/jobs/${cfg.jobId}/schema`],
      ] as [string, string, unknown?][]) {
        const r = await idle.request(method, path, { token: weak, ...(body ? { body } : {}) });
        assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
        assert.equal(r.body.error.code, 'Authorization_RequestDenied');
      }
      const reader = await idle.appToken(source.tenantId, ['Synchronization.Read.All']);
      assert.equal((await idle.request('GET', `${cfg.base}/jobs/${cfg.jobId}`, { token: reader })).status, 200);
      const denied = await idle.request('POST', `${cfg.base}/jobs/${cfg.jobId}/start`, { token: reader });
      assert.equal(denied.status, 403, 'reading is not writing');

      const stranger = await idle.tenant();
      for (const path of [`/v1.0/servicePrincipals/${cfg.spId}`, `${cfg.base}/jobs`, `${cfg.base}/jobs/${cfg.jobId}`, `${cfg.base}/jobs/${cfg.jobId}/schema`]) {
        const r = await idle.request('GET', path, { token: stranger.adminToken });
        assert.equal(r.status, 404, `${path}: ${r.text}`);
      }
      const start = await idle.request('POST', `${cfg.base}/jobs/${cfg.jobId}/start`, { token: stranger.adminToken });
      assert.equal(start.status, 404);
      const log = await idle.request('GET', `/v1.0/auditLogs/provisioning?$filter=jobId eq '${cfg.jobId}'`, { token: stranger.adminToken });
      assert.deepEqual(log.body.value, []);
    });
  });
}
