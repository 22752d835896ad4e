// The reads the sync engine makes of source and target tenants, each one statement per batch of objects
// (a cycle reads users 500 at a time; one query per user would be most of its cost).
import { literalLimit, run, sql } from '../query/sqlText.js';
import type { UserRow } from '../schema.js';
import type { Db } from '../store.js';
import type { UserRecord } from '../../domain/user.js';
import { tenantNo } from './tenantKeys.js';
import { fromRow } from './users.js';

export interface SourceUser {
  id: string;
  record: UserRecord;
  deleted: boolean;
  /** An internal user: not a B2B user of this tenant (no home link, not created by invitation). */
  internal: boolean;
}

const toSource = (r: UserRow, tenantId: string): SourceUser => {
  const record = fromRow(r, tenantId);
  return { id: r.id, record, deleted: r.deleted_at !== null, internal: !r.home_tenant_id && r.creation_type !== 'invitation' };
};

export const syncReads = {
  /**
   * The tenant's internal users (live and soft-deleted) in id order after `afterId`: the initial cycle's read.
   * B2B users (a home tenant, or invited) are never provisioned onward (batch.ts drops them without an
   * entry), so they are left out here: in a mesh they are most of every tenant (9 of 10 users with 10
   * tenants), and decoding their rows only to drop them was a fifth of the engine's CPU in a resync.
   */
  async usersPage(db: Db, tenantId: string, afterId: string, limit: number): Promise<SourceUser[]> {
    const rows = await run<UserRow>(db, sql`select * from users where tenant_no = ${await tenantNo(db, tenantId)} and id > ${afterId}
      and home_tenant_id is null and (creation_type is null or creation_type <> 'invitation') order by id limit ${sql.int(limit)}`);
    return rows.map((r) => toSource(r, tenantId));
  },
  async users(db: Db, tenantId: string, ids: readonly string[]): Promise<Map<string, SourceUser>> {
    if (!ids.length) return new Map();
    const rows = await db.selectFrom('users').selectAll().where('tenant_no', '=', await tenantNo(db, tenantId)).where('id', 'in', ids).execute();
    return new Map(rows.map((r) => [r.id, toSource(r, tenantId)]));
  },
  /** (user, group) pairs among `userIds` × `groupIds` where the user is a direct member. */
  async memberships(db: Db, tenantId: string, userIds: readonly string[], groupIds: readonly string[]): Promise<Set<string>> {
    if (!userIds.length || !groupIds.length) return new Set();
    const rows = await db.selectFrom('group_members').select('member_id').where('tenant_no', '=', await tenantNo(db, tenantId))
      .where('group_id', 'in', groupIds).where('member_id', 'in', userIds).execute();
    return new Set(rows.map((r) => r.member_id));
  },
  /** Direct user members of a group, in id order after `afterId`. */
  async userMembers(db: Db, tenantId: string, groupId: string, afterId: string, limit: number): Promise<string[]> {
    const rows = await db.selectFrom('group_members').select('member_id').where('tenant_no', '=', await tenantNo(db, tenantId)).where('group_id', '=', groupId)
      .where('member_type', '=', 'user').where('member_id', '>', afterId).orderBy('member_id').limit(literalLimit(limit)).execute();
    return rows.map((r) => r.member_id);
  },
  /** Groups among `ids` that are security groups (only they can scope a sync job). */
  async securityGroups(db: Db, tenantId: string, ids: readonly string[]): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const rows = await db.selectFrom('groups').select('id').where('tenant_no', '=', await tenantNo(db, tenantId)).where('id', 'in', ids)
      .where('security_enabled', '=', 1).where('deleted_at', 'is', null).execute();
    return new Set(rows.map((r) => r.id));
  },
  /** Target users linked to these home users (live and soft-deleted), by home user id. */
  async linked(db: Db, tenantId: string, homeTenantId: string, homeUserIds: readonly string[]): Promise<Map<string, { record: UserRecord; deleted: boolean }>> {
    if (!homeUserIds.length) return new Map();
    const rows = await db.selectFrom('users').selectAll().where('tenant_no', '=', await tenantNo(db, tenantId)).where('home_tenant_id', '=', homeTenantId)
      .where('home_user_id', 'in', homeUserIds).execute();
    return new Map(rows.map((r) => [r.home_user_id!, { record: fromRow(r, tenantId), deleted: r.deleted_at !== null }]));
  },
  /** Live users holding any of `addresses` (lowercased) as UPN, mail, SMTP proxy address or other mail. */
  async byAddresses(db: Db, tenantId: string, addresses: readonly string[]): Promise<UserRecord[]> {
    if (!addresses.length) return [];
    // UPN and mail apart: as one `upn_lc IN … OR mail_lc IN …`, SQLite walked the tenant's whole mail index
    // (tenant_no=? only) on every call, once per batch chunk: quadratic in the target's size.
    const no = await tenantNo(db, tenantId);
    const byColumn = (col: 'upn_lc' | 'mail_lc') => db.selectFrom('users').selectAll().where('tenant_no', '=', no).where('deleted_at', 'is', null)
      .where(col, 'in', addresses).execute();
    const direct = [...(await byColumn('upn_lc')), ...(await byColumn('mail_lc'))];
    // An `SMTP:<mail>` item the users row implies has no user_values row (userData.ts): `direct` finds its user by mail_lc.
    const values = [...addresses.map((a) => `smtp:${a}`), ...addresses];
    const viaValues = await db.selectFrom('user_values as v').innerJoin('users as u', (j) => j.onRef('u.tenant_no', '=', 'v.tenant_no').onRef('u.id', '=', 'v.user_id'))
      .selectAll('u').where('v.tenant_no', '=', no).where('v.attr', 'in', ['proxyAddresses', 'otherMails']).where('v.v1', 'in', values)
      .where('u.deleted_at', 'is', null).execute();
    const seen = new Set<string>();
    const out: UserRecord[] = [];
    for (const r of [...direct, ...viaValues]) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      out.push(fromRow(r as UserRow, tenantId));
    }
    return out;
  },
  /** Which of these UPNs (lowercased) the tenant holds, live or soft-deleted. */
  async upnsTaken(db: Db, tenantId: string, upns: readonly string[]): Promise<Set<string>> {
    if (!upns.length) return new Set();
    const rows = await db.selectFrom('users').select('upn_lc').where('tenant_no', '=', await tenantNo(db, tenantId)).where('upn_lc', 'in', upns).execute();
    return new Set(rows.map((r) => r.upn_lc));
  },
};
