// The stored form of a user's Graph object (users.data, migration 011). A user row already holds most of
// the object in its query columns, so `data` keeps only what the row can't give back:
// - a property whose value is its column (UPN, mail, names… when already lower case; id, createdDateTime,
//   deletedDateTime, accountEnabled, userType) is left out and read from the column;
// - a property at the default every new user gets (empty businessPhones/otherMails, null creationType…) is
//   left out, and so is proxyAddresses when it is what `mail` implies (["SMTP:<mail>"] or []);
// - the UPN identity every user is created with becomes `"~i": <issuer>`.
// An object that lacks one of those properties altogether lists it in `"~a"`, so reading gives back exactly
// the properties it had: absent stays absent. At 100k bench users this took `data` from ~700 to ~100 bytes.
//
// Two readers, one rule: unpackUser (JavaScript, from a whole row) and userValueSql (the database, one key
// as JSON, for list pages and the people index). test/store/userData.test.ts holds them to each other.
import { type Sql, type SqlDialect, sql } from '../query/sqlText.js';
import type { UserRow } from '../schema.js';

/** The columns a stored object is read back with. */
export type UserColumns = Pick<UserRow, 'id' | 'created_at' | 'deleted_at' | 'account_enabled' | 'user_type'> &
  Partial<Record<LowerColumn, string | null>>;

/** Properties stored in a column as their lower-case text: left out of `data` when they are lower case already. */
const LOWER = {
  userPrincipalName: 'upn_lc', mail: 'mail_lc', mailNickname: 'mail_nickname_lc', displayName: 'display_name_lc',
  givenName: 'given_name_lc', surname: 'surname_lc', jobTitle: 'job_title_lc', department: 'department_lc',
  companyName: 'company_name_lc', employeeId: 'employee_id_lc',
} as const satisfies Record<string, keyof UserRow>;
type LowerColumn = (typeof LOWER)[keyof typeof LOWER];

/** Every column unpackUser reads, `data` included (for a select that joins users). */
export const USER_DATA_COLUMNS = [
  'data', 'id', 'created_at', 'deleted_at', 'account_enabled', 'user_type', 'upn_lc', 'mail_lc', 'mail_nickname_lc', 'display_name_lc',
  'given_name_lc', 'surname_lc', 'job_title_lc', 'department_lc', 'company_name_lc', 'employee_id_lc',
] as const;

const USER_TYPES: Record<string, string> = { member: 'Member', guest: 'Guest' };

/** Properties with a value the row implies; left out when they hold it, listed in `~a` when absent. */
const DERIVED = [
  'businessPhones', 'otherMails', 'creationType', 'externalUserState', 'externalUserStateChangeDateTime', 'showInAddressList',
  'id', 'accountEnabled', 'userType', 'proxyAddresses', 'createdDateTime', 'deletedDateTime',
] as const;
type Derived = (typeof DERIVED)[number];
const DERIVED_SET: ReadonlySet<string> = new Set(DERIVED);

/** Where a re-inflated object puts what `data` left out: the order new users are built in (directory/users.ts newUser). */
const HEAD = ['businessPhones', 'otherMails', 'identities', 'creationType', 'externalUserState', 'externalUserStateChangeDateTime', 'showInAddressList'];
const TAIL = [
  'accountEnabled', 'displayName', 'givenName', 'surname', 'mail', 'mailNickname', 'userPrincipalName', 'jobTitle', 'department',
  'companyName', 'employeeId', 'id', 'userType', 'proxyAddresses', 'createdDateTime', 'deletedDateTime',
];

const IDENTITY = '~i';
const ABSENT = '~a';

