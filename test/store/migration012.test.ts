// Migration 012 (compact provisioning log) on a database written by the previous schema: every entry reads
// back through GET /auditLogs/provisioning's code path exactly as Graph showed it before, filters and paging
// included; and entries written in the new format round-trip (odd source ids, an `at` off its id's stamp),
// are found by every filter, and are pruned by time with the runs they belonged to. Both databases.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { sql } from 'kysely';
import { parseFilter } from '../../src/api/graph/odata/index.js';
import type { Actor } from '../../src/directory/access.js';
import { newObjectId } from '../../src/domain/ids.js';
import { type LogRow, syncRepo } from '../../src/store/repos/sync.js';
import { tenantsRepo } from '../../src/store/repos/tenants.js';
import type { Store } from '../../src/store/store.js';
import { expand, type LogFacts, logRow } from '../../src/sync/logEntry.js';
import { listProvisioningLog, pruneProvisioningLog } from '../../src/sync/provisioningLog.js';
import { type OldStore, storeAt } from '../helpers/migrations.js';
import { dialects, openTestStore } from '../helpers/harness.js';

const actor = { principal: { kind: 'app', roles: new Set(['AuditLog.Read.All']), scopes: new Set() }, readLevel: 'all', isAdmin: false } as unknown as Actor;

/** Entries as the engine makes them: a create, a skip with its reason, a failure, an update with changes, on two jobs. */
function facts(sourceTenantId: string, n: number, base: number): LogFacts[] {
  const target = { tenantId: randomUUID(), displayName: 'Target Ltd' };
  const jobs = [
    { jobId: `Azure2Azure.${randomBytes(16).toString('hex')}.${randomBytes(16).toString('hex')}`, spId: newObjectId(), spName: 'MTO_Sync_A' },
    { jobId: `Azure2Azure.${randomBytes(16).toString('hex')}.${randomBytes(16).toString('hex')}`, spId: newObjectId(), spName: 'MTO_Sync_B' },
  ];
  const out: LogFacts[] = [];
  for (let i = 0; i < n; i++) {
    const job = jobs[i % 2]!;
    const kind = i % 4;
    const upn = `user${i}@source.test`;
    out.push({
      cycleId: `cycle-${i % 3}`, ...job, sourceTenantId, target,
      source: { id: i === 5 ? 'legacy-id' : i === 6 ? 'sixteen-chars-id' : newObjectId(base + i), displayName: i === 7 ? null : `User ${i}`, upn },
      targetUser: kind === 0 || kind === 3 ? { id: newObjectId(), displayName: `User ${i}`, upn: `user${i}_source.test#EXT#@target.test` } : null,
      action: kind === 0 ? 'create' : kind === 1 ? 'other' : kind === 2 ? 'create' : 'update',
      status: kind === 0 || kind === 3 ? 'success' : kind === 1 ? 'skipped' : 'failure',
      situation: kind === 0 ? 'unmatched' : kind === 3 ? 'linked' : 'unmatched',
      entitlement: { active: kind !== 1, assigned: true, scope: { inScope: kind !== 1, results: kind === 1 ? { 'department EQUALS Sales': false } : {} } },
      modified: kind === 0 ? [{ displayName: 'displayName', oldValue: null, newValue: `User ${i}` }, { displayName: 'accountEnabled', oldValue: null, newValue: 'True' }]
        : kind === 3 ? [{ displayName: 'jobTitle', oldValue: 'Dev', newValue: 'Lead "ü"' }] : [],
      ...(kind === 1 ? { error: { code: 'NotInScope', message: 'The user is not in scope.', failure: false } }
        : kind === 2 ? { error: { code: 'AttributeValueMustBeUnique', message: 'Another object has the mail.', failure: true } } : {}),
      at: new Date(base + i * 1000).toISOString(), durationMs: i % 5, via: i === 9 ? 'onDemand' : 'cycle',
    });
  }
  return out;
}

/** The row as the previous schema stored it: everything but the columns in one JSON, the source id inside. */
const oldData = (r: LogRow) => {
  const { s, ...rest } = JSON.parse(r.data);
  const run = JSON.parse(r.run);
  return JSON.stringify({ c: run.c, sp: run.sp, tt: run.tt, tn: run.tn, s: { id: r.sourceId, ...s }, t: rest.t, sit: rest.sit, ent: rest.ent, m: rest.m, ...(rest.e ? { e: rest.e } : {}), d: rest.d, v: run.v, st: run.st });
};

/** Every page of the log for `filter`, $top 3, following the skip token. */
async function allPages(store: Store, tenantId: string, filter?: string): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let before: string | null = null;
  for (;;) {
    const page = await listProvisioningLog(store.db, tenantId, actor, filter ? parseFilter(filter) : undefined, 3, before);
    out.push(...page.items);
    if (!page.next) return out;
    before = page.next;
  }
}

/** What Graph answered for `rows` (expand of the entry as made): newest first, filtered as the store filters. */
const expected = (tenantId: string, rows: LogRow[], keep: (r: LogRow) => boolean = () => true) =>
  rows.filter(keep).sort((a, b) => (a.id < b.id ? 1 : -1)).map((r) => expand(tenantId, r));

