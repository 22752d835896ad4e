// Readiness of a multi-tenant organization: the collaborating user set (every person any tenant shares)
// against every active tenant, one cell per (person, tenant), and per tenant the share of people its
// people search finds. Reads are batched per tenant (readinessReads.ts): the cost grows with the rows,
// not with people × tenants queries.
import { errors } from '../domain/errors.js';
import { appRoleAssignmentsRepo } from '../store/repos/appRoleAssignments.js';
import { documentsRepo } from '../store/repos/documents.js';
import { mtoRepo } from '../store/repos/mto.js';
import { servicePrincipalsRepo } from '../store/repos/servicePrincipals.js';
import { type SyncJobRecord, syncRepo } from '../store/repos/sync.js';
import { tenantsRepo } from '../store/repos/tenants.js';
import type { Db } from '../store/store.js';
import { SECRETS_KIND } from '../sync/index.js';
import { findable, isB2b, readinessReads, type UserFacts } from './readinessReads.js';
import { readScope } from './shareScope.js';

export const cellStates = [
  'home', 'b2bMember', 'b2bMemberPendingRedemption', 'b2bGuest', 'hiddenFromAddressList', 'disabled', 'softDeleted', 'missing',
] as const;
export type CellState = (typeof cellStates)[number];

export interface ReadinessPerson {
  id: string;
  homeTenantId: string;
  displayName: string | null;
  userPrincipalName: string;
  mail: string | null;
}

export interface ReadinessCell {
  personId: string;
  tenantId: string;
  state: CellState;
  /** People search in this tenant returns the person (collaboration/people.ts applies the same rule). */
  findable: boolean;
  /** The user representing the person in this tenant, if any. */
  userId: string | null;
}

export interface ReadinessTenant {
  tenantId: string;
  displayName: string;
  domain: string;
  people: number;
  findable: number;
  /** findable ÷ people (1 when nobody is shared). */
  coverage: number;
}

export interface ReadinessReport {
  mtoId: string;
  displayName: string;
  people: ReadinessPerson[];
  tenants: ReadinessTenant[];
  cells: ReadinessCell[];
}

/** A source tenant's configuration to another tenant of the organization, as far as readiness needs it. */
export interface OutboundConfiguration {
  sourceTenantId: string;
  targetTenantId: string;
  servicePrincipalId: string;
  name: string;
  job: SyncJobRecord;
  syncAll: boolean;
  /** User ids the configuration covers (assigned, through an assigned group, or every internal member with SyncAll). */
  covers: Set<string>;
}

export interface Organization {
  mtoId: string;
  displayName: string;
  tenants: { tenantId: string; displayName: string; domain: string }[];
}

/** The organization named by its id, or the one a tenant (id or domain) is an active member of. */
export async function resolveOrganization(db: Db, ref: string): Promise<Organization> {
  let mtoId: string | undefined = (await mtoRepo.organization(db, ref))?.id;
  if (!mtoId) {
    const tenant = await tenantsRepo.find(db, ref);
    if (tenant) mtoId = (await mtoRepo.memberships(db, tenant.id)).find((m) => m.state === 'active')?.mtoId;
    if (tenant && !mtoId) throw errors.badRequest(`Tenant '${ref}' is not an active member of a multi-tenant organization.`);
  }
  const org = mtoId ? await mtoRepo.organization(db, mtoId) : undefined;
  if (!org) throw errors.notFound(ref);
  const tenants: Organization['tenants'] = [];
  for (const m of await mtoRepo.membersOf(db, org.id)) {
    if (m.state !== 'active') continue;
    const t = await tenantsRepo.find(db, m.tenantId);
    if (t) tenants.push({ tenantId: t.id, displayName: t.displayName, domain: t.domain });
  }
  return { mtoId: org.id, displayName: org.displayName, tenants };
}

const secretValue = (pairs: { key: string; value: string | null }[], key: string) =>
  pairs.find((p) => p.key.toLowerCase() === key.toLowerCase())?.value ?? null;

