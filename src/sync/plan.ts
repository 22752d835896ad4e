// What the engine does with one source user, decided as a pure function of explicit state: the source
// user, whether it is entitled (active, assigned, in scope), the target user linked to it by its anchor
// (the home link) or the target users holding its address, and the job's compiled schema. Only export
// does I/O. An uncertain match is a failure the admin sees, never a guess.
import { writableUserProperties, type User, type UserRecord, type UserType } from '../domain/user.js';
import { b2bMailNickname, b2bUserPrincipalName } from '../b2b/email.js';
import { type ExprValue, evaluateExpression } from './expression/index.js';
import type { ModifiedProperty, ProvisioningAction } from './model.js';
import { type CompiledMapping, type CompiledSchema, sourceReader } from './schema.js';

export type Situation = 'linked' | 'unlinked' | 'unmatched' | 'disputed' | 'deleted';

export interface TargetUser {
  record: UserRecord;
  deleted: boolean;
}

export interface Entitlement {
  /** The source user exists and is not soft-deleted. */
  active: boolean;
  /** SyncAll, or assigned directly, or a direct member of an assigned group. */
  assigned: boolean;
  scope: { inScope: boolean; results: Record<string, boolean> };
}

export interface PlanInput {
  source: { id: string; user: User | null; deleted: boolean };
  entitlement: Entitlement;
  /** The target user whose home link is this source user (live or soft-deleted). */
  linked?: TargetUser | undefined;
  /** Live target users holding the source's mail or UPN as an address; read only when nothing is linked. */
  candidates: readonly TargetUser[];
  schema: CompiledSchema;
  targetDomain: string;
  now: Date;
  /** The job planning: it deprovisions only target users it provisioned or matched (their `syncJobs`). */
  jobId: string;
}

export type Write =
  | { kind: 'create'; email: string; userType: UserType; props: Record<string, unknown>; upnSource: string; claim: string }
  | {
    kind: 'update'; id: string; props: Record<string, unknown>; restore: boolean; adopt: boolean; upnSource: string | null;
    /** The job taking the user into its care (recorded in the user's `syncJobs`), when it doesn't hold it yet. */
    claim: string | null;
  }
  | { kind: 'softDelete'; id: string };

export interface Plan {
  action: ProvisioningAction | 'skip';
  situation: Situation;
  write?: Write;
  modified: ModifiedProperty[];
  /** Why nothing was written (a skip) or what failed. */
  reason?: { code: string; message: string; failure: boolean };
  /** Deletes and disables count toward the accidental-deletion threshold. */
  destructive: boolean;
  targetId?: string;
}

const skip = (situation: Situation, code: string, message: string, targetId?: string): Plan =>
  ({ action: 'skip', situation, modified: [], reason: { code, message, failure: false }, destructive: false, ...(targetId ? { targetId } : {}) });
const fail = (action: ProvisioningAction, situation: Situation, code: string, message: string, targetId?: string): Plan =>
  ({ action, situation, modified: [], reason: { code, message, failure: true }, destructive: false, ...(targetId ? { targetId } : {}) });

