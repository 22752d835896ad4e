// The sync engine's rows: jobs (one per synchronization job), the objects a job holds back (escrowed
// failures, deletions staged by the accidental-deletion guard) and the provisioning log.
import type { Selectable } from 'kysely';
import { dialectOf, literalLimit, run, sql } from '../query/sqlText.js';
import type { SyncJobRow } from '../schema.js';
import type { Db } from '../store.js';
import { idBoundAt, packEntry, sourceIdBytes, sourceIdText, unpackEntry, uuidBytes, uuidText, uuidTime } from './provisioningLogCodec.js';
import { existingTenantNo, NO_TENANT, tenantNo } from './tenantKeys.js';

export type JobPhase = 'initial' | 'incremental';

export interface SyncJobRecord {
  tenantId: string;
  id: string;
  spId: string;
  templateId: string;
  scheduleState: 'Active' | 'Disabled' | 'Paused';
  scheduleInterval: string;
  /** synchronizationStatus as Graph shows it (JSON). */
  status: Record<string, unknown>;
  settings: { name: string; value: string }[];
  /** The admin's schema (null: the template's default). */
  schemaDoc: unknown | null;
  phase: JobPhase;
  /** Where the current pass resumes: the last source user id read (initial) or change sequence done (incremental). */
  cursor: string | null;
  /** The source change sequence the current pass runs up to. */
  upTo: number | null;
  /** Every source change at or below it has been processed. */
  watermark: number;
  /** The running cycle's counters (JSON), kept across batches so a takeover continues them. */
  cycle: Record<string, unknown> | null;
  createdAt: string;
}

const fromRow = (r: Selectable<SyncJobRow>): SyncJobRecord => ({
  tenantId: r.tenant_id, id: r.id, spId: r.sp_id, templateId: r.template_id, scheduleState: r.schedule_state as SyncJobRecord['scheduleState'],
  scheduleInterval: r.schedule_interval, status: JSON.parse(r.status), settings: JSON.parse(r.settings),
  schemaDoc: r.schema_doc ? JSON.parse(r.schema_doc) : null, phase: r.phase as JobPhase, cursor: r.cursor,
  upTo: r.up_to === null ? null : Number(r.up_to), watermark: Number(r.watermark), cycle: r.cycle ? JSON.parse(r.cycle) : null, createdAt: r.created_at,
});

const toRow = (j: SyncJobRecord): SyncJobRow => ({
  tenant_id: j.tenantId, id: j.id, sp_id: j.spId, template_id: j.templateId, schedule_state: j.scheduleState, schedule_interval: j.scheduleInterval,
  status: JSON.stringify(j.status), settings: JSON.stringify(j.settings), schema_doc: j.schemaDoc === null ? null : JSON.stringify(j.schemaDoc),
  phase: j.phase, cursor: j.cursor, up_to: j.upTo, watermark: j.watermark, cycle: j.cycle ? JSON.stringify(j.cycle) : null, created_at: j.createdAt,
});

export type HeldState = 'escrow' | 'staged';

export interface HeldObject {
  objectId: string;
  state: HeldState;
  attempts: number;
  nextAttempt: string | null;
  since: string;
  data: { code?: string; message?: string };
}

export interface LogRow {
  id: string;
  jobId: string;
  spId: string;
  action: string;
  status: string;
  sourceId: string | null;
  at: string;
  /** What the entry's run shares with its other entries (JSON): stored once per run. */
  run: string;
  /** The entry's own facts (JSON): stored compressed. */
  data: string;
}

export interface LogQuery {
  jobId?: string;
  spId?: string;
  action?: string;
  status?: string;
  sourceId?: string;
  after?: string;
  before?: string;
  /** Keyset: entries older than this id (pages walk newest first). */
  beforeId?: string;
  limit: number;
}

