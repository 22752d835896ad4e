// People search for signed-in users (`GET /me/people`): the people of the caller's own tenant that its
// address list shows, as Graph's person objects, ranked. It reads SQL on the committed rows, so a user the
// sync engine wrote is found as soon as its transaction commits (Microsoft quotes up to 24 hours).
import type { Actor } from '../directory/access.js';
import { errors } from '../domain/errors.js';
import { prefixUpperBound } from '../domain/odata.js';
import type { User } from '../domain/user.js';
import { run, type Sql, sql } from '../store/query/sqlText.js';
import { userOfRow } from '../store/repos/users.js';
import type { UserRow } from '../store/schema.js';
import type { Db } from '../store/store.js';
import { tenantNo } from '../store/repos/tenantKeys.js';

/** Graph's page size for people when `$top` is absent. */
export const DEFAULT_PEOPLE_TOP = 10;
/** Largest page; the same bound as directory collections. */
export const MAX_PEOPLE_TOP = 999;
// A search answers its first 10,000 ranked people at most: past that, OFFSET makes every page cost the
// rows before it, and nobody pages a people picker that deep.
export const MAX_PEOPLE_WINDOW = 10_000;
/** Longest search text; displayName, the longest searched property, is at most 256 characters. */
const MAX_SEARCH = 256;

/** The person properties Graph's metadata declares (entity `person`), in its order. */
export const personProperties = [
  'id', 'birthday', 'companyName', 'department', 'displayName', 'givenName', 'imAddress', 'isFavorite', 'jobTitle', 'officeLocation',
  'personNotes', 'personType', 'phones', 'postalAddresses', 'profession', 'scoredEmailAddresses', 'surname', 'userPrincipalName',
  'websites', 'yomiCompany',
] as const;
export const personPropertySet: ReadonlySet<string> = new Set(personProperties);
/** What a default guest may see of another user (displayName, email, sign-in name: §7), in person terms. */
const guestVisible = new Set(['id', 'displayName', 'scoredEmailAddresses', 'userPrincipalName', 'personType']);

export type Person = Record<string, unknown>;

export interface PeopleQuery {
  /** A name or address prefix, quoted or not. */
  search?: string;
  top: number;
  skip: number;
  select?: readonly string[];
}

export interface PeoplePage {
  value: Person[];
  /** Whether ranked people follow this page (a next page exists). */
  more: boolean;
}

/** How a person's entry came to match: an exact name, a name prefix, an address prefix (or no search). */
type Tier = 0 | 1 | 2;
// Graph's scores are relative; these keep the tiers' order visible to a client that sorts by score.
const SCORES: Record<Tier, number> = { 0: 10, 1: 8, 2: 6 };

