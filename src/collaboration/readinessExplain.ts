// Why a signed-in user (the searcher) does or does not find a person with people search in the searcher's
// tenant, in an admin's words, with what to change. Reads the same state as the report, plus the sync
// configuration from the person's home tenant to the searcher's tenant, its partner policy and its log.
import { authorizationPolicy, guestRoles } from '../directory/access.js';
import { errors } from '../domain/errors.js';
import { adminRoles } from '../identity/permissions.js';
import { effectivePartnerSettings } from '../policy/partners.js';
import { syncRepo } from '../store/repos/sync.js';
import { usersRepo } from '../store/repos/users.js';
import type { Db } from '../store/store.js';
import {
  type CellState, classify, isStarted, type OutboundConfiguration, type ReadinessPerson, Representations, readinessState, resolveOrganization,
} from './readiness.js';
import { findable, readinessReads } from './readinessReads.js';

export interface Explanation {
  searcher: { id: string; userPrincipalName: string; tenantId: string; tenant: string };
  person: { id: string; userPrincipalName: string; displayName: string | null; homeTenantId: string };
  /** The person's cell in the searcher's tenant, and the user representing them there. */
  state: CellState;
  userId: string | null;
  canFind: boolean;
  /** Sentences, most important first: the cause, then what to change. */
  reasons: string[];
}

interface Status {
  code?: string;
  quarantine?: { reason?: string; error?: { code?: string; message?: string } | null } | null;
}

/** The configuration's side of a missing or stale person: not covered, not started, paused, quarantined, blocked, failed. */
async function configurationCauses(db: Db, p: ReadinessPerson, name: string, home: string, target: string, targetName: string,
  configs: readonly OutboundConfiguration[]): Promise<string[]> {
  const own = configs.filter((c) => c.sourceTenantId === p.homeTenantId && c.targetTenantId === target);
  if (!own.length) {
    return [`${home} has no sync configuration to ${targetName}: share ${name} (openmto share add --tenant ${home} --user ${p.userPrincipalName}) `
      + `or create a cross-tenant sync configuration from ${home} to ${targetName}.`];
  }
  const covering = own.filter((c) => c.covers.has(p.id));
  if (!covering.length) {
    return [`${name} is not in the scope of ${own.map((c) => c.name).join(', ')} in ${home}: share ${name} `
      + `(openmto share add --tenant ${home} --user ${p.userPrincipalName}), or assign ${name} or one of ${name}'s groups to the configuration.`];
  }
  const out: string[] = [];
  for (const c of covering) {
    const status = c.job.status as Status;
    if (!isStarted(c)) out.push(`The configuration ${c.name} in ${home} has never been started: start its job (POST …/jobs/${c.job.id}/start).`);
    else if (c.job.scheduleState === 'Paused') out.push(`The configuration ${c.name} in ${home} is paused: start its job again (POST …/jobs/${c.job.id}/start).`);
    if (status.quarantine) {
      const e = status.quarantine.error;
      out.push(`The configuration ${c.name} in ${home} is in quarantine (${status.quarantine.reason ?? 'unknown reason'}${e ? `: ${e.code}: ${e.message}` : ''}): `
        + 'fix the cause, then restart the job.');
    }
    const policy = await effectivePartnerSettings(db, target, p.homeTenantId);
    if (!policy.userSyncInbound) {
      out.push(`${targetName} does not allow users to sync in from ${home}: in ${targetName}, set the partner policy's identitySynchronization userSyncInbound.isSyncAllowed to true.`);
    }
    if (!policy.automaticUserConsent.inboundAllowed) {
      out.push(`${targetName} does not accept automatic redemption from ${home}: in ${targetName}, set automaticUserConsentSettings.inboundAllowed to true.`);
    }
    const held = (await syncRepo.held(db, p.homeTenantId, c.job.id, [p.id])).get(p.id);
    if (held?.state === 'escrow') {
      out.push(`Provisioning ${name} to ${targetName} failed and is retried (${held.attempts} attempts${held.nextAttempt ? `, next at ${held.nextAttempt}` : ''}): `
        + `${held.data.code ?? 'error'}: ${held.data.message ?? ''}`.trim());
    } else if (held?.state === 'staged') {
      out.push(`Deleting ${name} in ${targetName} waits for the accidental-deletion guard of ${c.name}: approve or discard the staged deletions.`);
    }
    const [failed] = await syncRepo.logPage(db, p.homeTenantId, { jobId: c.job.id, sourceId: p.id, status: 'failure', limit: 1 });
    if (failed && held?.state !== 'escrow') out.push(`The provisioning log's last failure for ${name} (${failed.at}): ${failureText(failed.data)}`);
  }
  if (!out.length) out.push(`${covering.map((c) => c.name).join(', ')} covers ${name} and runs: ${name} appears in ${targetName} with its next cycle (seconds).`);
  return out;
}

