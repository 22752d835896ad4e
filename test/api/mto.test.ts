// Multi-tenant organization end to end through the Graph SDK: create, add, join with each tenant's own
// token, templates applied to partner policies, leave, one-MTO-per-tenant, the active-tenant cap, and
// who sees what.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '@microsoft/microsoft-graph-client';
import { mtoErrors, ZERO_GUID } from '../../src/domain/mto.js';
import { transitionDefaults } from '../../src/mto/transitions.js';
import { dialects, graphClient, startTestServer, type TestServer, type TestTenant } from '../helpers/harness.js';

const MTO = '/tenantRelationships/multiTenantOrganization';
const CTAP = '/policies/crossTenantAccessPolicy';

/** Polls until `check` returns a truthy value; transitions must land well within 5 s. */
async function eventually<T>(check: () => Promise<T | undefined | false>, ms = 5000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() - start > ms) throw new Error(`not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const graphError = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return e as { statusCode: number; code: string; message: string };
  }
  throw new Error('expected an error');
};

for (const dialect of dialects()) {
  describe(`multi-tenant organization (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    let b: TestTenant;
    let c: TestTenant;
    const g = (t: TestTenant | string): Client => graphClient(ts, typeof t === 'string' ? t : t.adminToken);
    const member = (viewer: TestTenant, id: string) => g(viewer).api(`${MTO}/tenants/${id}`).get();

    before(async () => {
      ts = await startTestServer(dialect);
      [a, b, c] = [await ts.tenant('Contoso'), await ts.tenant('Fabrikam'), await ts.tenant('Tailspin')];
    });
    after(async () => {
      transitionDefaults.maxActiveTenants = 100;
      await ts.close();
    });

    test('a tenant in no organization reads state inactive with null fields', async () => {
      const view = await g(a).api(MTO).get();
      assert.deepEqual({ ...view, '@odata.context': undefined }, {
        '@odata.context': undefined, id: null, createdDateTime: null, displayName: null, description: null, state: 'inactive',
      });
      assert.deepEqual(await g(a).api(`${MTO}/joinRequest`).get().then(({ '@odata.context': _, id: _id, ...r }) => r), {
        addedByTenantId: ZERO_GUID, memberState: null, role: null, transitionDetails: null,
      });
    });

    test('create, add, join with own tokens, templates applied to every pair, leave', async () => {
      // As the Microsoft 365 admin center sets them, before anyone joins.
      for (const t of [a, b, c]) {
        await g(t).api(`${CTAP}/templates/multiTenantOrganizationPartnerConfiguration`)
          .patch({ automaticUserConsentSettings: { inboundAllowed: true, outboundAllowed: true } });
        await g(t).api(`${CTAP}/templates/multiTenantOrganizationIdentitySynchronization`).patch({ userSyncInbound: { isSyncAllowed: true } });
      }
      const created = await g(a).api(MTO).put({ displayName: 'Contoso group', description: 'All of us' });
      assert.equal(created.state, 'active');
      assert.equal(created.displayName, 'Contoso group');
      const again = await graphError(g(a).api(MTO).put({ displayName: 'Second' }));
      assert.equal(again.statusCode, 400);
      assert.equal(again.message, mtoErrors.alreadyInOrganization().message);

      const added = await g(a).api(`${MTO}/tenants`).post({ tenantId: b.tenantId, displayName: 'Fabrikam' });
      assert.equal(added.state, 'pending');
      assert.equal(added.role, 'member');
      assert.equal(added.joinedDateTime, null);
      assert.equal(added.addedByTenantId, a.tenantId);
      assert.deepEqual(added.transitionDetails, { desiredRole: 'member', desiredState: 'active', status: 'notStarted', details: null });
      await g(a).api(`${MTO}/tenants`).post({ tenantId: c.tenantId, displayName: 'Tailspin' });
      const dup = await graphError(g(a).api(`${MTO}/tenants`).post({ tenantId: b.tenantId, displayName: 'Fabrikam' }));
      assert.equal(dup.statusCode, 400);
      assert.equal(dup.code, 'Request_BadRequest');
      assert.equal(dup.message, 'Tenant is already being added in Multi-Tenant Organization.');

      // Each tenant sees the organization under its own object id once it joins.
      const started = Date.now();
      await g(b).api(`${MTO}/joinRequest`).patch({ addedByTenantId: a.tenantId });
      await g(c).api(`${MTO}/joinRequest`).patch({ addedByTenantId: a.tenantId });
      await eventually(async () => {
        const list = await g(a).api(`${MTO}/tenants`).get();
        return list.value.length === 3 && list.value.every((m: { state: string }) => m.state === 'active');
      });
      assert.ok(Date.now() - started < 5000);
      const joined = await g(b).api(`${MTO}/joinRequest`).get();
      assert.equal(joined.memberState, 'active');
      assert.equal(joined.role, 'member');
      assert.equal(joined.transitionDetails, null);
      assert.equal(joined.addedByTenantId, a.tenantId);
      const views = await Promise.all([a, b, c].map((t) => g(t).api(MTO).get()));
      assert.equal(new Set(views.map((v) => v.id)).size, 3);
      assert.ok(views.every((v) => v.displayName === 'Contoso group' && v.state === 'active'));
      assert.ok((await member(a, b.tenantId)).joinedDateTime);

      for (const t of [a, b, c]) {
        for (const other of [a, b, c].filter((x) => x !== t)) {
          const p = await g(t).api(`${CTAP}/partners/${other.tenantId}`).get();
          assert.deepEqual(p.automaticUserConsentSettings, { inboundAllowed: true, outboundAllowed: true }, `${t.displayName} → ${other.displayName}`);
          assert.equal(p.isInMultiTenantOrganization, true);
          const sync = await g(t).api(`${CTAP}/partners/${other.tenantId}/identitySynchronization`).get();
          assert.equal(sync.userSyncInbound.isSyncAllowed, true);
        }
      }

      // Role change completes in the background.
      await g(a).api(`${MTO}/tenants/${b.tenantId}`).patch({ role: 'owner' });
      await eventually(async () => (await member(a, b.tenantId)).role === 'owner');

      // C leaves with its own token; the row shows the removal, then disappears.
      await g(c).api(`${MTO}/tenants/${c.tenantId}`).delete();
      const gone = await eventually(async () => {
        const e = await member(a, c.tenantId).then(() => undefined, (err) => err);
        return e;
      });
      assert.equal(gone.statusCode, 404);
      assert.equal(gone.code, 'Directory_ObjectNotFound');
      assert.equal(gone.message, 'Unable to read the company information from the directory.');
      assert.equal((await g(c).api(MTO).get()).state, 'inactive');
      const aToC = await g(a).api(`${CTAP}/partners/${c.tenantId}`).get();
      assert.equal(aToC.isInMultiTenantOrganization, false);
      // Leaving reverts nothing else.
      assert.deepEqual(aToC.automaticUserConsentSettings, { inboundAllowed: true, outboundAllowed: true });
      assert.equal((await g(c).api(`${CTAP}/partners/${a.tenantId}`).get()).isInMultiTenantOrganization, false);
      assert.equal((await g(a).api(`${CTAP}/partners/${b.tenantId}`).get()).isInMultiTenantOrganization, true);
    });

    test('removal rules: creator stays, members cannot remove others, pending role waits for the join', async () => {
      const creatorGone = await graphError(g(b).api(`${MTO}/tenants/${a.tenantId}`).delete());
      assert.equal(creatorGone.message, mtoErrors.creatorCannotBeRemoved().message);
      const creatorLeaves = await graphError(g(a).api(`${MTO}/tenants/${a.tenantId}`).delete());
      assert.equal(creatorLeaves.message, mtoErrors.creatorCannotBeRemoved().message);
      const d = await ts.tenant('Pending Co');
      await g(a).api(`${MTO}/tenants`).post({ tenantId: d.tenantId, displayName: 'Pending Co' });
      await g(a).api(`${MTO}/tenants/${d.tenantId}`).patch({ role: 'owner' });
      const pending = await member(a, d.tenantId);
      assert.equal(pending.role, 'member');
      assert.equal(pending.transitionDetails.desiredRole, 'owner');
      await g(a).api(`${MTO}/tenants/${b.tenantId}`).patch({ role: 'member' });
      await eventually(async () => (await member(a, b.tenantId)).role === 'member');
      const notOwner = await graphError(g(b).api(`${MTO}/tenants/${d.tenantId}`).delete());
      assert.equal(notOwner.statusCode, 403);
      const lastOwner = await graphError(g(a).api(`${MTO}/tenants/${a.tenantId}`).patch({ role: 'member' }));
      assert.equal(lastOwner.message, mtoErrors.lastOwner().message);
      await g(a).api(`${MTO}/tenants/${d.tenantId}`).delete();
      await eventually(async () => member(a, d.tenantId).then(() => false, (e) => e.statusCode === 404));
    });

    test('a tenant cannot join a second organization', async () => {
      const e = await ts.tenant('Elsewhere');
      await g(e).api(MTO).put({ displayName: 'Elsewhere group' });
      await g(a).api(`${MTO}/tenants`).post({ tenantId: e.tenantId, displayName: 'Elsewhere' });
      await g(e).api(`${MTO}/joinRequest`).patch({ addedByTenantId: a.tenantId });
      const failed = await eventually(async () => {
        const r = await g(e).api(`${MTO}/joinRequest`).get();
        return r.transitionDetails?.status === 'failed' ? r : undefined;
      });
      assert.equal(failed.memberState, 'pending');
      assert.equal(failed.transitionDetails.details, mtoErrors.inAnotherOrganization().message);
      const row = await member(a, e.tenantId);
      assert.equal(row.state, 'pending');
      assert.equal(row.transitionDetails.status, 'failed');
      assert.equal((await g(e).api(MTO).get()).displayName, 'Elsewhere group');
      await g(e).api(`${MTO}/joinRequest`).patch({ addedByTenantId: ZERO_GUID });
      const reset = await g(e).api(`${MTO}/joinRequest`).get();
      assert.equal(reset.memberState, 'active');
      assert.equal(reset.transitionDetails, null);
      assert.equal((await member(a, e.tenantId)).transitionDetails.status, 'notStarted');
      const noFailed = await graphError(g(e).api(`${MTO}/joinRequest`).patch({ addedByTenantId: ZERO_GUID }));
      assert.equal(noFailed.message, mtoErrors.noFailedJoin().message);
    });

    test('a join past the active-tenant cap fails with the reason in transitionDetails', async () => {
      transitionDefaults.maxActiveTenants = 3;
      try {
        const [f, h] = [await ts.tenant('Fourth'), await ts.tenant('Fifth')];
        for (const t of [f, h]) await g(a).api(`${MTO}/tenants`).post({ tenantId: t.tenantId, displayName: t.displayName });
        await g(f).api(`${MTO}/joinRequest`).patch({ addedByTenantId: a.tenantId });
        await eventually(async () => (await member(a, f.tenantId)).state === 'active');
        await g(h).api(`${MTO}/joinRequest`).patch({ addedByTenantId: a.tenantId });
        const failed = await eventually(async () => {
          const r = await member(a, h.tenantId);
          return r.transitionDetails?.status === 'failed' ? r : undefined;
        });
        assert.equal(failed.state, 'pending');
        assert.equal(failed.transitionDetails.details, mtoErrors.limitReached(3).message);
        const jr = await g(h).api(`${MTO}/joinRequest`).get();
        assert.deepEqual([jr.memberState, jr.transitionDetails.status, jr.transitionDetails.desiredMemberState], ['pending', 'failed', 'active']);
        await g(h).api(`${MTO}/joinRequest`).patch({ addedByTenantId: ZERO_GUID });
        const cleared = await g(h).api(`${MTO}/joinRequest`).get();
        assert.deepEqual([cleared.addedByTenantId, cleared.memberState, cleared.transitionDetails], [ZERO_GUID, null, null]);
        // A join naming a tenant that did not add it fails too.
        await g(h).api(`${MTO}/joinRequest`).patch({ addedByTenantId: b.tenantId });
        const wrong = await eventually(async () => {
          const r = await g(h).api(`${MTO}/joinRequest`).get();
          return r.transitionDetails?.status === 'failed' ? r : undefined;
        });
        assert.equal(wrong.transitionDetails.details, mtoErrors.notAddedByOwner(b.tenantId).message);
      } finally {
        transitionDefaults.maxActiveTenants = 100;
      }
    });

    test('visibility by permission, and outsiders see nothing', async () => {
      const basic = await ts.appToken(a.tenantId, ['MultiTenantOrganization.ReadBasic.All']);
      const list = await g(basic).api(`${MTO}/tenants`).get();
      assert.ok(list.value.length >= 2);
      for (const m of list.value) assert.deepEqual(Object.keys(m).sort(), ['displayName', 'tenantId']);
      const full = await g(await ts.appToken(a.tenantId, ['MultiTenantOrganization.Read.All'])).api(`${MTO}/tenants`).get();
      assert.ok(full.value.some((m: { state: string }) => m.state === 'pending'));
      assert.ok(full.value.length > list.value.length);
      const readOnly = await graphError(g(await ts.appToken(a.tenantId, ['MultiTenantOrganization.Read.All'])).api(`${MTO}/tenants`).post({ tenantId: c.tenantId, displayName: 'x' }));
      assert.equal(readOnly.statusCode, 403);
      assert.equal((await graphError(g(await ts.appToken(a.tenantId, ['User.Read.All'])).api(MTO).get())).statusCode, 403);

      const filtered = await g(a).api(`${MTO}/tenants`).filter(`tenantId eq '${b.tenantId}'`).select('tenantId,role').get();
      assert.deepEqual(filtered.value, [{ tenantId: b.tenantId, role: 'member' }]);

      // Any member user reads basic details; writes need Global or Security Administrator.
      const user = await ts.user(a.tenantId);
      const userToken = await ts.userToken(a.tenantId, user);
      assert.equal((await g(userToken).api(MTO).get()).displayName, 'Contoso group');
      for (const m of (await g(userToken).api(`${MTO}/tenants`).get()).value) assert.deepEqual(Object.keys(m).sort(), ['displayName', 'tenantId']);
      assert.equal((await graphError(g(userToken).api(MTO).patch({ description: 'x' }))).statusCode, 403);
      const secAdmin = await ts.user(a.tenantId, { roles: ['Security Administrator'] });
      await g(await ts.userToken(a.tenantId, secAdmin)).api(MTO).patch({ description: 'Updated' });
      assert.equal((await g(a).api(MTO).get()).description, 'Updated');

      // C left: it sees neither the organization nor its tenants.
      assert.equal((await g(c).api(MTO).get()).state, 'inactive');
      assert.deepEqual((await g(c).api(`${MTO}/tenants`).get()).value, []);
      assert.equal((await graphError(g(c).api(`${MTO}/tenants/${a.tenantId}`).get())).statusCode, 404);
      assert.equal((await graphError(g(c).api(`${MTO}/tenants/${a.tenantId}`).patch({ role: 'member' }))).statusCode, 404);
      assert.equal((await graphError(g(c).api(`${MTO}/tenants`).post({ tenantId: b.tenantId, displayName: 'x' }))).statusCode, 404);
    });

    test('templates: defaults, patch, reset; bad input is a 400', async () => {
      const t = await ts.tenant('Templates');
      const path = `${CTAP}/templates/multiTenantOrganizationPartnerConfiguration`;
      const initial = await g(t).api(path).get();
      assert.equal(initial.templateApplicationLevel, 'newPartners,existingPartners');
      assert.deepEqual(initial.automaticUserConsentSettings, { inboundAllowed: null, outboundAllowed: null });
      assert.equal(initial.inboundTrust, null);
      await g(t).api(path).patch({ templateApplicationLevel: 'newPartners', inboundTrust: { isMfaAccepted: true } });
      const patched = await g(t).api(path).get();
      assert.equal(patched.templateApplicationLevel, 'newPartners');
      assert.equal(patched.inboundTrust.isMfaAccepted, true);
      assert.equal((await graphError(g(t).api(path).patch({ isServiceProvider: true }))).statusCode, 400);
      assert.equal((await graphError(g(t).api(path).patch({ templateApplicationLevel: 'everyone' }))).statusCode, 400);
      await g(t).api(`${path}/resetToDefaultSettings`).post({});
      assert.deepEqual(await g(t).api(path).get(), initial);
      const sync = `${CTAP}/templates/multiTenantOrganizationIdentitySynchronization`;
      assert.equal((await g(t).api(sync).get()).userSyncInbound, null);
      const noPolicy = await ts.appToken(t.tenantId, ['MultiTenantOrganization.ReadWrite.All']);
      assert.equal((await graphError(g(noPolicy).api(sync).get())).statusCode, 403);
    });

    test('the last tenant leaving deletes the organization', async () => {
      const solo = await ts.tenant('Solo');
      const other = await ts.tenant('Never joined');
      await g(solo).api(MTO).put({ displayName: 'Solo group' });
      await g(solo).api(`${MTO}/tenants`).post({ tenantId: other.tenantId, displayName: 'Never joined' });
      await g(solo).api(`${MTO}/tenants/${solo.tenantId}`).delete();
      await eventually(async () => (await g(solo).api(MTO).get()).state === 'inactive');
      // The pending tenant's row went with it: its join now fails as not added.
      await g(other).api(`${MTO}/joinRequest`).patch({ addedByTenantId: solo.tenantId });
      await eventually(async () => (await g(other).api(`${MTO}/joinRequest`).get()).transitionDetails?.status === 'failed');
      const rows = await ts.server.store.db.selectFrom('multi_tenant_organizations').select('id').where('display_name', '=', 'Solo group').execute();
      assert.equal(rows.length, 0);
    });
  });
}