/** `$search` text as Graph accepts it: `"ann"` or `ann`, spaces kept, case folded. */
export function normalizeSearch(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let s = raw.trim();
  if (s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1).replace(/\\(["\\])/g, '$1').trim();
  if (s.length > MAX_SEARCH) throw errors.badRequest(`The search text is longer than ${MAX_SEARCH} characters.`);
  if (s.includes('\u0000')) throw errors.badRequest('The search text is invalid.');
  return s === '' ? undefined : s.toLowerCase();
}

const range = (col: Sql, p: string): Sql => {
  const upper = prefixUpperBound(p);
  return upper === null ? sql`${col} >= ${p}` : sql`(${col} >= ${p} and ${col} < ${upper})`;
};

/**
 * Shown in the address list: `showInAddressList` true, or unset on an internal member (Entra lists
 * internal members by default and hides B2B users unless it is set, §6/§7).
 */
const listed = sql`(show_in_address_list = 1 or (show_in_address_list is null and user_type = 'member' and home_tenant_id is null
  and coalesce(creation_type, '') <> 'invitation'))`;

interface Found {
  row: UserRow;
  tier: Tier;
}

async function ranked(db: Db, tenantId: string, meId: string, search: string | undefined, extra: Sql, limit: number, offset: number): Promise<Found[]> {
  // The caller always finds itself, listed or not (a guest is hidden from the address list by default).
  const no = await tenantNo(db, tenantId);
  const base = sql`tenant_no = ${no} and deleted_at is null and account_enabled = 1 and (${listed} or id = ${meId})${extra}`;
  if (search === undefined) {
    // displayName is required on every user, so the (tenant, displayName, id) index yields the page in order.
    const rows = await run<UserRow>(db, sql`select * from users where ${base}
      order by display_name_lc, id limit ${sql.int(limit)} offset ${sql.int(offset)}`);
    return rows.map((row) => ({ row, tier: 2 }));
  }
  const names = [range(sql`given_name_lc`, search), range(sql`surname_lc`, search), range(sql`display_name_lc`, search)];
  // Candidates come branch by branch off each column's prefix index (one OR over five columns scans the
  // tenant: 45 ms at 100k users); only the matches are filtered, ranked and sorted.
  const branches = [...names, range(sql`mail_lc`, search), range(sql`upn_lc`, search)]
    .map((r) => sql`select id from users where tenant_no = ${no} and ${r}`);
  // The sort holds only keys; the page's rows are read after it. Cost grows with the matches, not the tenant:
  // ~5 µs a match on SQLite ("a" among 100k users, 10k matches: ~50 ms; a full name: < 1 ms).
  const rows = await run<UserRow & { tier: number }>(db, sql`select u.*, p.tier from (select id, case
      when display_name_lc = ${search} or given_name_lc = ${search} or surname_lc = ${search} then 0
      when ${sql.join(names, sql` or `)} then 1 else 2 end as tier, display_name_lc as k
    from users where ${base} and id in (${sql.join(branches, sql` union `)})
    order by tier, k, id limit ${sql.int(limit)} offset ${sql.int(offset)}) p
    join users u on u.tenant_no = ${no} and u.id = p.id order by p.tier, p.k, p.id`);
  return rows.map(({ tier, ...row }) => ({ row: row as UserRow, tier: Number(tier) as Tier }));
}

/** Internal users are `OrganizationUser` as in Graph; B2B users carry their kind (docs/graph-api.md). */
export function personSubclass(row: Pick<UserRow, 'home_tenant_id' | 'creation_type' | 'user_type'>): string {
  const b2b = row.home_tenant_id !== null || row.creation_type === 'invitation';
  if (row.user_type === 'guest') return b2b ? 'ExternalGuest' : 'Guest';
  return b2b ? 'ExternalMember' : 'OrganizationUser';
}

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export function toPerson(row: UserRow, tier: Tier): Person {
  const u: User = userOfRow(row);
  const address = text(u.mail);
  const phones: Person[] = [];
  for (const n of Array.isArray(u.businessPhones) ? u.businessPhones : []) phones.push({ type: 'business', number: n, language: null, region: null });
  if (text(u.mobilePhone)) phones.push({ type: 'mobile', number: u.mobilePhone, language: null, region: null });
  const postal = { street: text(u.streetAddress), city: text(u.city), state: text(u.state), postalCode: text(u.postalCode), countryOrRegion: text(u.country) };
  const hasPostal = Object.values(postal).some((v) => v !== null);
  return {
    id: u.id,
    displayName: u.displayName ?? null,
    givenName: text(u.givenName),
    surname: text(u.surname),
    birthday: null,
    personNotes: null,
    isFavorite: false,
    jobTitle: text(u.jobTitle),
    companyName: text(u.companyName),
    yomiCompany: null,
    department: text(u.department),
    officeLocation: text(u.officeLocation),
    profession: null,
    userPrincipalName: u.userPrincipalName,
    imAddress: Array.isArray(u.imAddresses) ? (text(u.imAddresses[0]) ?? null) : null,
    scoredEmailAddresses: address ? [{ address, relevanceScore: SCORES[tier], selectionLikelihood: 'notSpecified' }] : [],
    phones,
    postalAddresses: hasPostal ? [{ address: postal, locationType: 'businessAddress' }] : [],
    websites: [],
    personType: { class: 'Person', subclass: personSubclass(row) },
  };
}

const pick = (p: Person, keys: readonly string[]): Person => {
  const out: Person = {};
  for (const k of keys) out[k] = p[k] ?? null;
  return out;
};

/**
 * The caller's people. Members (and guests with member rights) search everyone the address list shows;
 * a default guest cannot enumerate (§7), so it finds another person only by the full address (mail or
 * UPN), as it may look up a user it already knows, and sees the guest property set; a restricted guest
 * (or a member barred from reading other users) finds only itself.
 */
export async function searchPeople(db: Db, tenantId: string, actor: Actor, q: PeopleQuery): Promise<PeoplePage> {
  const me = actor.user;
  if (actor.principal.kind !== 'user' || !me) throw errors.badRequest('/me request is only valid with delegated authentication flow.');
  if (q.skip + q.top > MAX_PEOPLE_WINDOW) {
    throw errors.badRequest(`$skip plus $top may be at most ${MAX_PEOPLE_WINDOW}: a search answers its first ${MAX_PEOPLE_WINDOW} people.`);
  }
  const search = normalizeSearch(q.search);
  let extra = sql.empty;
  if (actor.readLevel === 'self') extra = sql` and id = ${me.user.id}`;
  else if (actor.readLevel === 'byIdLimited') {
    extra = search === undefined ? sql` and id = ${me.user.id}` : sql` and (id = ${me.user.id} or mail_lc = ${search} or upn_lc = ${search})`;
  }
  const found = await ranked(db, tenantId, me.user.id, search, extra, q.top + 1, q.skip);
  const limited = actor.readLevel === 'byIdLimited';
  const value = found.slice(0, q.top).map(({ row, tier }) => {
    const person = toPerson(row, tier);
    const keys = (q.select ?? personProperties).filter((k) => !limited || row.id === me.user.id || guestVisible.has(k));
    return pick(person, keys.includes('id') ? keys : ['id', ...keys]);
  });
  return { value, more: found.length > q.top };
}