/** How a value shows in modifiedProperties: strings as they are, booleans as Entra writes them. */
export function showValue(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

const booleanTargets = new Set(['accountEnabled', 'showInAddressList']);

class MappingFailure extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** Converts an expression's value to what the target property holds; throws MappingFailure when it can't. */
function coerce(prop: string, v: ExprValue): unknown {
  if (booleanTargets.has(prop)) {
    if (typeof v === 'boolean') return v;
    const s = String(v).toLowerCase();
    if (s === 'true' || s === 'false') return s === 'true';
    throw new MappingFailure('InvalidPropertyValue', `'${String(v)}' is not a valid value for ${prop}: expected True or False.`);
  }
  if (prop === 'userType') {
    const s = String(v).toLowerCase();
    if (s === 'member' || s === 'guest') return s === 'member' ? 'Member' : 'Guest';
    throw new MappingFailure('InvitationCreationFailureInvalidPropertyValue', `'${String(v)}' is not a valid userType: expected Member or Guest.`);
  }
  if (prop === 'businessPhones') return Array.isArray(v) ? v.slice(0, 1).map(String) : [String(v)];
  const value = Array.isArray(v) ? (v[0] ?? null) : typeof v === 'string' ? v : String(v);
  const schema = writableUserProperties[prop as keyof typeof writableUserProperties];
  if (schema && !schema.safeParse(value).success) {
    throw new MappingFailure('InvalidPropertyValue', `The value mapped to ${prop} is not valid for the target (too long or of the wrong shape).`);
  }
  return value;
}

const isEmpty = (v: unknown) => v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0);
const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** Evaluates the mappings that flow in this mode; null values are never written (Entra's rule). */
function desired(mappings: readonly CompiledMapping[], p: PlanInput, current: User | null): { props: Record<string, unknown>; upnSource: string | null } {
  const read = sourceReader(p.source.user as Record<string, unknown>, p.source.deleted);
  const props: Record<string, unknown> = {};
  let upnSource: string | null = null;
  for (const m of mappings) {
    if (m.target === 'alternativesecurityids' || m.target === 'issoftdeleted' || m.target === 'manager') continue;
    if (current) {
      if (m.flowType === 'ObjectAddOnly') continue;
      if ((m.flowType === 'AttributeAddOnly' || m.flowType === 'ValueAddOnly') && !isEmpty(current[m.target])) continue;
    }
    let v: ExprValue | undefined;
    try {
      v = evaluateExpression(m.node, read, { now: p.now });
    } catch (e) {
      throw new MappingFailure('AttributeMappingEvaluationFailure', `The mapping of ${m.target} failed: ${(e as Error).message}`);
    }
    if (v === null || v === undefined || (Array.isArray(v) && v.length === 0)) {
      if (current || m.defaultValue === null) continue;
      v = m.defaultValue;
    }
    if (m.target === 'userPrincipalName') {
      upnSource = String(Array.isArray(v) ? v[0] : v);
      continue;
    }
    let value = coerce(m.target, v);
    if (current && m.flowType === 'MultiValueAddOnly' && Array.isArray(current[m.target]) && Array.isArray(value)) {
      value = [...new Set([...(current[m.target] as unknown[]), ...value])];
    }
    props[m.target] = value;
  }
  return { props, upnSource };
}

/** True when `upn` is one of the forms the engine derives from `source` in a tenant of `domain`. */
export function upnFollows(upn: string, source: string, domain: string): boolean {
  const lc = upn.toLowerCase();
  for (let attempt = 0; attempt < 10; attempt++) if (b2bUserPrincipalName(source, domain, attempt).toLowerCase() === lc) return true;
  return false;
}

const isInternalTarget = (t: TargetUser) => t.record.user.creationType !== 'Invitation' && !t.record.homeTenantId;

export function plan(p: PlanInput): Plan {
  const { entitlement: e, linked } = p;
  const entitled = e.active && e.assigned && e.scope.inScope;
  const sourceUser = p.source.user;
  // A disabled object mapping provisions nothing of its type, not even deletes (Entra: EntityTypeNotSupported).
  if (!p.schema.enabled) {
    return skip(linked ? 'linked' : 'unlinked', 'EntityTypeNotSupported', 'The user object mapping of the schema is disabled: users are not provisioned.', linked?.record.user.id);
  }
  try {
    if (!entitled) {
      if (!linked || linked.deleted) {
        const why = !e.active ? 'The user is deleted in the source.' : !e.assigned ? 'The user is not assigned to the configuration.' : 'The user did not pass the scoping filter.';
        return skip(linked ? 'deleted' : 'unlinked', 'NotEffectivelyEntitled', `${why} Nothing to provision.`, linked?.record.user.id);
      }
      const id = linked.record.user.id;
      if (!linked.record.syncJobs?.includes(p.jobId)) {
        return skip('linked', 'NotEffectivelyEntitled', 'The user is out of this configuration\'s scope, and this configuration did not provision it: it stays as it is.', id);
      }
      // A user disabled in both tenants that then leaves the scope stays as it is (Entra's documented edge).
      if (sourceUser && sourceUser.accountEnabled === false && linked.record.user.accountEnabled === false && e.active) {
        return skip('linked', 'NotEffectivelyEntitled', 'The user is disabled in the source and the target; leaving the scope does not delete it.', id);
      }
      if (!p.schema.actions.delete) {
        return skip('linked', 'SkipDeleteDisabled', "The user left the scope, but the Delete target object action is off: the target user stays.", id);
      }
      return {
        action: 'delete', situation: 'linked', write: { kind: 'softDelete', id }, destructive: true, targetId: id,
        modified: [{ displayName: 'IsSoftDeleted', oldValue: 'False', newValue: 'True' }],
      };
    }
    const src = sourceUser!;
    if (linked) {
      const id = linked.record.user.id;
      if (!p.schema.actions.update) return skip('linked', 'SkipUpdateDisabled', 'The Update target object action is off.', id);
      const current = linked.record.user;
      const want = desired(p.schema.mappings, p, current);
      const modified: ModifiedProperty[] = [];
      const props: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(want.props)) {
        if (!same(current[k], v)) {
          props[k] = v;
          modified.push({ displayName: k, oldValue: showValue(current[k]), newValue: showValue(v) });
        }
      }
      const upnSource = want.upnSource && !upnFollows(current.userPrincipalName, want.upnSource, p.targetDomain) ? want.upnSource : null;
      if (upnSource) modified.push({ displayName: 'userPrincipalName', oldValue: current.userPrincipalName, newValue: b2bUserPrincipalName(upnSource, p.targetDomain) });
      if (linked.deleted) modified.unshift({ displayName: 'IsSoftDeleted', oldValue: 'True', newValue: 'False' });
      const claim = linked.record.syncJobs?.includes(p.jobId) ? null : p.jobId;
      if (!modified.length) {
        const redundant = skip('linked', 'RedundantExport', 'The state of the user in both the source and target systems already match.', id);
        // Nothing to change, but the user enters this job's care (Entra: the match lands in the job's connector data store).
        return claim ? { ...redundant, write: { kind: 'update', id, props: {}, restore: false, adopt: false, upnSource: null, claim } } : redundant;
      }
      const disabling = props.accountEnabled === false && current.accountEnabled !== false;
      return {
        action: disabling ? 'disable' : 'update', situation: linked.deleted ? 'deleted' : 'linked', destructive: disabling, targetId: id, modified,
        write: { kind: 'update', id, props, restore: linked.deleted, adopt: false, upnSource, claim },
      };
    }
    // Nothing linked: look at who holds the address in the target.
    const internal = p.candidates.filter(isInternalTarget);
    if (internal.length) {
      return fail('create', 'disputed', 'InvitationCreationFailureAmbiguousUser',
        `${src.userPrincipalName} matches internal user ${internal[0]!.record.user.userPrincipalName} of the target by address; `
        + 'cross-tenant synchronization never takes over an internal user. Change or remove that address in the target, or leave this user out of scope.');
    }
    const pending = p.candidates.filter((t) => t.record.user.externalUserState === 'PendingAcceptance' && !t.record.homeTenantId);
    const others = p.candidates.filter((t) => !pending.includes(t));
    if (others.length || pending.length > 1) {
      const who = [...others, ...pending].map((t) => t.record.user.userPrincipalName).join(', ');
      return fail('create', 'disputed', 'EntryConflict',
        `The target holds ${who} with the same address as ${src.userPrincipalName}, linked to someone else or more than once; openmto will not guess which is this person. Resolve it in the target, then restart.`);
    }
    if (pending.length === 1) {
      // An unredeemed invitation of the same address: redeemed and linked. Like Entra, its UPN stays as the invitation made it.
      const t = pending[0]!;
      const id = t.record.user.id;
      const want = desired(p.schema.mappings, p, t.record.user);
      const modified: ModifiedProperty[] = [{ displayName: 'externalUserState', oldValue: 'PendingAcceptance', newValue: 'Accepted' }];
      const props: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(want.props)) {
        if (!same(t.record.user[k], v)) {
          props[k] = v;
          modified.push({ displayName: k, oldValue: showValue(t.record.user[k]), newValue: showValue(v) });
        }
      }
      return { action: 'update', situation: 'unlinked', destructive: false, targetId: id, modified, write: { kind: 'update', id, props, restore: false, adopt: true, upnSource: null, claim: p.jobId } };
    }
    if (!p.schema.actions.add) return skip('unmatched', 'SkipCreateDisabled', 'No matching user in the target, and the Create target object action is off.');
    if (src.accountEnabled === false) {
      return skip('unmatched', 'SkipDisabledUser', 'The user is disabled in the source; a user is provisioned only while it is enabled.');
    }
    const want = desired(p.schema.mappings, p, null);
    const email = String(src.mail ?? src.userPrincipalName);
    const userType = (want.props.userType as UserType | undefined) ?? 'Member';
    const props = { ...want.props };
    props.mailNickname ??= b2bMailNickname(email);
    const upnSource = want.upnSource ?? src.userPrincipalName;
    const modified = Object.entries(props).map(([k, v]) => ({ displayName: k, oldValue: null, newValue: showValue(v) }));
    modified.push({ displayName: 'userPrincipalName', oldValue: null, newValue: b2bUserPrincipalName(upnSource, p.targetDomain) });
    return { action: 'create', situation: 'unmatched', destructive: false, modified, write: { kind: 'create', email, userType, props, upnSource, claim: p.jobId } };
  } catch (err) {
    if (err instanceof MappingFailure) return fail(linked ? 'update' : 'create', linked ? 'linked' : 'unmatched', err.code, err.message, linked?.record.user.id);
    throw err;
  }
}