export const syncRepo = {
  async insertJob(db: Db, j: SyncJobRecord): Promise<void> {
    await db.insertInto('sync_jobs').values(toRow(j)).execute();
  },
  async updateJob(db: Db, j: SyncJobRecord): Promise<void> {
    const { tenant_id: _t, id: _i, created_at: _c, ...rest } = toRow(j);
    await db.updateTable('sync_jobs').set(rest).where('tenant_id', '=', j.tenantId).where('id', '=', j.id).execute();
  },
  async job(db: Db, tenantId: string, id: string): Promise<SyncJobRecord | undefined> {
    const r = await db.selectFrom('sync_jobs').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
    return r ? fromRow(r) : undefined;
  },
  /** The job row locked for the caller's transaction (PostgreSQL); SQLite's writer lock already serializes. */
  async lockJob(db: Db, tenantId: string, id: string, forUpdate: boolean): Promise<SyncJobRecord | undefined> {
    let q = db.selectFrom('sync_jobs').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id);
    if (forUpdate) q = q.forUpdate();
    const r = await q.executeTakeFirst();
    return r ? fromRow(r) : undefined;
  },
  async jobsOf(db: Db, tenantId: string, spId: string): Promise<SyncJobRecord[]> {
    const rows = await db.selectFrom('sync_jobs').selectAll().where('tenant_id', '=', tenantId).where('sp_id', '=', spId).orderBy('created_at').execute();
    return rows.map(fromRow);
  },
  /** The status code of every job (all tenants), for metrics. */
  async statusCodes(db: Db): Promise<string[]> {
    const rows = await db.selectFrom('sync_jobs').select('status').execute();
    return rows.map((r) => String((JSON.parse(r.status) as { code?: string }).code ?? 'Unknown'));
  },
  /** Every job of a source tenant, by service principal then creation. */
  async jobsOfTenant(db: Db, tenantId: string): Promise<SyncJobRecord[]> {
    const rows = await db.selectFrom('sync_jobs').selectAll().where('tenant_id', '=', tenantId).orderBy('sp_id').orderBy('created_at').execute();
    return rows.map(fromRow);
  },
  /** A source tenant's active jobs: read after every commit of that tenant, so one indexed probe. */
  async activeJobs(db: Db, tenantId: string): Promise<{ id: string; settings: { name: string; value: string }[] }[]> {
    const rows = await run<{ id: string; settings: string }>(db, sql`select id, settings from sync_jobs where tenant_id = ${tenantId} and schedule_state = 'Active'`);
    return rows.map((r) => ({ id: r.id, settings: JSON.parse(r.settings) }));
  },
  /** Active jobs with work left (source changes past the watermark, an initial pass, an unfinished run) and no queued item: the sweep's catch-up. */
  async behind(db: Db): Promise<{ tenantId: string; id: string }[]> {
    const rows = await run<{ tenant_id: string; id: string }>(db, sql`select j.tenant_id, j.id from sync_jobs j join tenants t on t.id = j.tenant_id
      where j.schedule_state = 'Active' and (t.change_seq > j.watermark or j.phase = 'initial' or j.cycle is not null) and not exists (select 1 from work_items w
      where w.tenant_id = j.tenant_id and w.queue = 'sync' and w.id = j.id)`);
    return rows.map((r) => ({ tenantId: r.tenant_id, id: r.id }));
  },
  /**
   * Moves the tenant's caught-up jobs (watermark exactly `from`, no pass under way) past sequences (from, to]
   * that hold only the sync engine's exports into the tenant. A job being run elsewhere is skipped rather than
   * waited for (PostgreSQL: SKIP LOCKED; two jobs exporting into each other's sources must not deadlock); it
   * reads the range itself, as it would have anyway.
   */
  async skipExports(db: Db, tenantId: string, from: number, to: number): Promise<void> {
    let q = db.selectFrom('sync_jobs').select('id').where('tenant_id', '=', tenantId).where('watermark', '=', from)
      .where('up_to', 'is', null).where('phase', '=', 'incremental');
    if (dialectOf(db) === 'postgres') q = q.forUpdate().skipLocked();
    const ids = (await q.execute()).map((r) => r.id);
    if (ids.length) {
      await db.updateTable('sync_jobs').set({ watermark: to }).where('tenant_id', '=', tenantId).where('id', 'in', ids).where('watermark', '=', from).execute();
    }
  },
  /** The lowest watermark of a source tenant's active jobs: change-log history above it must stay. */
  async minActiveWatermark(db: Db, tenantId: string): Promise<number | null> {
    const r = await db.selectFrom('sync_jobs').select((eb) => eb.fn.min('watermark').as('w')).where('tenant_id', '=', tenantId)
      .where('schedule_state', '=', 'Active').executeTakeFirst();
    return r?.w === null || r?.w === undefined ? null : Number(r.w);
  },
  /** Active jobs in quarantine for a failed policy check, any tenant: a policy change retries them at once. */
  async policyQuarantined(db: Db): Promise<SyncJobRecord[]> {
    const rows = await db.selectFrom('sync_jobs').selectAll().where('schedule_state', '=', 'Active')
      .where('status', 'like', '%EncounteredQuarantineException%').execute();
    return rows.map(fromRow);
  },
  async deleteJob(db: Db, tenantId: string, id: string): Promise<void> {
    await db.deleteFrom('sync_objects').where('tenant_id', '=', tenantId).where('job_id', '=', id).execute();
    await db.deleteFrom('sync_jobs').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  },

  // ---- held objects ----
  async hold(db: Db, tenantId: string, jobId: string, o: HeldObject): Promise<void> {
    await run(db, sql`insert into sync_objects (tenant_id, job_id, object_id, state, attempts, next_attempt, since, data)
      values (${tenantId}, ${jobId}, ${o.objectId}, ${o.state}, ${o.attempts}, ${o.nextAttempt}, ${o.since}, ${JSON.stringify(o.data)})
      on conflict (tenant_id, job_id, object_id) do update set state = excluded.state, attempts = excluded.attempts,
      next_attempt = excluded.next_attempt, data = excluded.data`);
  },
  async held(db: Db, tenantId: string, jobId: string, objectIds: readonly string[]): Promise<Map<string, HeldObject>> {
    if (!objectIds.length) return new Map();
    const rows = await db.selectFrom('sync_objects').selectAll().where('tenant_id', '=', tenantId).where('job_id', '=', jobId)
      .where('object_id', 'in', objectIds).execute();
    return new Map(rows.map((r) => [r.object_id, {
      objectId: r.object_id, state: r.state as HeldState, attempts: Number(r.attempts), nextAttempt: r.next_attempt, since: r.since, data: JSON.parse(r.data),
    }]));
  },
  async heldIds(db: Db, tenantId: string, jobId: string, state: HeldState, dueBy: string | null, afterId: string, limit: number): Promise<string[]> {
    let q = db.selectFrom('sync_objects').select('object_id').where('tenant_id', '=', tenantId).where('job_id', '=', jobId)
      .where('state', '=', state).where('object_id', '>', afterId);
    if (dueBy) q = q.where('next_attempt', '<=', dueBy);
    const rows = await q.orderBy('object_id').limit(literalLimit(limit)).execute();
    return rows.map((r) => r.object_id);
  },
  async heldCount(db: Db, tenantId: string, jobId: string, state: HeldState): Promise<number> {
    const r = await db.selectFrom('sync_objects').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenantId)
      .where('job_id', '=', jobId).where('state', '=', state).executeTakeFirst();
    return Number(r?.n ?? 0);
  },
  /** The earliest retry among escrowed objects, for scheduling the job's next run. */
  async nextEscrowAttempt(db: Db, tenantId: string, jobId: string): Promise<string | null> {
    const r = await db.selectFrom('sync_objects').select((eb) => eb.fn.min('next_attempt').as('at')).where('tenant_id', '=', tenantId)
      .where('job_id', '=', jobId).where('state', '=', 'escrow').executeTakeFirst();
    return (r?.at as string | null | undefined) ?? null;
  },
  async release(db: Db, tenantId: string, jobId: string, objectIds: readonly string[]): Promise<void> {
    if (!objectIds.length) return;
    await db.deleteFrom('sync_objects').where('tenant_id', '=', tenantId).where('job_id', '=', jobId).where('object_id', 'in', objectIds).execute();
  },
  async releaseAll(db: Db, tenantId: string, jobId: string, state: HeldState): Promise<void> {
    await db.deleteFrom('sync_objects').where('tenant_id', '=', tenantId).where('job_id', '=', jobId).where('state', '=', state).execute();
  },

  // ---- provisioning log (compact rows: see provisioningLogCodec.ts) ----
  async log(db: Db, tenantId: string, rows: readonly LogRow[]): Promise<void> {
    if (!rows.length) return;
    const no = await existingTenantNo(db, tenantId);
    const jobs = new Map<string, number>();
    const runs = new Map<string, { job: number; run: string; lastAt: string; no: number }>();
    for (const r of rows) {
      const jk = `${r.jobId}\n${r.spId}`;
      let job = jobs.get(jk);
      if (job === undefined) {
        job = await logJobNo(db, no, r.jobId, r.spId);
        jobs.set(jk, job);
      }
      const rk = `${job}\n${r.run}`;
      const seen = runs.get(rk);
      if (!seen) runs.set(rk, { job, run: r.run, lastAt: r.at, no: 0 });
      else if (r.at > seen.lastAt) seen.lastAt = r.at;
    }
    for (const x of runs.values()) x.no = await touchRun(db, no, x.job, x.run, x.lastAt);
    for (let i = 0; i < rows.length; i += 500) {
      const tuples = rows.slice(i, i + 500).map((r) => {
        const job = jobs.get(`${r.jobId}\n${r.spId}`)!;
        const id = uuidBytes(r.id);
        return sql`(${no}, ${id}, ${job}, ${runs.get(`${job}\n${r.run}`)!.no}, ${r.action}, ${r.status},
          ${r.sourceId === null ? null : sourceIdBytes(r.sourceId)}, ${uuidTime(id) === r.at ? null : r.at}, ${packEntry(r.data)})`;
      });
      await run(db, sql`insert into provisioning_log (tenant_no, id, job_no, run_no, action, status, source_id, at, data) values ${sql.join(tuples)}`);
    }
  },
  async logPage(db: Db, tenantId: string, q: LogQuery): Promise<LogRow[]> {
    const no = await tenantNo(db, tenantId);
    if (no === NO_TENANT) return [];
    let b = db.selectFrom('provisioning_log').selectAll().where('tenant_no', '=', no);
    if (q.jobId !== undefined || q.spId !== undefined) {
      let jq = db.selectFrom('provisioning_log_jobs').select('no').where('tenant_no', '=', no);
      if (q.jobId !== undefined) jq = jq.where('job_id', '=', q.jobId);
      if (q.spId !== undefined) jq = jq.where('sp_id', '=', q.spId);
      const nos = (await jq.execute()).map((r) => Number(r.no));
      if (!nos.length) return [];
      // One job number in practice (a job has one service principal), so the (tenant, job, id) index serves the page.
      b = nos.length === 1 ? b.where('job_no', '=', nos[0]!) : b.where('job_no', 'in', nos);
    }
    if (q.action) b = b.where('action', '=', q.action);
    if (q.status) b = b.where('status', '=', q.status);
    if (q.sourceId) b = b.where('source_id', '=', sourceIdBytes(q.sourceId));
    // Time bounds are key bounds: an id's stamp is its entry's time, to the millisecond.
    if (q.after) b = b.where('id', '>=', idBoundAt(Date.parse(q.after), 0));
    if (q.before) b = b.where('id', '<=', idBoundAt(Date.parse(q.before), 0xff));
    if (q.beforeId) b = b.where('id', '<', uuidBytes(q.beforeId));
    const rows = await b.orderBy('id', 'desc').limit(literalLimit(q.limit)).execute();
    if (!rows.length) return [];
    const jobNos = [...new Set(rows.map((r) => Number(r.job_no)))];
    const runNos = [...new Set(rows.map((r) => Number(r.run_no)))];
    const jobs = new Map((await db.selectFrom('provisioning_log_jobs').select(['no', 'job_id', 'sp_id']).where('no', 'in', jobNos).execute())
      .map((j) => [Number(j.no), j]));
    const runs = new Map((await db.selectFrom('provisioning_log_runs').select(['no', 'run']).where('no', 'in', runNos).execute())
      .map((r) => [Number(r.no), r.run]));
    return rows.map((r) => {
      const job = jobs.get(Number(r.job_no));
      const id = uuidText(r.id);
      return {
        id, jobId: job?.job_id ?? '', spId: job?.sp_id ?? '', action: r.action, status: r.status,
        sourceId: r.source_id === null ? null : sourceIdText(r.source_id), at: r.at ?? uuidTime(r.id),
        run: runs.get(Number(r.run_no)) ?? '{}', data: unpackEntry(r.data),
      };
    });
  },
  /** Removes entries older than `before` (retention), and the runs they were the last of; returns how many entries. */
  async pruneLog(db: Db, tenantId: string, before: string): Promise<number> {
    const no = await tenantNo(db, tenantId);
    if (no === NO_TENANT) return 0;
    // A key range: the cost follows the entries removed, not the log's size.
    const r = await db.deleteFrom('provisioning_log').where('tenant_no', '=', no).where('id', '<', idBoundAt(Date.parse(before), 0)).executeTakeFirst();
    // A run's last_at is its newest entry's time, so a run older than the bound has no entry left. A batch
    // writing into a run bumps last_at in its own transaction first, which a concurrent prune then sees.
    await db.deleteFrom('provisioning_log_runs').where('tenant_no', '=', no).where('last_at', '<', before).execute();
    return Number(r.numDeletedRows);
  },
  async deleteLogOf(db: Db, tenantId: string, jobId: string): Promise<void> {
    const no = await tenantNo(db, tenantId);
    const nos = (await db.selectFrom('provisioning_log_jobs').select('no').where('tenant_no', '=', no).where('job_id', '=', jobId).execute())
      .map((r) => Number(r.no));
    if (!nos.length) return;
    await db.deleteFrom('provisioning_log').where('tenant_no', '=', no).where('job_no', 'in', nos).execute();
    await db.deleteFrom('provisioning_log_runs').where('tenant_no', '=', no).where('job_no', 'in', nos).execute();
    await db.deleteFrom('provisioning_log_jobs').where('no', 'in', nos).execute();
  },
};

