// The per-tenant change log: every directory mutation appends here in its own transaction. Delta queries
// and the sync engine read it by sequence number.
import { literalLimit, run, sql } from '../query/sqlText.js';
import type { Db } from '../store.js';
import { changeWrites } from './changeWrites.js';
import { documentsRepo } from './documents.js';
import { tenantNo } from './tenantKeys.js';
import { tenantSeq } from '../tenantRows.js';

/**
 * How long change-log rows are kept. Graph delta tokens for directory objects live 7 days, and so does
 * the history behind them: the hourly sweep prunes older rows and records the floor. A delta token or a
 * sync-engine watermark below the floor can no longer be served and must restart from a full read.
 */
export const CHANGE_LOG_RETENTION_DAYS = 7;
export const CHANGE_LOG_RETENTION_MS = CHANGE_LOG_RETENTION_DAYS * 86_400_000;

export type ChangeKind = 'created' | 'updated' | 'softDeleted' | 'restored' | 'deleted';

export interface Change {
  objectType: 'user' | 'group';
  objectId: string;
  change: ChangeKind;
  /** Properties that changed (for `updated`); delta uses them to honour `$select` tracking. */
  props?: readonly string[];
}

export interface ChangeRow {
  seq: number;
  objectType: string;
  objectId: string;
  change: string;
  props: string[] | null;
}

