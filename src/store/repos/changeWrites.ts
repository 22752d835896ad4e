// How change-log rows are written. Every append bumps the tenant's counter (`tenants.change_seq`), and that
// update locks the tenant's row until COMMIT: the lock is what makes per-tenant sequence order commit order,
// which delta and the sync engine rely on (a reader that saw sequence n has seen everything below n).
//
// SQLite serializes writers with BEGIN IMMEDIATE, so appending where the caller asks costs nothing extra.
// On PostgreSQL the lock is the tenant's bottleneck: taken at the first append, it is held through every
// later statement of the transaction, and in one Node process those statements wait behind other requests
// on the event loop, while every other writer of the tenant waits on the lock. So on PostgreSQL `append`
// inside a store transaction only remembers the rows; the transaction boundary (postgres/connect.ts) writes
// them just before COMMIT as one statement per tenant (counter update, rows insert and the commit's NOTIFY
// together), and the lock is held for that statement and the COMMIT. `appendNow` writes at once, for the
// few callers that need the new sequence numbers inside the transaction (the sync engine's exports).
import { markChanged, notifyPayload, takeChanged } from '../changeEvents.js';
import { dialectOf, run, sql } from '../query/sqlText.js';
import type { Db } from '../store.js';
import { tenantRowCacheOf } from '../tenantRows.js';
import type { Change } from './changes.js';

interface Pending {
  tenantId: string;
  changes: readonly Change[];
  at: string;
  bySync: boolean;
}

// Appends waiting for COMMIT, per transaction handle, in append order.
const pending = new WeakMap<object, Pending[]>();

const grownBy = (changes: readonly Change[]) => {
  let grown = 0;
  for (const c of changes) grown += c.change === 'created' ? 1 : c.change === 'deleted' ? -1 : 0;
  return grown;
};

/** Whether `append` on this handle waits for the commit (PostgreSQL, inside a store transaction). */
const defers = (db: Db) => db.isTransaction && dialectOf(db) === 'postgres';

export const changeWrites = {
  /** Appends at COMMIT on PostgreSQL (see above), at once on SQLite or outside a transaction. */
  async append(db: Db, tenantId: string, changes: readonly Change[], at: string, bySync: boolean): Promise<void> {
    if (!changes.length) return;
    if (!defers(db)) {
      await changeWrites.appendNow(db, tenantId, changes, at, bySync);
      return;
    }
    let list = pending.get(db);
    if (!list) {
      list = [];
      pending.set(db, list);
    }
    list.push({ tenantId, changes, at, bySync });
  },

  /**
   * Appends now and returns the tenant's new high-water sequence. The tenant's appends still waiting for
   * COMMIT in this transaction go first, so the transaction's rows keep their order.
   */
  async appendNow(db: Db, tenantId: string, changes: readonly Change[], at: string, bySync: boolean): Promise<number> {
    const list = pending.get(db);
    const earlier = list?.filter((p) => p.tenantId === tenantId) ?? [];
    if (earlier.length) pending.set(db, list!.filter((p) => p.tenantId !== tenantId));
    for (const p of earlier) markChanged(db, tenantId, p.bySync);
    if (changes.length) markChanged(db, tenantId, bySync);
    const rows = [...earlier.flatMap((p) => p.changes.map((c) => ({ c, at: p.at }))), ...changes.map((c) => ({ c, at }))];
    return dialectOf(db) === 'postgres' ? writePostgres(db, tenantId, rows, null) : writeSqlite(db, tenantId, rows);
  },

  /**
   * What a savepoint must put back if it is rolled back: the appends waiting then. (An `appendNow` inside
   * the savepoint may have written earlier ones; the rollback undoes that write, so they wait again.)
   */
  mark(db: Db): readonly Pending[] | undefined {
    const list = pending.get(db);
    return list ? [...list] : undefined;
  },
  restore(db: Db, mark: readonly Pending[] | undefined): void {
    if (mark?.length) pending.set(db, [...mark]);
    else pending.delete(db);
  },

  /**
   * PostgreSQL, just before COMMIT: writes the transaction's waiting appends, one statement per tenant in
   * tenant id order (two transactions that touch the same tenants lock them in the same order), and sends
   * the commit's NOTIFY to `channel` with the last of them (or alone, when only `appendNow` wrote). Returns
   * the transaction's marks (changeEvents.ts), which the store forgets in its tenant cache after COMMIT.
   */
  async flush(db: Db, channel: string): Promise<string[] | undefined> {
    const list = pending.get(db) ?? [];
    pending.delete(db);
    const byTenant = new Map<string, { c: Change; at: string }[]>();
    for (const p of list) {
      markChanged(db, p.tenantId, p.bySync);
      let rows = byTenant.get(p.tenantId);
      if (!rows) {
        rows = [];
        byTenant.set(p.tenantId, rows);
      }
      for (const c of p.changes) rows.push({ c, at: p.at });
    }
    const marks = takeChanged(db);
    const notify = marks ? { channel, payload: notifyPayload(marks) } : null;
    const tenants = [...byTenant.keys()].sort();
    if (!tenants.length) {
      if (notify) await run(db, sql`select pg_notify(${notify.channel}, ${notify.payload})`);
      return marks;
    }
    for (let i = 0; i < tenants.length; i++) {
      const t = tenants[i] as string;
      await writePostgres(db, t, byTenant.get(t)!, i === tenants.length - 1 ? notify : null);
    }
    return marks;
  },
};