/** The log's number for a job (made on its first entry; kept while the tenant exists, as its entries may be). */
async function logJobNo(db: Db, no: number, jobId: string, spId: string): Promise<number> {
  const find = () => run<{ no: number | string }>(db, sql`select no from provisioning_log_jobs where tenant_no = ${no} and job_id = ${jobId} and sp_id = ${spId}`);
  let rows = await find();
  if (!rows.length) {
    // A concurrent first entry of the same job (another process) makes the same row: keep theirs.
    await run(db, sql`insert into provisioning_log_jobs (tenant_no, job_id, sp_id) values (${no}, ${jobId}, ${spId}) on conflict (tenant_no, job_id, sp_id) do nothing`);
    rows = await find();
  }
  return Number(rows[0]!.no);
}

/** The run's number, made or found, its last_at moved up to `lastAt` (so pruning keeps it while it has entries). */
async function touchRun(db: Db, no: number, job: number, runText: string, lastAt: string): Promise<number> {
  const newest = dialectOf(db) === 'sqlite' ? sql`max(provisioning_log_runs.last_at, excluded.last_at)` : sql`greatest(provisioning_log_runs.last_at, excluded.last_at)`;
  const rows = await run<{ no: number | string }>(db, sql`insert into provisioning_log_runs (tenant_no, job_no, run, last_at) values (${no}, ${job}, ${runText}, ${lastAt})
    on conflict (tenant_no, job_no, run) do update set last_at = ${newest} returning no`);
  return Number(rows[0]!.no);
}
