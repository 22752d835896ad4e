// User rows: the Graph-shaped object in `data`, plus the lowercased/reversed copies the catalog says
// queries need, one `user_values` row per collection item and one `search_tokens` row per displayName
// token. Every method takes the tenant first; no query here can address another tenant's rows.
import type { User, UserRecord } from '../../domain/user.js';
import { reverseText, tokenize } from '../../domain/odata.js';
import type { UserRow, UserValueRow } from '../schema.js';
import type { Db } from '../store.js';

const lc = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v.toLowerCase() : null);
const bool = (v: unknown): number | null => (typeof v === 'boolean' ? (v ? 1 : 0) : null);

interface StoredExtras {
  roles?: string[];
}

function toRow(r: UserRecord): UserRow {
  const u = r.user;
  const upn = u.userPrincipalName.toLowerCase();
  const mail = lc(u.mail);
  const extras: StoredExtras = r.roles.length ? { roles: r.roles } : {};
  return {
    tenant_id: r.tenantId,
    id: u.id,
    upn_lc: upn,
    upn_rev: reverseText(upn),
    display_name_lc: lc(u.displayName),
    given_name_lc: lc(u.givenName),
    surname_lc: lc(u.surname),
    mail_lc: mail,
    mail_rev: mail ? reverseText(mail) : null,
    mail_nickname_lc: lc(u.mailNickname),
    job_title_lc: lc(u.jobTitle),
    department_lc: lc(u.department),
    company_name_lc: lc(u.companyName),
    employee_id_lc: lc(u.employeeId),
    // Lowercased like every string query column: the query compiler folds $filter literals to lower case.
    user_type: u.userType.toLowerCase(),
    creation_type: lc(u.creationType),
    external_user_state: lc(u.externalUserState),
    account_enabled: u.accountEnabled ? 1 : 0,
    show_in_address_list: bool(u.showInAddressList),
    home_tenant_id: r.homeTenantId,
    home_user_id: r.homeUserId,
    password_hash: r.passwordHash,
    created_at: u.createdDateTime,
    deleted_at: u.deletedDateTime ?? null,
    data: JSON.stringify({ ...u, ...(extras.roles ? { '@openmto.roles': extras.roles } : {}) }),
  };
}

function fromRow(row: UserRow): UserRecord {
  const data = JSON.parse(row.data) as User & { '@openmto.roles'?: string[] };
  const roles = data['@openmto.roles'] ?? [];
  delete data['@openmto.roles'];
  return {
    tenantId: row.tenant_id,
    user: data,
    homeTenantId: row.home_tenant_id,
    homeUserId: row.home_user_id,
    passwordHash: row.password_hash,
    roles,
  };
}

/** Parses the `data` column as returned by list queries. */
export function userFromData(data: string): User {
  const u = JSON.parse(data) as User & { '@openmto.roles'?: string[] };
  // Only users holding a role carry the key; deleting unconditionally would slow every parsed object.
  if (u['@openmto.roles'] !== undefined) delete u['@openmto.roles'];
  return u;
}

function valueRows(tenantId: string, u: User): UserValueRow[] {
  const rows: UserValueRow[] = [];
  const push = (attr: string, items: unknown, reversed: boolean) => {
    if (!Array.isArray(items)) return;
    items.forEach((item, ord) => {
      if (typeof item !== 'string' || item === '') return;
      const v1 = item.toLowerCase();
      rows.push({ tenant_id: tenantId, user_id: u.id, attr, ord, v1, v1_rev: reversed ? reverseText(v1) : null, v2: null, v3: null });
    });
  };
  push('otherMails', u.otherMails, true);
  push('proxyAddresses', u.proxyAddresses, true);
  push('businessPhones', u.businessPhones, false);
  if (Array.isArray(u.identities)) {
    u.identities.forEach((id: Record<string, unknown>, ord: number) => {
      rows.push({
        tenant_id: tenantId, user_id: u.id, attr: 'identities', ord,
        v1: lc(id.issuerAssignedId) ?? '', v1_rev: null, v2: lc(id.issuer), v3: lc(id.signInType),
      });
    });
  }
  return rows;
}

function tokenRows(tenantId: string, u: User) {
  return tokenize(u.displayName ?? '').map((token) => ({
    tenant_id: tenantId, object_type: 'user', prop: 'displayName', token, object_id: u.id,
  }));
}

