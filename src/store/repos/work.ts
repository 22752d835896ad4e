// The durable work queue shared by every kind of background work (MTO transitions, sync jobs). An item is
// work some process must do; a worker claims it under a lease and either finishes it (delete or mark),
// retries it later, or dies, in which case the lease runs out and another worker claims it again.
//
// While an item runs, `not_before` holds its lease expiry and `lease_owner` the claimer: a claimed item's
// writes go through `fence`, which fails once the lease has passed to someone else, so a worker that was
// paused past its lease (GC, SIGSTOP, a slow disk) cannot commit over its successor's work.
import type { Selectable } from 'kysely';
import { literalLimit, run, sql } from '../query/sqlText.js';
import type { WorkItemRow } from '../schema.js';
import type { Db } from '../store.js';

export type WorkStatus = 'queued' | 'running' | 'succeeded' | 'failed';

export interface WorkItem {
  tenantId: string;
  queue: string;
  id: string;
  kind: string;
  ref: string | null;
  status: WorkStatus;
  attempts: number;
  notBefore: string;
  leaseOwner: string | null;
  /** Wake-ups counted while queued or running; the worker compares it to decide whether to run again. */
  rev: number;
  payload: Record<string, unknown>;
  error: string | null;
  createdAt: string;
}

const fromRow = (r: Selectable<WorkItemRow>): WorkItem => ({
  tenantId: r.tenant_id, queue: r.queue, id: r.id, kind: r.kind, ref: r.ref, status: r.status as WorkStatus,
  attempts: Number(r.attempts), notBefore: r.not_before, leaseOwner: r.lease_owner, rev: Number(r.rev),
  payload: JSON.parse(r.payload) as Record<string, unknown>, error: r.error, createdAt: r.created_at,
});

export interface NewWorkItem {
  id: string;
  kind: string;
  ref?: string | null;
  notBefore: string;
  payload?: Record<string, unknown>;
  createdAt: string;
}