for (const dialect of dialects()) {
  describe(`migration 012: compact provisioning log (${dialect})`, () => {
    let old: OldStore | undefined;
    after(() => old?.dispose());

    test('entries written before it answer exactly as before, with every filter and page', async () => {
      old = await storeAt(dialect, 'm12', '010_authorization_codes');
      const { store } = old;
      const db = store.db;
      const [a, b] = [randomUUID(), randomUUID()];
      const rows = new Map<string, LogRow[]>();
      for (const [t, no, name] of [[a, 1, 'Alpha'], [b, 2, 'Bravo']] as const) {
        await sql`insert into tenants (id, display_name, domain, created_at, change_seq, data, object_count, no)
          values (${t}, ${name}, ${`${name.toLowerCase()}.test`}, '2026-01-01T00:00:00.000Z', 0, '{}', 0, ${no})`.execute(db);
        const made = facts(t, 24, Date.parse('2026-11-20T10:00:00.000Z')).map(logRow);
        rows.set(t, made);
        for (const r of made) {
          await sql`insert into provisioning_log (tenant_id, id, job_id, sp_id, action, status, source_id, at, data)
            values (${t}, ${r.id}, ${r.jobId}, ${r.spId}, ${r.action}, ${r.status}, ${r.sourceId}, ${r.at}, ${oldData(r)})`.execute(db);
        }
      }
      // An entry of a tenant removed before the upgrade goes with it.
      await sql`insert into provisioning_log (tenant_id, id, job_id, sp_id, action, status, source_id, at, data)
        values (${randomUUID()}, ${newObjectId()}, 'j', 's', 'create', 'success', null, '2026-11-20T10:00:00.000Z', '{}')`.execute(db);

      await old.upgrade();

      for (const t of [a, b]) {
        const made = rows.get(t)!;
        assert.deepEqual(await allPages(store, t), expected(t, made));
        const job = made[1]!;
        assert.deepEqual(await allPages(store, t, `jobId eq '${job.jobId}'`), expected(t, made, (r) => r.jobId === job.jobId));
        assert.deepEqual(await allPages(store, t, `servicePrincipal/id eq '${job.spId}' and provisioningAction eq 'other'`),
          expected(t, made, (r) => r.spId === job.spId && r.action === 'other'));
        assert.deepEqual(await allPages(store, t, `sourceIdentity/id eq '${made[4]!.sourceId}'`), expected(t, made, (r) => r.sourceId === made[4]!.sourceId));
        assert.deepEqual(await allPages(store, t, "sourceIdentity/id eq 'legacy-id'"), expected(t, made, (r) => r.sourceId === 'legacy-id'));
        assert.deepEqual(await allPages(store, t, `activityDateTime ge ${made[3]!.at} and activityDateTime lt ${made[9]!.at} and provisioningStatusInfo/status eq 'failure'`),
          expected(t, made, (r) => r.at >= made[3]!.at && r.at < made[9]!.at && r.status === 'failure'));
      }
      // Removing a tenant takes its log; the other's stays whole.
      await store.transaction((tx) => tenantsRepo.remove(tx, a));
      assert.deepEqual(await allPages(store, a), []);
      assert.equal((await allPages(store, b)).length, 24);
    });
  });

  describe(`provisioning log, compact rows (${dialect})`, () => {
    test('round trip, filters, and retention by time that takes the runs along', async () => {
      const t = await openTestStore(dialect, 'pl');
      try {
        const { store } = t;
        const tenantId = randomUUID();
        await store.transaction((tx) => tenantsRepo.insert(tx, { id: tenantId, displayName: 'T', domain: 't.test', createdDateTime: new Date().toISOString(), data: { verifiedDomains: [] } }));
        const base = Date.parse('2026-11-01T00:00:00.000Z');
        const made = facts(tenantId, 30, base).map(logRow);
        // One entry whose time is not its id's stamp (not one the engine writes, but the store keeps it).
        made[11] = { ...made[11]!, at: '2026-11-01T00:00:11.000Z', id: newObjectId(base + 11_500) };
        await store.transaction(async (tx) => {
          await syncRepo.log(tx, tenantId, made.slice(0, 20));
          await syncRepo.log(tx, tenantId, made.slice(20));
        });
        const back = await syncRepo.logPage(store.db, tenantId, { limit: 100 });
        assert.deepEqual(back, [...made].sort((x, y) => (x.id < y.id ? 1 : -1)), 'every field as written');
        assert.deepEqual(await allPages(store, tenantId, "sourceIdentity/id eq 'sixteen-chars-id'"), expected(tenantId, made, (r) => r.sourceId === 'sixteen-chars-id'));
        assert.deepEqual(await allPages(store, tenantId, `jobId eq '${made[0]!.jobId}' and activityDateTime le ${made[20]!.at}`),
          expected(tenantId, made, (r) => r.jobId === made[0]!.jobId && r.id <= made[20]!.id));
        assert.deepEqual(await allPages(store, tenantId, `jobId eq '${made[0]!.jobId}X'`), []);

        // Retention: entries before the 15th second go, and with them the runs that have no entry left.
        const runsBefore = Number((await sql<{ n: number }>`select count(*) as n from provisioning_log_runs`.execute(store.db)).rows[0]!.n);
        const cut = new Date(base + 15_000);
        const removed = await store.transaction((tx) => pruneProvisioningLog(tx, tenantId, new Date(cut.getTime() + 86_400_000), 1));
        assert.equal(removed, 15);
        assert.deepEqual(await allPages(store, tenantId), expected(tenantId, made, (r) => r.at >= cut.toISOString()));
        // Runs are cycle × job (6) and entry 9's on-demand run: only that one has no entry left.
        assert.equal(runsBefore, 7);
        assert.equal(Number((await sql<{ n: number }>`select count(*) as n from provisioning_log_runs`.execute(store.db)).rows[0]!.n), 6);
        await store.transaction((tx) => pruneProvisioningLog(tx, tenantId, new Date(base + 40 * 86_400_000), 30));
        assert.equal(Number((await sql<{ n: number }>`select count(*) as n from provisioning_log_runs`.execute(store.db)).rows[0]!.n), 0);
        assert.deepEqual(await allPages(store, tenantId), []);
      } finally {
        await t.close();
      }
    });
  });
}