function derivedValue(key: Derived, c: UserColumns, mail: unknown): unknown {
  switch (key) {
    case 'businessPhones':
    case 'otherMails':
      return [];
    case 'id':
      return c.id;
    case 'createdDateTime':
      return c.created_at;
    case 'deletedDateTime':
      return c.deleted_at;
    case 'accountEnabled':
      return Number(c.account_enabled) === 1;
    case 'userType':
      return USER_TYPES[c.user_type];
    case 'proxyAddresses':
      return typeof mail === 'string' && mail !== '' ? [`SMTP:${mail}`] : [];
    default:
      return null;
  }
}

function holdsDerived(key: Derived, value: unknown, c: UserColumns, mail: unknown): boolean {
  const d = derivedValue(key, c, mail);
  if (Array.isArray(d)) {
    return Array.isArray(value) && value.length === d.length && d.every((x, i) => value[i] === x);
  }
  return d !== undefined && value === d;
}

/** The UPN identity a new user gets, `{signInType, issuer, issuerAssignedId: UPN}` exactly: its issuer, else undefined. */
function upnIdentityIssuer(identities: unknown, upn: unknown): string | undefined {
  if (!Array.isArray(identities) || identities.length !== 1) return undefined;
  const i = identities[0] as Record<string, unknown> | null;
  if (i === null || typeof i !== 'object') return undefined;
  const keys = Object.keys(i);
  if (keys.length !== 3 || keys[0] !== 'signInType' || keys[1] !== 'issuer' || keys[2] !== 'issuerAssignedId') return undefined;
  if (i.signInType !== 'userPrincipalName' || typeof i.issuer !== 'string' || i.issuerAssignedId !== upn) return undefined;
  return i.issuer;
}

/** The `data` text of `user` stored beside `columns` (the row toRow builds from the same user). */
export function packUser(user: Record<string, unknown>, columns: UserColumns): string {
  const out: Record<string, unknown> = {};
  const absent: Record<string, 0> = {};
  for (const key of DERIVED) if (!(key in user)) absent[key] = 0;
  for (const [key, value] of Object.entries(user)) {
    if (value === undefined) continue;
    if (DERIVED_SET.has(key) && holdsDerived(key as Derived, value, columns, user.mail)) continue;
    const column = (LOWER as Record<string, LowerColumn>)[key];
    if (column !== undefined && typeof value === 'string' && value !== '' && columns[column] === value) continue;
    if (key === 'identities') {
      const issuer = upnIdentityIssuer(value, user.userPrincipalName);
      if (issuer !== undefined) {
        out[IDENTITY] = issuer;
        continue;
      }
    }
    out[key] = value;
  }
  if (Object.keys(absent).length) out[ABSENT] = absent;
  return JSON.stringify(out);
}

