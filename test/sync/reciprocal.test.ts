// Two tenants syncing into each other (the smallest mesh): each provisions only its internal members, and
// the B2B users one job writes into a tenant are never read again by that tenant's own outbound job (its
// watermark moves past the exports in the same transaction), so a mesh costs O(real changes).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { syncRepo } from '../../src/store/repos/sync.js';
import { dialects, startTestServer, type TestServer, type TestTenant } from '../helpers/harness.js';
import { allowInbound, b2bUsersIn, configure, jobAction, settle, type SyncConfig } from '../helpers/sync.js';

for (const dialect of dialects()) {
  describe(`reciprocal sync (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    let b: TestTenant;
    let ab: SyncConfig;
    let ba: SyncConfig;
    before(async () => {
      ts = await startTestServer(dialect, { sync: { pollMs: 50 } });
      a = await ts.tenant('A');
      b = await ts.tenant('B');
      for (let i = 0; i < 3; i++) await ts.user(a.tenantId);
      for (let i = 0; i < 4; i++) await ts.user(b.tenantId);
      // Each tenant both sends and receives: its partner configuration allows redemption both ways (a PATCH of
      // automaticUserConsentSettings replaces the whole object, so both flags go in one).
      for (const [s, t] of [[a, b], [b, a]] as const) {
        await allowInbound(ts, t, s, { consent: false });
        const r = await ts.request('PATCH', `/v1.0/policies/crossTenantAccessPolicy/partners/${s.tenantId}`, {
          token: t.adminToken, body: { automaticUserConsentSettings: { inboundAllowed: true, outboundAllowed: true } },
        });
        assert.equal(r.status, 204, r.text);
      }
      ab = await configure(ts, a, b, { SyncAll: 'true' });
      ba = await configure(ts, b, a, { SyncAll: 'true' });
    });
    after(() => ts.close());

    test("each tenant holds the other's members once, and no job reads the other's exports", async () => {
      await jobAction(ts, a, ab, 'start');
      await settle(ts);
      const headB = (await ts.server.store.db.selectFrom('tenants').select('change_seq').where('id', '=', b.tenantId).executeTakeFirstOrThrow()).change_seq;
      await jobAction(ts, b, ba, 'start');
      await settle(ts);
      assert.equal((await b2bUsersIn(ts, b, a.tenantId)).length, 3);
      assert.equal((await b2bUsersIn(ts, a, b.tenantId)).length, 4);
      // B's outbound job: everything it read was B's own four users; A's three exports into B were skipped.
      const jobBA = (await syncRepo.job(ts.server.store.db, b.tenantId, ba.jobId))!;
      const exec = (jobBA.status as { lastExecution: { countImported: number } }).lastExecution;
      assert.equal(exec.countImported, 4);
      assert.ok(Number(headB) > 4, 'B had the exports in its change log before its job started');
      // Both jobs are caught up with their sources, including the other's exports into them.
      for (const [t, cfg] of [[a, ab], [b, ba]] as const) {
        const job = (await syncRepo.job(ts.server.store.db, t.tenantId, cfg.jobId))!;
        const head = (await ts.server.store.db.selectFrom('tenants').select('change_seq').where('id', '=', t.tenantId).executeTakeFirstOrThrow()).change_seq;
        assert.equal(job.watermark, Number(head));
      }
      // A new member of A reaches B; B's job then has nothing to read (the export moved its watermark).
      await ts.user(a.tenantId);
      await settle(ts);
      assert.equal((await b2bUsersIn(ts, b, a.tenantId)).length, 4);
      const after = (await syncRepo.job(ts.server.store.db, b.tenantId, ba.jobId))!;
      const headNow = (await ts.server.store.db.selectFrom('tenants').select('change_seq').where('id', '=', b.tenantId).executeTakeFirstOrThrow()).change_seq;
      assert.equal(after.watermark, Number(headNow));
      assert.equal(JSON.stringify(after.status), JSON.stringify(jobBA.status), "B's job did not run again");
    });
  });
}