/** The source tenant's started configurations whose target is another tenant of the organization. */
export async function outboundConfigurations(db: Db, sourceTenantId: string, targets: ReadonlySet<string>): Promise<OutboundConfiguration[]> {
  const out: OutboundConfiguration[] = [];
  let internal: string[] | undefined;
  for (const job of await syncRepo.jobsOfTenant(db, sourceTenantId)) {
    const secrets = (await documentsRepo.get<{ value: { key: string; value: string | null }[] }>(db, sourceTenantId, SECRETS_KIND, job.spId))?.value ?? [];
    const target = secretValue(secrets, 'CompanyId')?.toLowerCase();
    if (!target || target === sourceTenantId || !targets.has(target)) continue;
    const sp = await servicePrincipalsRepo.get(db, sourceTenantId, job.spId);
    const syncAll = secretValue(secrets, 'SyncAll')?.toLowerCase() === 'true';
    let covers: Set<string>;
    if (syncAll) {
      internal ??= (await readinessReads.internalMembers(db, sourceTenantId)).map((u) => u.id);
      covers = new Set(internal);
    } else {
      const principals = await appRoleAssignmentsRepo.principalsOf(db, sourceTenantId, job.spId);
      const groups = principals.filter((p) => p.principalType === 'Group').map((p) => p.principalId);
      covers = new Set([...principals.filter((p) => p.principalType === 'User').map((p) => p.principalId), ...(await readinessReads.groupUsers(db, sourceTenantId, groups))]);
    }
    out.push({ sourceTenantId, targetTenantId: target, servicePrincipalId: job.spId, name: sp?.displayName ?? job.spId, job, syncAll, covers });
  }
  return out;
}

/** Started: not Disabled (a paused job was started and still holds its people; readiness explains the pause). */
export const isStarted = (c: OutboundConfiguration) => c.job.scheduleState !== 'Disabled';

/** What a tenant shares: its shared scope (Share users) and whoever a started configuration to the organization covers. */
export async function sharedBy(db: Db, tenantId: string, configs: readonly OutboundConfiguration[]): Promise<Set<string>> {
  const ids = new Set<string>();
  const scope = await readScope(db, tenantId);
  if (scope) {
    for (const u of scope.users) ids.add(u);
    for (const u of await readinessReads.groupUsers(db, tenantId, scope.groups)) ids.add(u);
  }
  for (const c of configs) if (isStarted(c)) for (const u of c.covers) ids.add(u);
  return ids;
}

export function classify(u: UserFacts, home: boolean): CellState {
  if (u.deleted) return 'softDeleted';
  if (!u.enabled) return 'disabled';
  if (home) return findable(u) ? 'home' : 'hiddenFromAddressList';
  if (u.userType === 'guest') return 'b2bGuest';
  if (!findable(u)) return 'hiddenFromAddressList';
  return u.externalUserState === 'pendingacceptance' ? 'b2bMemberPendingRedemption' : 'b2bMember';
}

/** Where a tenant's B2B users are looked up: by the home link, then by address (unredeemed invitations). */
export class Representations {
  private readonly byHome = new Map<string, UserFacts>();
  private readonly byAddress = new Map<string, UserFacts>();

  constructor(users: readonly UserFacts[]) {
    // A live user wins over a soft-deleted one for the same person.
    const put = (m: Map<string, UserFacts>, k: string, u: UserFacts) => {
      const had = m.get(k);
      if (!had || (had.deleted && !u.deleted)) m.set(k, u);
    };
    for (const u of users) {
      if (u.homeTenantId && u.homeUserId) put(this.byHome, `${u.homeTenantId}/${u.homeUserId}`, u);
      else if (u.mail) put(this.byAddress, u.mail, u);
    }
  }

  find(p: ReadinessPerson): UserFacts | undefined {
    return this.byHome.get(`${p.homeTenantId}/${p.id}`) ?? (p.mail ? this.byAddress.get(p.mail.toLowerCase()) : undefined)
      ?? this.byAddress.get(p.userPrincipalName.toLowerCase());
  }
}