export const workRepo = {
  async enqueue(db: Db, tenantId: string, queue: string, item: NewWorkItem): Promise<void> {
    await db.insertInto('work_items').values({
      tenant_id: tenantId, queue, id: item.id, kind: item.kind, ref: item.ref ?? null, status: 'queued', attempts: 0,
      not_before: item.notBefore, lease_owner: null, rev: 0, payload: JSON.stringify(item.payload ?? {}), error: null, created_at: item.createdAt,
    }).execute();
  },

  /**
   * Makes sure the item exists and is due by `notBefore` at the latest: inserts it, or bumps `rev` (and pulls
   * a queued item's time forward). A running item keeps its lease; its worker sees the new rev when it
   * finishes and runs again, so a wake-up during a run is never lost.
   */
  async touch(db: Db, tenantId: string, queue: string, item: NewWorkItem): Promise<void> {
    await run(db, sql`insert into work_items (tenant_id, queue, id, kind, ref, status, attempts, not_before, lease_owner, rev, payload, error, created_at)
      values (${tenantId}, ${queue}, ${item.id}, ${item.kind}, ${item.ref ?? null}, 'queued', 0, ${item.notBefore}, null, 0, ${JSON.stringify(item.payload ?? {})}, null, ${item.createdAt})
      on conflict (tenant_id, queue, id) do update set rev = work_items.rev + 1,
        not_before = case when work_items.status = 'queued' and excluded.not_before < work_items.not_before then excluded.not_before else work_items.not_before end`);
  },

  async get(db: Db, tenantId: string, queue: string, id: string): Promise<WorkItem | undefined> {
    const r = await db.selectFrom('work_items').selectAll().where('tenant_id', '=', tenantId).where('queue', '=', queue).where('id', '=', id).executeTakeFirst();
    return r ? fromRow(r) : undefined;
  },

  async latest(db: Db, tenantId: string, queue: string, kind: string): Promise<WorkItem | undefined> {
    const r = await db.selectFrom('work_items').selectAll().where('tenant_id', '=', tenantId).where('queue', '=', queue).where('kind', '=', kind)
      .orderBy('created_at', 'desc').executeTakeFirst();
    return r ? fromRow(r) : undefined;
  },

  /**
   * Claims the next due item of `queue`: queued, or running with an expired lease (its worker died).
   * `skipLocked` (PostgreSQL) lets several processes claim side by side without waiting on each other's rows.
   */
  async claim(db: Db, queue: string, now: string, owner: string, leaseUntil: string, skipLocked: boolean): Promise<WorkItem | undefined> {
    let q = db.selectFrom('work_items').selectAll().where('queue', '=', queue)
      .where('status', 'in', ['queued', 'running']).where('not_before', '<=', now)
      .orderBy('not_before').limit(literalLimit(1));
    if (skipLocked) q = q.forUpdate().skipLocked();
    const r = await q.executeTakeFirst();
    if (!r) return undefined;
    await db.updateTable('work_items').set((eb) => ({ status: 'running', attempts: eb('attempts', '+', 1), not_before: leaseUntil, lease_owner: owner }))
      .where('tenant_id', '=', r.tenant_id).where('queue', '=', queue).where('id', '=', r.id).execute();
    return { ...fromRow(r), status: 'running', attempts: Number(r.attempts) + 1, notBefore: leaseUntil, leaseOwner: owner };
  },

  /**
   * Extends a claimed item's lease inside the caller's transaction; false when the item is gone or another
   * worker holds it now, in which case the caller must roll back (its transaction wrote for a lost lease).
   * On PostgreSQL the update also locks the row until commit, so the fence holds to the end.
   */
  async fence(db: Db, item: Pick<WorkItem, 'tenantId' | 'queue' | 'id'>, owner: string, leaseUntil: string): Promise<boolean> {
    const r = await db.updateTable('work_items').set({ not_before: leaseUntil })
      .where('tenant_id', '=', item.tenantId).where('queue', '=', item.queue).where('id', '=', item.id)
      .where('lease_owner', '=', owner).where('status', '=', 'running').executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },

  /**
   * Ends a run: deletes the item when no wake-up came in since `rev` (nothing left to do), else requeues
   * it due at once. `next` keeps the item for a later time instead (schedules, retries, back-off).
   * Returns false when the lease was lost.
   */
  async release(db: Db, item: WorkItem, owner: string, next: { at: string; error?: string | null } | null, now: string): Promise<boolean> {
    const mine = db.updateTable('work_items').where('tenant_id', '=', item.tenantId).where('queue', '=', item.queue)
      .where('id', '=', item.id).where('lease_owner', '=', owner);
    if (!next) {
      const d = await db.deleteFrom('work_items').where('tenant_id', '=', item.tenantId).where('queue', '=', item.queue)
        .where('id', '=', item.id).where('lease_owner', '=', owner).where('rev', '=', item.rev).executeTakeFirst();
      if (Number(d.numDeletedRows) === 1) return true;
      const r = await mine.set({ status: 'queued', not_before: now, lease_owner: null, attempts: 0 }).executeTakeFirst();
      return Number(r.numUpdatedRows) === 1;
    }
    // A wake-up during the run makes the item due now rather than at its scheduled time.
    const current = await db.selectFrom('work_items').select('rev').where('tenant_id', '=', item.tenantId).where('queue', '=', item.queue)
      .where('id', '=', item.id).executeTakeFirst();
    const at = current && Number(current.rev) !== item.rev && now < next.at ? now : next.at;
    const r = await mine.set({ status: 'queued', not_before: at, lease_owner: null, error: next.error ?? null }).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },

  /** Gives a claimed item back, due now, for another worker (a stopping process). */
  async handOver(db: Db, item: Pick<WorkItem, 'tenantId' | 'queue' | 'id'>, owner: string, now: string): Promise<void> {
    await db.updateTable('work_items').set({ status: 'queued', not_before: now, lease_owner: null })
      .where('tenant_id', '=', item.tenantId).where('queue', '=', item.queue).where('id', '=', item.id).where('lease_owner', '=', owner).execute();
  },

  async finish(db: Db, tenantId: string, queue: string, id: string, status: 'succeeded' | 'failed', error: string | null): Promise<void> {
    await db.updateTable('work_items').set({ status, error, lease_owner: null }).where('tenant_id', '=', tenantId).where('queue', '=', queue).where('id', '=', id).execute();
  },

  async retry(db: Db, tenantId: string, queue: string, id: string, notBefore: string, error: string): Promise<void> {
    await db.updateTable('work_items').set({ status: 'queued', not_before: notBefore, error, lease_owner: null })
      .where('tenant_id', '=', tenantId).where('queue', '=', queue).where('id', '=', id).execute();
  },

  async remove(db: Db, tenantId: string, queue: string, id: string): Promise<void> {
    await db.deleteFrom('work_items').where('tenant_id', '=', tenantId).where('queue', '=', queue).where('id', '=', id).execute();
  },

  async removeWhere(db: Db, queue: string, where: { tenantId?: string; kind?: string; ref?: string; statuses?: readonly WorkStatus[] }): Promise<void> {
    let q = db.deleteFrom('work_items').where('queue', '=', queue);
    if (where.tenantId) q = q.where('tenant_id', '=', where.tenantId);
    if (where.kind) q = q.where('kind', '=', where.kind);
    if (where.ref) q = q.where('ref', '=', where.ref);
    if (where.statuses) q = q.where('status', 'in', where.statuses);
    await q.execute();
  },

  /** Items of a queue by status, for metrics and status pages. */
  async depth(db: Db, queue: string): Promise<{ status: string; n: number }[]> {
    const rows = await db.selectFrom('work_items').select((eb) => ['status', eb.fn.countAll<number>().as('n')]).where('queue', '=', queue).groupBy('status').execute();
    return rows.map((r) => ({ status: r.status, n: Number(r.n) }));
  },
};