export const changesRepo = {
  /**
   * Appends changes, in this transaction. On PostgreSQL the rows are written just before COMMIT (see
   * changeWrites.ts: the tenant's row lock is then held only for that statement and the COMMIT), so reads
   * inside the transaction do not see them yet; use `appendNow` for the new sequence numbers. `bySync`: the
   * sync engine's own exports (B2B users, never provisioned onward), which the store does not announce to
   * the sync scheduler.
   */
  append(db: Db, tenantId: string, changes: readonly Change[], at: string, bySync = false): Promise<void> {
    return changeWrites.append(db, tenantId, changes, at, bySync);
  },
  /**
   * Appends changes at once and returns the tenant's new high-water sequence: incrementing the tenant's
   * counter locks its row until commit (PostgreSQL), so per-tenant sequence order is commit order; SQLite
   * writers are serialized by BEGIN IMMEDIATE already.
   */
  appendNow(db: Db, tenantId: string, changes: readonly Change[], at: string, bySync = false): Promise<number> {
    return changeWrites.appendNow(db, tenantId, changes, at, bySync);
  },
  /** Users (live and soft-deleted) and groups the tenant holds, as the change log has counted them. */
  async objectCount(db: Db, tenantId: string): Promise<number> {
    const [row] = await run<{ n: number | string }>(db, sql`select object_count as n from tenants where id = ${tenantId}`);
    return Number(row?.n ?? 0);
  },
  /**
   * The tenant's latest sequence (0 for none): read on every people-search request, so precompiled text,
   * and on PostgreSQL remembered until the tenant changes (tenantRows.ts).
   */
  async head(db: Db, tenantId: string): Promise<number> {
    return (await tenantSeq(db, tenantId)) ?? 0;
  },
  /** Highest pruned sequence: rows at or below it are gone (see prune); 0 when nothing was ever pruned. */
  async floor(db: Db, tenantId: string): Promise<number> {
    const r = await db.selectFrom('tenant_documents').select('data')
      .where('tenant_id', '=', tenantId).where('kind', '=', 'changeLog').where('key', '=', 'floor').executeTakeFirst();
    return r ? Number(JSON.parse(r.data)) : 0;
  },
  async since(db: Db, tenantId: string, objectType: 'user' | 'group', after: number, upTo: number, limit: number) {
    const rows = await db.selectFrom('change_log').select(['seq', 'object_type', 'object_id', 'change', 'props', 'at'])
      .where('tenant_no', '=', await tenantNo(db, tenantId)).where('object_type', '=', objectType)
      .where('seq', '>', after).where('seq', '<=', upTo).orderBy('seq').limit(literalLimit(limit)).execute();
    return rows.map((r) => ({ ...r, seq: Number(r.seq), props: r.props ? (JSON.parse(r.props) as string[]) : null }));
  },
  /**
   * Ids of the objects changed in (after, upTo], in id order after `afterId`, at most `limit`, optionally only
   * among `ids`. Delta pages by object so each object appears once per round, with its latest state.
   */
  async changedObjects(
    db: Db, tenantId: string, objectType: 'user' | 'group', after: number, upTo: number,
    page: { afterId: string; limit: number; ids?: readonly string[] | null },
  ): Promise<string[]> {
    let q = db.selectFrom('change_log').select('object_id')
      .where('tenant_no', '=', await tenantNo(db, tenantId)).where('object_type', '=', objectType)
      .where('seq', '>', after).where('seq', '<=', upTo).where('object_id', '>', page.afterId);
    if (page.ids) q = q.where('object_id', 'in', page.ids.length ? page.ids : ['']);
    const rows = await q.groupBy('object_id').orderBy('object_id').limit(literalLimit(page.limit)).execute();
    return rows.map((r) => r.object_id);
  },
  /** Every change of these objects in (after, upTo], in sequence order. */
  async ofObjects(db: Db, tenantId: string, objectType: 'user' | 'group', ids: readonly string[], after: number, upTo: number) {
    if (!ids.length) return [];
    const rows = await db.selectFrom('change_log').select(['seq', 'object_type', 'object_id', 'change', 'props', 'at'])
      .where('tenant_no', '=', await tenantNo(db, tenantId)).where('object_type', '=', objectType)
      .where('seq', '>', after).where('seq', '<=', upTo).where('object_id', 'in', ids).orderBy('seq').execute();
    return rows.map((r) => ({ ...r, seq: Number(r.seq), props: r.props ? (JSON.parse(r.props) as string[]) : null }));
  },
  /**
   * Change-log rows in (after, upTo], in sequence order, leaving out rows of users that are B2B users of the
   * tenant (a home link, or created by invitation): the sync engine's incremental read, which provisions
   * internal users only. In a mesh most of a tenant's changes are other tenants' users arriving; skipping
   * them here costs an index probe a row instead of loading each one. Rows of users purged since are kept.
   */
  async internalRows(db: Db, tenantId: string, after: number, upTo: number): Promise<ChangeRow[]> {
    const rows = await run<{ seq: number | string; object_type: string; object_id: string; change: string; props: string | null }>(db, sql`
      select c.seq, c.object_type, c.object_id, c.change, c.props from change_log c
      left join users u on c.object_type = 'user' and u.tenant_no = c.tenant_no and u.id = c.object_id
      where c.tenant_no = ${await tenantNo(db, tenantId)} and c.seq > ${after} and c.seq <= ${upTo}
        and (c.object_type <> 'user' or u.id is null or (u.home_tenant_id is null and (u.creation_type is null or u.creation_type <> 'invitation')))
      order by c.seq`);
    return rows.map((r) => ({ seq: Number(r.seq), objectType: r.object_type, objectId: r.object_id, change: r.change, props: r.props ? JSON.parse(r.props) : null }));
  },
  /** The stored JSON of these objects (live and soft-deleted). */
  async objects(db: Db, tenantId: string, table: 'users' | 'groups', ids: readonly string[]): Promise<{ id: string; data: string; deleted: boolean }[]> {
    if (!ids.length) return [];
    const rows = await db.selectFrom(table as 'users').select(['id', 'data', 'deleted_at']).where('tenant_no', '=', await tenantNo(db, tenantId)).where('id', 'in', ids).execute();
    return rows.map((r) => ({ id: r.id, data: r.data, deleted: r.deleted_at !== null }));
  },
  /** Live objects in id order after `afterId` (optionally only among `ids`), at most `limit`. */
  async liveObjects(db: Db, tenantId: string, table: 'users' | 'groups', afterId: string, ids: readonly string[] | null, limit: number) {
    let q = db.selectFrom(table as 'users').select(['id', 'data']).where('tenant_no', '=', await tenantNo(db, tenantId)).where('deleted_at', 'is', null).where('id', '>', afterId);
    if (ids) q = q.where('id', 'in', ids.length ? ids : ['']);
    return q.orderBy('id').limit(literalLimit(limit)).execute();
  },
  /** Current members of these groups, by group, in member id order. */
  async groupMembers(db: Db, tenantId: string, groupIds: readonly string[]): Promise<{ groupId: string; memberId: string; memberType: string }[]> {
    if (!groupIds.length) return [];
    const rows = await db.selectFrom('group_members').select(['group_id', 'member_id', 'member_type'])
      .where('tenant_no', '=', await tenantNo(db, tenantId)).where('group_id', 'in', groupIds).orderBy('group_id').orderBy('member_id').execute();
    return rows.map((r) => ({ groupId: r.group_id, memberId: r.member_id, memberType: r.member_type }));
  },
  /** Which of these ids are groups of the tenant. */
  async groupIdsAmong(db: Db, tenantId: string, ids: readonly string[]): Promise<string[]> {
    if (!ids.length) return [];
    return (await db.selectFrom('groups').select('id').where('tenant_no', '=', await tenantNo(db, tenantId)).where('id', 'in', ids).execute()).map((g) => g.id);
  },
  /**
   * Deletes the rows written before `olderThanIso` and raises the floor to the highest pruned sequence, so
   * readers can tell "nothing changed" from "history is gone". Run it inside one store transaction: the
   * floor and the deletion must land together. Rows above `keepAbove` are kept. Returns the number of rows removed.
   */
  async prune(db: Db, tenantId: string, olderThanIso: string, at = olderThanIso, keepAbove = Number.MAX_SAFE_INTEGER): Promise<number> {
    const no = await tenantNo(db, tenantId);
    const r = await db.selectFrom('change_log').select((eb) => eb.fn.max('seq').as('top'))
      .where('tenant_no', '=', no).where('at', '<', olderThanIso).executeTakeFirst();
    if (r?.top === null || r?.top === undefined) return 0;
    // Cut at a sequence, not at a time: everything at or below the floor is gone, everything above kept,
    // even if a clock step made `at` non-monotonic.
    // `keepAbove`: history some reader still needs (an active sync job's watermark) stays whatever its age.
    const top = Math.min(Number(r.top), keepAbove);
    if (top <= (await changesRepo.floor(db, tenantId))) return 0;
    const deleted = await db.deleteFrom('change_log').where('tenant_no', '=', no).where('seq', '<=', top).executeTakeFirst();
    const floor = Math.max(top, await changesRepo.floor(db, tenantId));
    await documentsRepo.put(db, tenantId, 'changeLog', 'floor', floor, at);
    return Number(deleted.numDeletedRows);
  },
};