function failureText(data: string): string {
  try {
    const d = JSON.parse(data) as { provisioningStatusInfo?: { errorInformation?: { errorCode?: string; reason?: string } } };
    const e = d.provisioningStatusInfo?.errorInformation;
    return e ? `${e.errorCode ?? 'error'}: ${e.reason ?? ''}`.trim() : 'failed';
  } catch {
    return 'failed';
  }
}

/** The explanation for (searcher, person); each named by user id or UPN in any tenant of the organization. */
export async function explainReadiness(db: Db, orgRef: string, searcherRef: string, personRef: string): Promise<Explanation> {
  const org = await resolveOrganization(db, orgRef);
  const tenantIds = org.tenants.map((t) => t.tenantId);
  const tenantName = (id: string) => org.tenants.find((t) => t.tenantId === id)?.displayName ?? id;
  const [searcherAt] = await readinessReads.locate(db, tenantIds, searcherRef);
  if (!searcherAt) throw errors.badRequest(`The searcher '${searcherRef}' is not a user of a tenant of this organization.`);
  const searcher = (await usersRepo.get(db, searcherAt.tenantId, searcherAt.id)) ?? (await usersRepo.get(db, searcherAt.tenantId, searcherAt.id, true));
  if (!searcher) throw errors.notFound(searcherRef);
  // The person: a user by id or UPN; a B2B user stands for its home user.
  const [personAt] = await readinessReads.locate(db, tenantIds, personRef);
  const [personFacts] = personAt ? await readinessReads.byIds(db, personAt.tenantId, [personAt.id]) : [];
  const homeTenantId = personFacts?.homeTenantId && personFacts.homeUserId ? personFacts.homeTenantId : personAt?.tenantId;
  const homeId = personFacts?.homeTenantId && personFacts.homeUserId ? personFacts.homeUserId : personAt?.id;
  const { report, configs } = await readinessState(db, org.mtoId, {
    personId: homeId ?? '', tenantIds: new Set([searcherAt.tenantId, ...(homeTenantId ? [homeTenantId] : [])]),
  });
  const target = searcher.tenantId;
  const targetName = tenantName(target);
  const s = searcher.user;
  const searcherView = { id: s.id, userPrincipalName: s.userPrincipalName, tenantId: target, tenant: targetName };
  if (!homeTenantId || !homeId) throw errors.badRequest(`The person '${personRef}' is not a user of a tenant of this organization.`);
  let person = report.people.find((p) => p.id === homeId);
  let cell = report.cells.find((c) => c.personId === homeId && c.tenantId === target);
  const shared = Boolean(person);
  if (!person) {
    // Not (or no longer) shared: the same cell, read for this one person.
    const [u] = await readinessReads.byIds(db, homeTenantId, [homeId]);
    if (!u) throw errors.notFound(personRef);
    const p: ReadinessPerson = { id: homeId, homeTenantId, displayName: u.displayName, userPrincipalName: u.upn, mail: u.mail };
    const addresses = [...new Set([p.mail, p.userPrincipalName].filter((x): x is string => Boolean(x)))];
    const rep = homeTenantId === target ? u : new Representations(await readinessReads.representing(db, target, homeTenantId, homeId, addresses)).find(p);
    cell = { personId: homeId, tenantId: target, state: rep ? classify(rep, homeTenantId === target) : 'missing', findable: rep ? findable(rep) : false, userId: rep?.id ?? null };
    person = p;
  }
  const name = person.displayName ?? person.userPrincipalName;
  const home = tenantName(person.homeTenantId);
  const state: CellState = cell?.state ?? 'missing';
  const reasons: string[] = [];
  // The searcher's own rights come first: a guest cannot browse the address list at all.
  const searcherName = s.displayName ?? s.userPrincipalName;
  const isAdmin = searcher.roles.some((r) => adminRoles.has(r));
  const policy = await authorizationPolicy(db, target);
  let searcherOk = true;
  if (s.deletedDateTime) { searcherOk = false; reasons.push(`${searcherName} is deleted in ${targetName}: restore the user from deleted items.`); }
  else if (!s.accountEnabled) { searcherOk = false; reasons.push(`${searcherName} is disabled in ${targetName}: enable the account (accountEnabled true).`); }
  else if (!isAdmin && s.userType === 'Guest' && policy.guestUserRoleId !== guestRoles.member) {
    searcherOk = false;
    const how = policy.guestUserRoleId === guestRoles.restricted ? 'restricted guests see only themselves' : 'guests find others only by their full email address';
    reasons.push(`${searcherName} is a Guest in ${targetName} and ${how}: PATCH ${searcherName}'s userType to Member (or make the userType mapping of the configuration `
      + `that provisions them apply Always), or set the authorization policy's guestUserRoleId to User (${guestRoles.member}).`);
  } else if (!isAdmin && s.userType === 'Member' && !policy.defaultUserRolePermissions.allowedToReadOtherUsers) {
    searcherOk = false;
    reasons.push(`Members of ${targetName} may not read other users (defaultUserRolePermissions.allowedToReadOtherUsers is false): set it to true.`);
  }
  if (!shared && person.homeTenantId !== target) reasons.push(`${name} is not in the collaborating user set: ${home} does not share ${name}.`);
  switch (state) {
    case 'home': case 'b2bMember': case 'b2bMemberPendingRedemption':
      if (state === 'b2bMemberPendingRedemption') reasons.push(`${name} is a B2B member of ${targetName} who has not redeemed the invitation yet; people search finds them already.`);
      break;
    case 'b2bGuest':
      reasons.push(`${name} is a Guest in ${targetName}: make the userType mapping of ${home}'s configuration to ${targetName} apply Always, or PATCH ${name}'s userType to Member`
        + `${cell?.findable ? '' : ' (guests are hidden from the address list: set showInAddressList to true as well)'}.`);
      break;
    case 'hiddenFromAddressList':
      reasons.push(`${name} is hidden from the address list in ${targetName}: PATCH showInAddressList to true`
        + `${person.homeTenantId === target ? '' : ` (or map showInAddressList "true" with flowType Always in ${home}'s configuration)`}.`);
      break;
    case 'disabled': {
      const homeDisabled = person.homeTenantId !== target && report.cells.find((c) => c.personId === person.id && c.tenantId === person.homeTenantId)?.state === 'disabled';
      reasons.push(`${name}'s user in ${targetName} is disabled: ${homeDisabled ? `${name} is disabled at home in ${home} and sync carries it over; enable ${name} in ${home}` : 'PATCH accountEnabled to true'}.`);
      break;
    }
    case 'softDeleted':
      reasons.push(person.homeTenantId === target
        ? `${name} is deleted in ${targetName}: restore the user from deleted items (30 days).`
        : `${name}'s user in ${targetName} is soft-deleted (unshared, out of scope, or deleted at home): share ${name} again from ${home}, or restore the user from deleted items in ${targetName}.`);
      if (person.homeTenantId !== target) reasons.push(...(await configurationCauses(db, person, name, home, target, targetName, configs)));
      break;
    case 'missing':
      reasons.push(`${name} has no user in ${targetName}.`, ...(await configurationCauses(db, person, name, home, target, targetName, configs)));
      break;
  }
  const canFind = searcherOk && Boolean(cell?.findable);
  if (canFind && !reasons.length) reasons.push(`${searcherName} finds ${name} in ${targetName} (${state === 'home' ? 'an internal member' : 'a B2B member'}).`);
  return {
    searcher: searcherView,
    person: { id: person.id, userPrincipalName: person.userPrincipalName, displayName: person.displayName, homeTenantId: person.homeTenantId },
    state, userId: cell?.userId ?? null, canFind, reasons,
  };
}
