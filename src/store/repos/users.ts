// User rows: the lowercased/reversed copies the catalog says queries need, the Graph-shaped object in
// `data` less what those columns hold (userData.ts), one `user_values` row per collection item (less the items the row implies) and one
// `search_tokens` row per displayName token. Every method takes the tenant first; no query here can
// address another tenant's rows.
import { CompiledQuery } from 'kysely';
import { errors } from '../../domain/errors.js';
import type { User, UserRecord } from '../../domain/user.js';
import { reverseText, tokenize } from '../../domain/odata.js';
import { dialectOf, literalLimit, run, type Sql, type SqlDialect, sql } from '../query/sqlText.js';
import type { SearchTokenRow, UserRow, UserValueRow } from '../schema.js';
import type { Db } from '../store.js';
import { translateUnique } from './constraints.js';
import { impliesIdentity, impliesProxyAddress, packUser, USER_DATA_COLUMNS, unpackUser } from './userData.js';
import { existingTenantNo, tenantNo } from './tenantKeys.js';

const lc = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v.toLowerCase() : null);
const bool = (v: unknown): number | null => (typeof v === 'boolean' ? (v ? 1 : 0) : null);

export function toRow(r: UserRecord, no: number): UserRow {
  const u = r.user;
  const upn = u.userPrincipalName.toLowerCase();
  const mail = lc(u.mail);
  const row: Omit<UserRow, 'data'> = {
    tenant_no: no,
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
  };
  const extras = {
    ...(r.roles.length ? { '@openmto.roles': r.roles } : {}), ...(r.syncJobs?.length ? { '@openmto.syncJobs': r.syncJobs } : {}),
  };
  return { ...row, data: packUser({ ...u, ...extras }, row) };
}

/** `row` is a users row of tenant `tenantId` (rows carry only the tenant's integer key). */
export function fromRow(row: UserRow, tenantId: string): UserRecord {
  const data = unpackUser(row.data, row) as User & { '@openmto.roles'?: string[]; '@openmto.syncJobs'?: string[] };
  const roles = data['@openmto.roles'] ?? [];
  const syncJobs = data['@openmto.syncJobs'];
  delete data['@openmto.roles'];
  delete data['@openmto.syncJobs'];
  return {
    tenantId,
    user: data,
    homeTenantId: row.home_tenant_id,
    homeUserId: row.home_user_id,
    passwordHash: row.password_hash,
    roles,
    ...(syncJobs ? { syncJobs } : {}),
  };
}

/** The Graph object of a users row (without the record's extras). */
export function userOfRow(row: UserRow): User {
  return userFromObject(unpackUser(row.data, row));
}

/** Parses the whole-object JSON text list pages return (query/list.ts renders it from the row). */
export function userFromData(data: string): User {
  return userFromObject(JSON.parse(data) as Record<string, unknown>);
}

function userFromObject(o: Record<string, unknown>): User {
  const u = o as User & { '@openmto.roles'?: string[]; '@openmto.syncJobs'?: string[] };
  // Only users holding a role (or provisioned by sync) carry the keys; deleting unconditionally would slow every parsed object.
  if (u['@openmto.roles'] !== undefined) delete u['@openmto.roles'];
  if (u['@openmto.syncJobs'] !== undefined) delete u['@openmto.syncJobs'];
  return u;
}

function valueRows(no: number, u: User): UserValueRow[] {
  const rows: UserValueRow[] = [];
  const push = (attr: string, items: unknown, reversed: boolean) => {
    if (!Array.isArray(items)) return;
    items.forEach((item, ord) => {
      if (typeof item !== 'string' || item === '') return;
      const v1 = item.toLowerCase();
      rows.push({ tenant_no: no, user_id: u.id, attr, ord, v1, v1_rev: reversed ? reverseText(v1) : null, v2: null, v3: null });
    });
  };
  push('otherMails', u.otherMails, true);
  // Not the rows the users row implies (userData.ts impliedUserValues): readers take those from the columns.
  if (!impliesProxyAddress(u)) push('proxyAddresses', u.proxyAddresses, true);
  push('businessPhones', u.businessPhones, false);
  if (Array.isArray(u.identities) && !impliesIdentity(u)) {
    u.identities.forEach((id: Record<string, unknown>, ord: number) => {
      rows.push({
        tenant_no: no, user_id: u.id, attr: 'identities', ord,
        v1: lc(id.issuerAssignedId) ?? '', v1_rev: null, v2: lc(id.issuer), v3: lc(id.signInType),
      });
    });
  }
  return rows;
}