// SQLite binds at most 32,766 parameters per statement; PostgreSQL 65,535. Chunks keep a
// multi-row insert well under both for the widest table (users: 25 columns).
const CHUNK = 500;
async function insertChunked<T extends keyof import('../schema.js').Database>(db: Db, table: T, rows: readonly object[]) {
  for (let i = 0; i < rows.length; i += CHUNK) {
    // biome-ignore lint/suspicious/noExplicitAny: rows are typed by the callers above
    await db.insertInto(table).values(rows.slice(i, i + CHUNK) as any).execute();
  }
}

export const usersRepo = {
  async insert(db: Db, tenantId: string, records: readonly UserRecord[]): Promise<void> {
    if (records.some((r) => r.tenantId !== tenantId)) throw new Error('record of another tenant');
    await insertChunked(db, 'users', records.map(toRow));
    await insertChunked(db, 'user_values', records.flatMap((r) => valueRows(tenantId, r.user)));
    await insertChunked(db, 'search_tokens', records.flatMap((r) => tokenRows(tenantId, r.user)));
  },

  async update(db: Db, tenantId: string, record: UserRecord): Promise<void> {
    const row = toRow(record);
    await db.updateTable('users').set(row).where('tenant_id', '=', tenantId).where('id', '=', record.user.id).execute();
    await db.deleteFrom('user_values').where('tenant_id', '=', tenantId).where('user_id', '=', record.user.id).execute();
    await db.deleteFrom('search_tokens').where('tenant_id', '=', tenantId).where('object_id', '=', record.user.id).execute();
    await insertChunked(db, 'user_values', valueRows(tenantId, record.user));
    await insertChunked(db, 'search_tokens', tokenRows(tenantId, record.user));
  },

  /** Deletes the user and its rows; returns the groups it was a member of (their change log must say so). */
  async remove(db: Db, tenantId: string, id: string): Promise<string[]> {
    const groups = await db.selectFrom('group_members').select('group_id').where('tenant_id', '=', tenantId).where('member_id', '=', id).execute();
    await db.deleteFrom('user_values').where('tenant_id', '=', tenantId).where('user_id', '=', id).execute();
    await db.deleteFrom('search_tokens').where('tenant_id', '=', tenantId).where('object_id', '=', id).execute();
    await db.deleteFrom('group_members').where('tenant_id', '=', tenantId).where('member_id', '=', id).execute();
    await db.deleteFrom('users').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
    return groups.map((g) => g.group_id);
  },

  /** A user by object id or UPN; `deleted` selects live (false) or soft-deleted (true) users. */
  async get(db: Db, tenantId: string, idOrUpn: string, deleted = false): Promise<UserRecord | undefined> {
    const key = idOrUpn.toLowerCase();
    let q = db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId);
    q = idOrUpn.includes('@') ? q.where('upn_lc', '=', key) : q.where('id', '=', key);
    q = deleted ? q.where('deleted_at', 'is not', null) : q.where('deleted_at', 'is', null);
    const row = await q.executeTakeFirst();
    return row ? fromRow(row) : undefined;
  },

  async getMany(db: Db, tenantId: string, ids: readonly string[]): Promise<UserRecord[]> {
    if (!ids.length) return [];
    const rows = await db.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).where('id', 'in', ids).execute();
    return rows.map(fromRow);
  },

  async upnTaken(db: Db, tenantId: string, upn: string, exceptId?: string): Promise<boolean> {
    let q = db.selectFrom('users').select('id').where('tenant_id', '=', tenantId).where('upn_lc', '=', upn.toLowerCase());
    if (exceptId) q = q.where('id', '!=', exceptId);
    return (await q.executeTakeFirst()) !== undefined;
  },

  /** Soft-deleted users whose 30 days are up. */
  async expired(db: Db, tenantId: string, before: string, limit: number): Promise<string[]> {
    const rows = await db
      .selectFrom('users').select('id')
      .where('tenant_id', '=', tenantId).where('deleted_at', 'is not', null).where('deleted_at', '<', before)
      .limit(limit).execute();
    return rows.map((r) => r.id);
  },

  async byHome(db: Db, tenantId: string, homeTenantId: string, homeUserId: string): Promise<UserRecord | undefined> {
    const row = await db.selectFrom('users').selectAll()
      .where('tenant_id', '=', tenantId).where('home_tenant_id', '=', homeTenantId).where('home_user_id', '=', homeUserId)
      .executeTakeFirst();
    return row ? fromRow(row) : undefined;
  },
};
