// Group rows and memberships; same layout as users (Graph object in `data`, lowercased query columns).
import { errors } from '../../domain/errors.js';
import type { GroupRow } from '../schema.js';
import { translateUnique } from './constraints.js';
import { reverseText, tokenize } from '../../domain/odata.js';
import type { Db } from '../store.js';
import { existingTenantNo, tenantNo } from './tenantKeys.js';
import { USER_DATA_COLUMNS, type UserColumns, unpackUser } from './userData.js';
import { literalLimit } from '../query/sqlText.js';

export interface Group {
  id: string;
  displayName: string;
  createdDateTime: string;
  securityEnabled: boolean;
  mailEnabled: boolean;
  deletedDateTime?: string | null;
  [property: string]: unknown;
}

const lc = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v.toLowerCase() : null);

function toRow(no: number, g: Group): GroupRow {
  const mail = lc(g.mail);
  return {
    tenant_no: no, id: g.id, display_name_lc: lc(g.displayName), description_lc: lc(g.description),
    mail_lc: mail, mail_rev: mail ? reverseText(mail) : null, mail_nickname_lc: lc(g.mailNickname),
    security_enabled: g.securityEnabled ? 1 : 0, mail_enabled: g.mailEnabled ? 1 : 0,
    created_at: g.createdDateTime, deleted_at: g.deletedDateTime ?? null, data: JSON.stringify(g),
  };
}

function tokenRows(no: number, g: Group) {
  const rows = [];
  for (const prop of ['displayName', 'description'] as const) {
    const v = g[prop];
    if (typeof v !== 'string') continue;
    for (const token of tokenize(v)) rows.push({ tenant_no: no, object_type: 'group', prop, token, object_id: g.id });
  }
  return rows;
}

async function writeDerived(db: Db, no: number, g: Group) {
  const tokens = tokenRows(no, g);
  if (tokens.length) await db.insertInto('search_tokens').values(tokens).execute();
  const proxies = Array.isArray(g.proxyAddresses) ? (g.proxyAddresses as string[]) : [];
  if (proxies.length) {
    await db.insertInto('group_values').values(proxies.map((p, ord) => {
      const v1 = p.toLowerCase();
      return { tenant_no: no, group_id: g.id, attr: 'proxyAddresses', ord, v1, v1_rev: reverseText(v1), v2: null, v3: null };
    })).execute();
  }
}

async function clearDerived(db: Db, no: number, id: string) {
  await db.deleteFrom('search_tokens').where('tenant_no', '=', no).where('object_id', '=', id).execute();
  await db.deleteFrom('group_values').where('tenant_no', '=', no).where('group_id', '=', id).execute();
}