export interface ReadinessState {
  org: Organization;
  report: ReadinessReport;
  configs: OutboundConfiguration[];
  homeFacts: Map<string, UserFacts>;
}

/** Narrows the state to one person in a few tenants (an explanation): the same rules, a handful of rows. */
export interface ReadinessFocus {
  personId: string;
  tenantIds: ReadonlySet<string>;
}

/** The report and what explanations need beside it. */
export async function readinessState(db: Db, orgRef: string, focus?: ReadinessFocus): Promise<ReadinessState> {
  const org = await resolveOrganization(db, orgRef);
  const ids = new Set(org.tenants.map((t) => t.tenantId));
  const configs: OutboundConfiguration[] = [];
  const homeFacts = new Map<string, UserFacts>();
  const people: ReadinessPerson[] = [];
  for (const t of org.tenants) {
    const own = await outboundConfigurations(db, t.tenantId, new Set([...ids].filter((x) => x !== t.tenantId)));
    configs.push(...own);
    let shared = [...(await sharedBy(db, t.tenantId, own))].sort();
    if (focus) shared = shared.filter((id) => id === focus.personId);
    for (const u of await readinessReads.byIds(db, t.tenantId, shared)) {
      // The engine provisions internal members only: a B2B user assigned to a configuration is nobody's person.
      if (isB2b(u) || u.userType !== 'member') continue;
      homeFacts.set(u.id, u);
      people.push({ id: u.id, homeTenantId: t.tenantId, displayName: u.displayName, userPrincipalName: u.upn, mail: u.mail });
    }
  }
  // Code-point order, as people search ties: localeCompare costs ~1 µs a comparison, seconds at 100,000 people.
  const keyOf = new Map(people.map((p) => [p.id, (p.displayName ?? '').toLowerCase()]));
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  people.sort((a, b) => cmp(keyOf.get(a.id)!, keyOf.get(b.id)!) || cmp(a.id, b.id));
  const cells: ReadinessCell[] = [];
  const tenants: ReadinessTenant[] = [];
  for (const t of org.tenants) {
    if (focus && !focus.tenantIds.has(t.tenantId)) continue;
    const [only] = focus ? people : [];
    const reps = new Representations(only
      ? await readinessReads.representing(db, t.tenantId, only.homeTenantId, only.id, [...new Set([only.mail, only.userPrincipalName].filter((a): a is string => Boolean(a)))])
      : await readinessReads.external(db, t.tenantId));
    let found = 0;
    for (const p of people) {
      const u = p.homeTenantId === t.tenantId ? homeFacts.get(p.id) : reps.find(p);
      const state: CellState = u ? classify(u, p.homeTenantId === t.tenantId) : 'missing';
      const isFindable = u ? findable(u) : false;
      if (isFindable) found += 1;
      cells.push({ personId: p.id, tenantId: t.tenantId, state, findable: isFindable, userId: u?.id ?? null });
    }
    tenants.push({ ...t, people: people.length, findable: found, coverage: people.length ? found / people.length : 1 });
  }
  return { org, configs, homeFacts, report: { mtoId: org.mtoId, displayName: org.displayName, people, tenants, cells } };
}

export async function readinessReport(db: Db, orgRef: string): Promise<ReadinessReport> {
  return (await readinessState(db, orgRef)).report;
}

const csvField = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** One row per cell, with the person and tenant named; RFC 4180 quoting. */
export function readinessCsv(r: ReadinessReport): string {
  const people = new Map(r.people.map((p) => [p.id, p]));
  const tenants = new Map(r.tenants.map((t) => [t.tenantId, t]));
  const lines = [['personId', 'displayName', 'userPrincipalName', 'homeTenantId', 'tenantId', 'tenant', 'state', 'findable', 'userId'].join(',')];
  for (const c of r.cells) {
    const p = people.get(c.personId);
    lines.push([c.personId, p?.displayName, p?.userPrincipalName, p?.homeTenantId, c.tenantId, tenants.get(c.tenantId)?.displayName, c.state, c.findable, c.userId]
      .map(csvField).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