/** One statement: the counter, the object count, every row, and (last tenant) the NOTIFY. */
async function writePostgres(db: Db, tenantId: string, rows: readonly { c: Change; at: string }[], notify: { channel: string; payload: string } | null): Promise<number> {
  if (!rows.length) return head(db, tenantId);
  const n = rows.length;
  const grown = grownBy(rows.map((r) => r.c));
  // Columns travel as arrays (unnest … with ordinality numbers them), so any number of rows is one
  // statement of seven parameters, far from PostgreSQL's 65,535-parameter limit.
  const types = rows.map((r) => r.c.objectType);
  const ids = rows.map((r) => r.c.objectId);
  const kinds = rows.map((r) => r.c.change);
  const props = rows.map((r) => (r.c.props ? JSON.stringify(r.c.props) : null));
  const ats = rows.map((r) => r.at);
  const q = notify
    ? sql`with t as (
        update tenants set change_seq = change_seq + ${n}::int, object_count = object_count + ${grown}::int where id = ${tenantId} returning change_seq, no
      ), w as (
        insert into change_log (tenant_no, seq, object_type, object_id, change, props, at)
        select t.no, t.change_seq - ${n}::int + v.o::int, v.object_type, v.object_id, v.change, v.props, v.at
        from t, unnest(${types}::text[], ${ids}::text[], ${kinds}::text[], ${props}::text[], ${ats}::text[]) with ordinality as v(object_type, object_id, change, props, at, o)
      )
      select t.change_seq, pg_notify(${notify.channel}, ${notify.payload}) as n from t`
    : sql`with t as (
        update tenants set change_seq = change_seq + ${n}::int, object_count = object_count + ${grown}::int where id = ${tenantId} returning change_seq, no
      ), w as (
        insert into change_log (tenant_no, seq, object_type, object_id, change, props, at)
        select t.no, t.change_seq - ${n}::int + v.o::int, v.object_type, v.object_id, v.change, v.props, v.at
        from t, unnest(${types}::text[], ${ids}::text[], ${kinds}::text[], ${props}::text[], ${ats}::text[]) with ordinality as v(object_type, object_id, change, props, at, o)
      )
      select t.change_seq from t`;
  const [row] = await run<{ change_seq: number | string }>(db, q);
  // Outside a transaction (autocommit) the write is committed now: this process forgets the tenant's
  // remembered row at once (tenantRows.ts); a transaction's tenants are forgotten when it commits.
  tenantRowCacheOf(db)?.forget([tenantId]);
  if (!row) throw new Error(`tenant ${tenantId} does not exist`);
  return Number(row.change_seq);
}

async function writeSqlite(db: Db, tenantId: string, rows: readonly { c: Change; at: string }[]): Promise<number> {
  if (!rows.length) return head(db, tenantId);
  // The same update keeps the tenant's object count: every object that comes or goes does so through here.
  const [row] = await run<{ change_seq: number | string; no: number | string }>(db, sql`update tenants set change_seq = change_seq + ${rows.length},
    object_count = object_count + ${grownBy(rows.map((r) => r.c))} where id = ${tenantId} returning change_seq, no`);
  if (!row) throw new Error(`tenant ${tenantId} does not exist`);
  const first = Number(row.change_seq) - rows.length + 1;
  const no = Number(row.no);
  const tuples = rows.map(({ c, at }, i) =>
    sql`(${no}, ${first + i}, ${c.objectType}, ${c.objectId}, ${c.change}, ${c.props ? JSON.stringify(c.props) : null}, ${at})`);
  for (let i = 0; i < tuples.length; i += 1000) {
    await run(db, sql`insert into change_log (tenant_no, seq, object_type, object_id, change, props, at) values ${sql.join(tuples.slice(i, i + 1000))}`);
  }
  return Number(row.change_seq);
}

async function head(db: Db, tenantId: string): Promise<number> {
  const [row] = await run<{ s: number | string }>(db, sql`select change_seq as s from tenants where id = ${tenantId}`);
  return Number(row?.s ?? 0);
}