/** The object packUser stored, from its row (migration 011 packed every row written before it). */
export function unpackUser(data: string, row: UserColumns): Record<string, unknown> {
  const stored = JSON.parse(data) as Record<string, unknown>;
  const absent = (stored[ABSENT] ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const lower = (key: string) => {
    const column = (LOWER as Record<string, LowerColumn>)[key];
    return column === undefined ? null : (row[column] ?? null);
  };
  const mail = 'mail' in stored ? stored.mail : (lower('mail') ?? undefined);
  const fill = (key: string) => {
    if (key in out) return;
    if (key in stored) {
      out[key] = stored[key];
    } else if (key === 'identities') {
      if (typeof stored[IDENTITY] === 'string') {
        const upn = 'userPrincipalName' in stored ? stored.userPrincipalName : lower('userPrincipalName');
        out[key] = [{ signInType: 'userPrincipalName', issuer: stored[IDENTITY], issuerAssignedId: upn }];
      }
    } else if (DERIVED_SET.has(key)) {
      if (!(key in absent)) out[key] = derivedValue(key as Derived, row, mail);
    } else {
      const v = lower(key);
      if (v !== null) out[key] = v;
    }
  };
  for (const key of HEAD) fill(key);
  for (const key of Object.keys(stored)) if (key !== IDENTITY && key !== ABSENT) fill(key);
  for (const key of TAIL) fill(key);
  return out;
}

/**
 * One property of a users row as JSON, as unpackUser would give it (NULL where absent), for the database
 * to render pages with: SQLite JSON text (with the JSON subtype json_object keeps), PostgreSQL `json`.
 */
export function userValueSql(dialect: SqlDialect, alias: string, key: string): Sql {
  const col = (c: string) => sql.ref(`${alias}.${c}`);
  const sqlite = dialect === 'sqlite';
  const data = sqlite ? col('data') : sql`(${col('data')}::json)`;
  // PostgreSQL: a bound key typed, so `->` is the object-field operator, not the array-index one.
  const keyOf = (k: string) => (sqlite ? sql`${k}` : sql`${k}::text`);
  const get = (k: string) => sql`${data} -> ${keyOf(k)}`;
  const text = (k: string) => sql`${data} ->> ${keyOf(k)}`;
  const quote = (e: Sql) => (sqlite ? sql`json_quote(${e})` : sql`to_json(${e})`);
  const lowerColumn = (LOWER as Record<string, LowerColumn>)[key];
  if (lowerColumn !== undefined) return sql`coalesce(${get(key)}, ${quote(col(lowerColumn))})`;
  if (key === 'identities') {
    const upn = sql`coalesce(${text('userPrincipalName')}, ${col('upn_lc')})`;
    // PostgreSQL: spelled out, as json_build_object would space it ("k" : v) unlike the stored text it replaces.
    const one = sqlite
      ? sql`json_array(json_object('signInType', 'userPrincipalName', 'issuer', ${text(IDENTITY)}, 'issuerAssignedId', ${upn}))`
      : sql`('[{"signInType":"userPrincipalName","issuer":' || to_json(${text(IDENTITY)})::text || ',"issuerAssignedId":' || to_json(${upn})::text || '}]')::json`;
    return sql`case when ${get(IDENTITY)} is not null then ${one} else ${get('identities')} end`;
  }
  if (!DERIVED_SET.has(key)) return get(key);
  const emptyArray = sqlite ? sql`json_array()` : sql`'[]'::json`;
  let derived: Sql;
  switch (key as Derived) {
    case 'businessPhones':
    case 'otherMails':
      derived = emptyArray;
      break;
    case 'id':
      derived = quote(col('id'));
      break;
    case 'createdDateTime':
      derived = quote(col('created_at'));
      break;
    case 'deletedDateTime':
      derived = quote(col('deleted_at'));
      break;
    case 'accountEnabled':
      derived = sqlite ? sql`json(case ${col('account_enabled')} when 1 then 'true' else 'false' end)` : sql`to_json(${col('account_enabled')} = 1)`;
      break;
    case 'userType':
      derived = quote(sql`case ${col('user_type')} when 'member' then 'Member' when 'guest' then 'Guest' end`);
      break;
    case 'proxyAddresses': {
      const mail = sql`coalesce(${text('mail')}, ${col('mail_lc')})`;
      derived = sql`case when ${mail} <> '' then ${sqlite ? sql`json_array('SMTP:' || ${mail})` : sql`json_build_array('SMTP:' || ${mail})`} else ${emptyArray} end`;
      break;
    }
    default:
      // Null by default: absent and null render alike.
      return get(key);
  }
  const absent = sqlite ? sql`${data} -> ${`$."${ABSENT}"."${key}"`}` : sql`${data} -> ${keyOf(ABSENT)} -> ${keyOf(key)}`;
  return sql`case when ${get(key)} is not null then ${get(key)} when ${absent} is null then ${derived} end`;
}

// ---------------------------------------------------------------------------------------------------------
// user_values rows the row implies. Every user gets a `proxyAddresses` item `SMTP:<mail>` and an identity
// {userPrincipalName, <tenant domain>, <UPN>}; when a user holds exactly that (the `data` above leaves
// proxyAddresses out, or keeps the identity as `"~i"`), its user_values row would repeat the users row:
// ~40% of user_values and its indexes at 100k bench users. users.ts writes no such row, and the readers
// answer from the columns instead: the query compiler adds, to each any() over these collections, the
// users whose row implies an item (impliedUserValues), byAddress/byAddresses find them by mail_lc.

/** Lower case as SQL's lower() gives it on SQLite (ASCII only). */
const asciiLower = (s: string) => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());