export const groupsRepo = {
  async insert(db: Db, tenantId: string, g: Group): Promise<void> {
    const no = await existingTenantNo(db, tenantId);
    await db.insertInto('groups').values(toRow(no, g)).execute();
    await writeDerived(db, no, g);
  },
  async update(db: Db, tenantId: string, g: Group): Promise<void> {
    const no = await existingTenantNo(db, tenantId);
    await db.updateTable('groups').set(toRow(no, g)).where('tenant_no', '=', no).where('id', '=', g.id).execute();
    await clearDerived(db, no, g.id);
    await writeDerived(db, no, g);
  },
  async get(db: Db, tenantId: string, id: string): Promise<Group | undefined> {
    const no = await tenantNo(db, tenantId);
    const r = await db.selectFrom('groups').select('data').where('tenant_no', '=', no).where('id', '=', id.toLowerCase())
      .where('deleted_at', 'is', null).executeTakeFirst();
    return r ? (JSON.parse(r.data) as Group) : undefined;
  },
  async remove(db: Db, tenantId: string, id: string): Promise<void> {
    const no = await tenantNo(db, tenantId);
    await clearDerived(db, no, id);
    await db.deleteFrom('group_members').where('tenant_no', '=', no)
      .where((eb) => eb.or([eb('group_id', '=', id), eb('member_id', '=', id)])).execute();
    await db.deleteFrom('groups').where('tenant_no', '=', no).where('id', '=', id).execute();
  },
  async addMember(db: Db, tenantId: string, groupId: string, memberId: string, memberType: 'user' | 'group', at: string) {
    const no = await existingTenantNo(db, tenantId);
    // Two concurrent adds of one member both pass the route's isMember check; the key refuses the second.
    await translateUnique(
      () => db.insertInto('group_members').values({ tenant_no: no, group_id: groupId, member_id: memberId, member_type: memberType, added_at: at }).execute(),
      (where) => where === 'group_members_pk' || where.includes('group_members.'),
      () => errors.referenceExists('members'),
    );
  },
  async removeMember(db: Db, tenantId: string, groupId: string, memberId: string): Promise<boolean> {
    const no = await tenantNo(db, tenantId);
    const r = await db.deleteFrom('group_members').where('tenant_no', '=', no).where('group_id', '=', groupId)
      .where('member_id', '=', memberId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  },
  async isMember(db: Db, tenantId: string, groupId: string, memberId: string): Promise<boolean> {
    const no = await tenantNo(db, tenantId);
    return (await db.selectFrom('group_members').select('member_id').where('tenant_no', '=', no)
      .where('group_id', '=', groupId).where('member_id', '=', memberId).executeTakeFirst()) !== undefined;
  },
  /** Members in id order, after `afterId`, at most `limit`. */
  async members(db: Db, tenantId: string, groupId: string, afterId: string, limit: number) {
    const no = await tenantNo(db, tenantId);
    return db.selectFrom('group_members').select(['member_id', 'member_type']).where('tenant_no', '=', no)
      .where('group_id', '=', groupId).where('member_id', '>', afterId).orderBy('member_id').limit(literalLimit(limit)).execute();
  },
  /** Groups the object is a direct member of. */
  async memberOf(db: Db, tenantId: string, memberId: string, afterId: string, limit: number): Promise<string[]> {
    const no = await tenantNo(db, tenantId);
    const rows = await db.selectFrom('group_members').select('group_id').where('tenant_no', '=', no)
      .where('member_id', '=', memberId).where('group_id', '>', afterId).orderBy('group_id').limit(literalLimit(limit)).execute();
    return rows.map((r) => r.group_id);
  },
  /**
   * Members whose object is live, with its stored `data`, in member-id order. A soft-deleted user keeps its
   * membership rows (a restore brings them back) but is hidden here, as in Entra.
   */
  async liveMembers(db: Db, tenantId: string, groupId: string, afterId: string, limit: number) {
    const no = await tenantNo(db, tenantId);
    const rows = await liveMemberQuery(db, no, groupId)
      .select(['m.member_id as id', 'm.member_type as type', 'g.data as groupData', 'u.data as userData'])
      .select(USER_DATA_COLUMNS.filter((c) => c !== 'data').map((c) => `u.${c} as u_${c}` as const))
      .where('m.member_id', '>', afterId).orderBy('m.member_id').limit(literalLimit(limit)).execute();
    // A user's stored `data` holds only what its columns don't (userData.ts): the whole object is put back here.
    return rows.map((r) => {
      const row = r as unknown as Record<string, unknown>;
      const columns = Object.fromEntries(USER_DATA_COLUMNS.map((c) => [c, row[`u_${c}`]])) as unknown as UserColumns;
      return { id: r.id, type: r.type, groupData: r.groupData, userData: r.userData === null ? null : JSON.stringify(unpackUser(r.userData, columns)) };
    });
  },
  async countLiveMembers(db: Db, tenantId: string, groupId: string): Promise<number> {
    const no = await tenantNo(db, tenantId);
    const r = await liveMemberQuery(db, no, groupId).select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
    return Number(r?.n ?? 0);
  },
  /** The groups (with `data`) the object is a direct member of, in group-id order. */
  async memberOfGroups(db: Db, tenantId: string, memberId: string, afterId: string, limit: number) {
    const no = await tenantNo(db, tenantId);
    return db.selectFrom('group_members as m')
      .innerJoin('groups as g', (j) => j.onRef('g.tenant_no', '=', 'm.tenant_no').onRef('g.id', '=', 'm.group_id'))
      .select(['g.id as id', 'g.data as data']).where('m.tenant_no', '=', no).where('m.member_id', '=', memberId)
      .where('m.group_id', '>', afterId).orderBy('m.group_id').limit(literalLimit(limit)).execute();
  },
};

function liveMemberQuery(db: Db, no: number, groupId: string) {
  return db.selectFrom('group_members as m')
    .leftJoin('users as u', (j) => j.onRef('u.tenant_no', '=', 'm.tenant_no').onRef('u.id', '=', 'm.member_id'))
    .leftJoin('groups as g', (j) => j.onRef('g.tenant_no', '=', 'm.tenant_no').onRef('g.id', '=', 'm.member_id'))
    .where('m.tenant_no', '=', no).where('m.group_id', '=', groupId).where('u.deleted_at', 'is', null)
    .where((eb) => eb.or([eb('u.id', 'is not', null), eb('g.id', 'is not', null)]));
}