function tokenRows(no: number, u: User) {
  return tokenize(u.displayName ?? '').map((token) => ({
    tenant_no: no, object_type: 'user', prop: 'displayName', token, object_id: u.id,
  }));
}

// Every column of each table written here, checked exhaustive by the compiler (a Record needs every key).
const userColumns = Object.keys({
  tenant_no: 1, id: 1, upn_lc: 1, upn_rev: 1, display_name_lc: 1, given_name_lc: 1, surname_lc: 1, mail_lc: 1, mail_rev: 1,
  mail_nickname_lc: 1, job_title_lc: 1, department_lc: 1, company_name_lc: 1, employee_id_lc: 1, user_type: 1, creation_type: 1,
  external_user_state: 1, account_enabled: 1, show_in_address_list: 1, home_tenant_id: 1, home_user_id: 1, password_hash: 1,
  created_at: 1, deleted_at: 1, data: 1,
} satisfies Record<keyof UserRow, 1>) as (keyof UserRow)[];
const valueColumns = Object.keys({
  tenant_no: 1, user_id: 1, attr: 1, ord: 1, v1: 1, v1_rev: 1, v2: 1, v3: 1,
} satisfies Record<keyof UserValueRow, 1>) as (keyof UserValueRow)[];
const tokenColumns = Object.keys({
  tenant_no: 1, object_type: 1, prop: 1, token: 1, object_id: 1,
} satisfies Record<keyof SearchTokenRow, 1>) as (keyof SearchTokenRow)[];

// SQLite binds at most 32,766 parameters per statement; PostgreSQL 65,535. Chunks keep a
// multi-row insert well under both for the widest table (users: 25 columns).
const CHUNK = 500;

// The text of a multi-row INSERT depends only on the table and the row count: kept for single rows
// and small batches (online creates) and for full chunks (bulk import), built for any other count.
const insertTexts = new Map<string, string>();
function insertText(dialect: SqlDialect, table: string, columns: readonly string[], n: number): string {
  const key = `${dialect} ${table} ${n}`;
  let text = insertTexts.get(key);
  if (text === undefined) {
    let p = 0;
    const tuple = () => `(${columns.map(() => (dialect === 'sqlite' ? '?' : `$${++p}`)).join(', ')})`;
    text = `insert into ${table} (${columns.join(', ')}) values ${Array.from({ length: n }, tuple).join(', ')}`;
    if (n <= 8 || n === CHUNK) insertTexts.set(key, text);
  }
  return text;
}

/**
 * Multi-row INSERT as precompiled text and a flat parameter list: on the single-user create path,
 * building and compiling Kysely's query tree for the three inserts cost more CPU than SQLite took to
 * run them, and for a bulk import's 500-row chunks the flat list is cheaper still.
 */
async function insertChunked<R>(db: Db, table: string, columns: readonly (keyof R & string)[], rows: readonly R[]) {
  const dialect = dialectOf(db);
  for (let i = 0; i < rows.length; i += CHUNK) {
    const part = rows.slice(i, i + CHUNK);
    const params: unknown[] = [];
    for (const r of part) for (const c of columns) params.push(r[c] ?? null);
    await db.executeQuery(CompiledQuery.raw(insertText(dialect, table, columns, part.length), params));
  }
}