/** The users row implies the `SMTP:<mail>` item: `proxyAddresses` is exactly what `mail` gives (packUser leaves it out). */
export function impliesProxyAddress(user: Record<string, unknown>): boolean {
  const mail = user.mail;
  const p = user.proxyAddresses;
  return typeof mail === 'string' && mail !== '' && Array.isArray(p) && p.length === 1 && p[0] === `SMTP:${mail}`;
}

/**
 * The users row implies the identity: it is the UPN identity packUser keeps as `"~i"`, with an issuer that
 * SQL lower-cases as JavaScript does (so the compiler's lower(issuer) is the stored v2 exactly).
 */
export function impliesIdentity(user: Record<string, unknown>): boolean {
  const issuer = upnIdentityIssuer(user.identities, user.userPrincipalName);
  return issuer !== undefined && issuer.toLowerCase() === asciiLower(issuer);
}

/** `~i` as stored: for the migration, which reads `data` without the rest of the row. */
export function storedIdentityImplied(data: Record<string, unknown>): boolean {
  const issuer = data[IDENTITY];
  return typeof issuer === 'string' && issuer.toLowerCase() === asciiLower(issuer);
}

/** `proxyAddresses` as stored, beside the row's mail_lc: for the migration (the same rule as impliesProxyAddress). */
export function storedProxyImplied(data: Record<string, unknown>, mailLc: string | null): boolean {
  const absent = data[ABSENT] as Record<string, unknown> | undefined;
  return mailLc !== null && mailLc !== '' && !('proxyAddresses' in data) && !(absent && 'proxyAddresses' in absent);
}

/**
 * A field of an implied user_values row, as the users row gives it: `prefix || col` (col never null where
 * the guard holds), its reverse `rev || reverse(prefix)`.
 */
export interface ImpliedField {
  prefix: string;
  col: Sql;
  rev: Sql | null;
}

/**
 * The user_values rows a users row (alias `alias`) implies, by attr: where the row holds one (`guard`) and
 * its fields. The guard may also hold for a user whose row was written (an identity issuer SQL can't
 * lower-case as JavaScript does): then the implied fields can only match where the written row does.
 */
export function impliedUserValues(dialect: SqlDialect, alias: string): Record<string, { guard: Sql; fields: Record<string, ImpliedField> }> {
  const col = (c: string) => sql.ref(`${alias}.${c}`);
  const sqlite = dialect === 'sqlite';
  const data = sqlite ? col('data') : sql`(${col('data')}::json)`;
  const keyOf = (k: string) => (sqlite ? sql`${k}` : sql`${k}::text`);
  const absent = sqlite ? sql`${data} -> ${`$."${ABSENT}"."proxyAddresses"`}` : sql`${data} -> ${keyOf(ABSENT)} -> ${keyOf('proxyAddresses')}`;
  return {
    proxyAddresses: {
      guard: sql`${col('mail_lc')} is not null and ${col('mail_lc')} <> '' and ${data} -> ${keyOf('proxyAddresses')} is null and ${absent} is null`,
      fields: { v1: { prefix: 'smtp:', col: col('mail_lc'), rev: col('mail_rev') } },
    },
    identities: {
      guard: sql`${data} -> ${keyOf(IDENTITY)} is not null`,
      fields: {
        v1: { prefix: '', col: col('upn_lc'), rev: col('upn_rev') },
        v2: { prefix: '', col: sql`lower(${data} ->> ${keyOf(IDENTITY)})`, rev: null },
        v3: { prefix: '', col: sql.raw(`'userprincipalname'`), rev: null },
      },
    },
  };
}
