// The readiness report's reads: one statement per tenant (or per chunk of ids), narrow columns only, so
// 10 tenants × 10,000 people (a million user rows with the B2B copies) are read without a query per cell.
import { run, sql } from '../store/query/sqlText.js';
import type { Db } from '../store/store.js';
import { tenantNo } from '../store/repos/tenantKeys.js';

export interface UserFacts {
  tenantId: string;
  id: string;
  displayName: string | null;
  upn: string;
  mail: string | null;
  userType: 'member' | 'guest';
  enabled: boolean;
  /** show_in_address_list: 1, 0 or null. */
  listed: number | null;
  deleted: boolean;
  homeTenantId: string | null;
  homeUserId: string | null;
  creationType: string | null;
  externalUserState: string | null;
}

interface Row {
  id: string; display_name: string | null; upn_lc: string; mail_lc: string | null; user_type: string; account_enabled: number | string;
  show_in_address_list: number | string | null; deleted_at: string | null; home_tenant_id: string | null; home_user_id: string | null;
  creation_type: string | null; external_user_state: string | null; data?: string;
}

const cols = sql`id, display_name_lc as display_name, upn_lc, mail_lc, user_type, account_enabled, show_in_address_list, deleted_at,
  home_tenant_id, home_user_id, creation_type, external_user_state`;

const displayNameOf = (r: Row): string | null => {
  if (r.data === undefined) return r.display_name;
  // A lower-case displayName is not repeated in `data` (store/repos/userData.ts): its column holds it.
  const stored = JSON.parse(r.data) as { displayName?: unknown };
  const name = 'displayName' in stored ? stored.displayName : r.display_name;
  return typeof name === 'string' ? name : null;
};

const facts = (tenantId: string, r: Row): UserFacts => ({
  tenantId, id: r.id, displayName: displayNameOf(r), upn: r.upn_lc, mail: r.mail_lc, userType: r.user_type === 'guest' ? 'guest' : 'member',
  enabled: Number(r.account_enabled) === 1, listed: r.show_in_address_list === null ? null : Number(r.show_in_address_list),
  deleted: r.deleted_at !== null, homeTenantId: r.home_tenant_id, homeUserId: r.home_user_id, creationType: r.creation_type,
  externalUserState: r.external_user_state,
});

/** A B2B user: linked to a home tenant, or created by an invitation. */
export const isB2b = (u: Pick<UserFacts, 'homeTenantId' | 'creationType'>) => u.homeTenantId !== null || u.creationType === 'invitation';

/** Listed and live: exactly the rows people search returns (collaboration/people.ts). */
export const findable = (u: UserFacts) =>
  !u.deleted && u.enabled && (u.listed === 1 || (u.listed === null && u.userType === 'member' && !isB2b(u)));

export const readinessReads = {
  /** A tenant's B2B and guest users (live and soft-deleted): the rows a person can be represented by. */
  async external(db: Db, tenantId: string): Promise<UserFacts[]> {
    const rows = await run<Row>(db, sql`select ${cols} from users where tenant_no = ${await tenantNo(db, tenantId)}
      and (home_tenant_id is not null or creation_type = 'invitation' or user_type = 'guest')`);
    return rows.map((r) => facts(tenantId, r));
  },
  /** Users by id (live and soft-deleted) with their displayName as written, 500 ids a statement. */
  async byIds(db: Db, tenantId: string, ids: readonly string[]): Promise<UserFacts[]> {
    const out: UserFacts[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = await run<Row>(db, sql`select ${cols}, data from users where tenant_no = ${await tenantNo(db, tenantId)} and id in (${sql.join(chunk)})`);
      out.push(...rows.map((r) => facts(tenantId, r)));
    }
    return out;
  },
  /** Live internal members (SyncAll configurations make every one of them eligible). */
  async internalMembers(db: Db, tenantId: string): Promise<UserFacts[]> {
    const rows = await run<Row>(db, sql`select ${cols} from users where tenant_no = ${await tenantNo(db, tenantId)} and deleted_at is null and user_type = 'member'
      and home_tenant_id is null and coalesce(creation_type, '') <> 'invitation'`);
    return rows.map((r) => facts(tenantId, r));
  },
  /** Direct user members of these groups. */
  async groupUsers(db: Db, tenantId: string, groupIds: readonly string[]): Promise<string[]> {
    if (!groupIds.length) return [];
    const rows = await run<{ member_id: string }>(db, sql`select distinct member_id from group_members where tenant_no = ${await tenantNo(db, tenantId)}
      and group_id in (${sql.join(groupIds)}) and member_type = 'user'`);
    return rows.map((r) => r.member_id);
  },
  /** The users of a tenant that may represent one person: linked to them, or holding their mail or UPN as mail. */
  async representing(db: Db, tenantId: string, homeTenantId: string, homeUserId: string, addresses: readonly string[]): Promise<UserFacts[]> {
    const byMail = addresses.length ? sql` or (home_tenant_id is null and mail_lc in (${sql.join(addresses)}))` : sql.empty;
    const rows = await run<Row>(db, sql`select ${cols} from users where tenant_no = ${await tenantNo(db, tenantId)}
      and ((home_tenant_id = ${homeTenantId} and home_user_id = ${homeUserId})${byMail})`);
    return rows.map((r) => facts(tenantId, r));
  },
  /** The tenant holding a user id, or a UPN, among these tenants. */
  async locate(db: Db, tenantIds: readonly string[], ref: string): Promise<{ tenantId: string; id: string }[]> {
    if (!tenantIds.length) return [];
    const key = ref.toLowerCase();
    const by = key.includes('@') ? sql`u.upn_lc = ${key}` : sql`u.id = ${key}`;
    return run<{ tenantId: string; id: string }>(db, sql`select t.id as "tenantId", u.id as id from users u join tenants t on t.no = u.tenant_no
      where t.id in (${sql.join(tenantIds)}) and ${by}`);
  },
};