// byAddress's branches, each LIMITed in its own subquery. The LIMIT is a literal, not a bound parameter:
// SQLite (3.46+) re-prepares a statement on every run when its plan depends on a bound LIMIT. Joins,
// not `id IN (subquery)`: inside a compound query the IN form cost several times the four probes.
function addressBranch(p: number, body: Sql, limit: number, distinct = false): Sql {
  return sql`select * from (select ${sql.raw(`${distinct ? 'distinct ' : ''}${p} as p`)}, ${body} limit ${sql.int(limit)}) ${sql.raw(`b${p}`)}`;
}
function byColumn(p: number, no: number, column: 'upn_lc' | 'mail_lc', value: string, limit: number): Sql {
  return addressBranch(p, sql`id from users where tenant_no = ${no} and ${sql.raw(column)} = ${value} and deleted_at is null`, limit);
}
// A user whose row implies its `SMTP:<mail>` item (userData.ts) has no user_values row for it: the mail_lc
// branch finds it, ahead of the proxyAddresses one. DISTINCT: one user may hold a value twice (SMTP: and smtp: fold to one value), and must not crowd a
// second holder out of the LIMIT.
function byValue(p: number, no: number, attr: string, value: string, limit: number): Sql {
  return addressBranch(p, sql`v.user_id as id from user_values v join users x on x.tenant_no = v.tenant_no and x.id = v.user_id
    where v.tenant_no = ${no} and v.attr = ${attr} and v.v1 = ${value} and x.deleted_at is null`, limit, true);
}

// The UPN index (migration 001): `users_upn` on PostgreSQL, its columns in SQLite's message.
const isUpnIndex = (where: string) => where === 'users_upn' || where.includes('users.upn_lc');
const upnTaken = () => errors.sameKeyValue('userPrincipalName');

export const usersRepo = {
  async insert(db: Db, tenantId: string, records: readonly UserRecord[]): Promise<void> {
    if (records.some((r) => r.tenantId !== tenantId)) throw new Error('record of another tenant');
    const no = await existingTenantNo(db, tenantId);
    await translateUnique(() => insertChunked(db, 'users', userColumns, records.map((r) => toRow(r, no))), isUpnIndex, upnTaken);
    await insertChunked(db, 'user_values', valueColumns, records.flatMap((r) => valueRows(no, r.user)));
    await insertChunked(db, 'search_tokens', tokenColumns, records.flatMap((r) => tokenRows(no, r.user)));
  },

  async update(db: Db, tenantId: string, record: UserRecord): Promise<void> {
    const no = await existingTenantNo(db, tenantId);
    const row = toRow(record, no);
    await translateUnique(
      () => db.updateTable('users').set(row).where('tenant_no', '=', no).where('id', '=', record.user.id).execute(),
      isUpnIndex, upnTaken,
    );
    await db.deleteFrom('user_values').where('tenant_no', '=', no).where('user_id', '=', record.user.id).execute();
    await db.deleteFrom('search_tokens').where('tenant_no', '=', no).where('object_id', '=', record.user.id).execute();
    await insertChunked(db, 'user_values', valueColumns, valueRows(no, record.user));
    await insertChunked(db, 'search_tokens', tokenColumns, tokenRows(no, record.user));
  },

  /** Deletes the user and its rows; returns the groups it was a member of (their change log must say so). */
  async remove(db: Db, tenantId: string, id: string): Promise<string[]> {
    const no = await tenantNo(db, tenantId);
    const groups = await db.selectFrom('group_members').select('group_id').where('tenant_no', '=', no).where('member_id', '=', id).execute();
    await db.deleteFrom('user_values').where('tenant_no', '=', no).where('user_id', '=', id).execute();
    await db.deleteFrom('search_tokens').where('tenant_no', '=', no).where('object_id', '=', id).execute();
    await db.deleteFrom('group_members').where('tenant_no', '=', no).where('member_id', '=', id).execute();
    await db.deleteFrom('users').where('tenant_no', '=', no).where('id', '=', id).execute();
    return groups.map((g) => g.group_id);
  },

  /** A user by object id or UPN; `deleted` selects live (false) or soft-deleted (true) users. */
  async get(db: Db, tenantId: string, idOrUpn: string, deleted = false): Promise<UserRecord | undefined> {
    const key = idOrUpn.toLowerCase();
    const by = idOrUpn.includes('@') ? sql`upn_lc = ${key}` : sql`id = ${key}`;
    const state = sql.raw(deleted ? 'deleted_at is not null' : 'deleted_at is null');
    const [row] = await run<UserRow>(db, sql`select * from users where tenant_no = ${await tenantNo(db, tenantId)} and ${by} and ${state}`);
    return row ? fromRow(row, tenantId) : undefined;
  },

  async getMany(db: Db, tenantId: string, ids: readonly string[]): Promise<UserRecord[]> {
    if (!ids.length) return [];
    const rows = await db.selectFrom('users').selectAll().where('tenant_no', '=', await tenantNo(db, tenantId)).where('id', 'in', ids).execute();
    return rows.map((r) => fromRow(r, tenantId));
  },

  /**
   * Live users holding `address` as UPN, mail, an SMTP proxy address or one of otherMails; at most
   * `limit`, UPN matches first, then mail, proxyAddresses, otherMails. One statement: each branch is
   * an equality probe on its own index, LIMITed, so the cost does not grow with the tenant.
   */
  async byAddress(db: Db, tenantId: string, address: string, limit = 2): Promise<UserRecord[]> {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`invalid limit ${limit}`);
    const a = address.toLowerCase();
    const no = await tenantNo(db, tenantId);
    const rows = await run<UserRow & { p: number }>(db, sql`select m.p, u.* from (${byColumn(0, no, 'upn_lc', a, limit)}
      union all ${byColumn(1, no, 'mail_lc', a, limit)} union all ${byValue(2, no, 'proxyAddresses', `smtp:${a}`, limit)}
      union all ${byValue(3, no, 'otherMails', a, limit)}) m join users u on u.tenant_no = ${no} and u.id = m.id`);
    const seen = new Set<string>();
    const found: UserRecord[] = [];
    for (const row of rows.sort((x, y) => Number(x.p) - Number(y.p))) {
      if (seen.has(row.id)) continue;
      seen.add(row.id);
      const { p: _p, ...user } = row;
      found.push(fromRow(user, tenantId));
      if (found.length === limit) break;
    }
    return found;
  },

  /**
   * The whole stored objects of these users as JSON text (live and soft-deleted), for readers that take
   * the text (delta, the sync engine): `data` alone holds only what the columns don't (userData.ts).
   */
  async objects(db: Db, tenantId: string, ids: readonly string[]): Promise<{ id: string; data: string; deleted: boolean }[]> {
    if (!ids.length) return [];
    const rows = await db.selectFrom('users').select([...USER_DATA_COLUMNS]).where('tenant_no', '=', await tenantNo(db, tenantId)).where('id', 'in', ids).execute();
    return rows.map((r) => ({ id: r.id, data: JSON.stringify(unpackUser(r.data, r)), deleted: r.deleted_at !== null }));
  },

  /** Live users' whole objects as JSON text in id order after `afterId` (optionally only among `ids`), at most `limit`. */
  async liveObjects(db: Db, tenantId: string, afterId: string, ids: readonly string[] | null, limit: number): Promise<{ id: string; data: string }[]> {
    let q = db.selectFrom('users').select([...USER_DATA_COLUMNS]).where('tenant_no', '=', await tenantNo(db, tenantId)).where('deleted_at', 'is', null).where('id', '>', afterId);
    if (ids) q = q.where('id', 'in', ids.length ? ids : ['']);
    const rows = await q.orderBy('id').limit(literalLimit(limit)).execute();
    return rows.map((r) => ({ id: r.id, data: JSON.stringify(unpackUser(r.data, r)) }));
  },

  async upnTaken(db: Db, tenantId: string, upn: string, exceptId?: string): Promise<boolean> {
    const except = exceptId ? sql` and id <> ${exceptId}` : sql.empty;
    return (await run(db, sql`select id from users where tenant_no = ${await tenantNo(db, tenantId)} and upn_lc = ${upn.toLowerCase()}${except}`)).length > 0;
  },

  /** Soft-deleted users whose 30 days are up. */
  async expired(db: Db, tenantId: string, before: string, limit: number): Promise<string[]> {
    const rows = await db
      .selectFrom('users').select('id')
      .where('tenant_no', '=', await tenantNo(db, tenantId)).where('deleted_at', 'is not', null).where('deleted_at', '<', before)
      .limit(literalLimit(limit)).execute();
    return rows.map((r) => r.id);
  },

  async byHome(db: Db, tenantId: string, homeTenantId: string, homeUserId: string): Promise<UserRecord | undefined> {
    const row = await db.selectFrom('users').selectAll()
      .where('tenant_no', '=', await tenantNo(db, tenantId)).where('home_tenant_id', '=', homeTenantId).where('home_user_id', '=', homeUserId)
      .executeTakeFirst();
    return row ? fromRow(row, tenantId) : undefined;
  },
};
