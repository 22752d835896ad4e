// GET /auditLogs/provisioning: the provisioning log, newest first, filtered on what Graph lets you filter
// it by, and pruned after its retention so it does not grow without bound.
import type { Actor } from '../directory/access.js';
import { requireAppPermission } from '../directory/access.js';
import { errors } from '../domain/errors.js';
import type { FilterNode, Literal } from '../domain/odata.js';
import { syncRepo, type LogQuery } from '../store/repos/sync.js';
import type { Db } from '../store/store.js';
import { expand } from './logEntry.js';

/** Entra keeps provisioning logs 30 days (P1/P2); `OPENMTO_PROVISIONING_LOG_DAYS` changes it. */
export const PROVISIONING_LOG_RETENTION_DAYS = 30;

const actions = new Set(['create', 'update', 'delete', 'disable', 'stagedDelete', 'other']);
const statuses = new Set(['success', 'failure', 'skipped', 'warning']);

const unsupported = (what: string) => errors.unsupportedQuery(`Unsupported filter on provisioning logs: ${what}. Filter with eq on jobId, servicePrincipal/id, `
  + "provisioningAction, provisioningStatusInfo/status or sourceIdentity/id, and ge/le/gt/lt on activityDateTime, joined by 'and'.");

const literal = (l: Literal): string => {
  if (!('value' in l) || l.value === null) throw unsupported('a null literal');
  return String(l.value);
};

/** The supported $filter shapes, as a log query. */
export function logQueryOf(node: FilterNode | undefined, q: LogQuery): LogQuery {
  if (!node) return q;
  if (node.kind === 'and') return logQueryOf(node.right, logQueryOf(node.left, q));
  if (node.kind !== 'compare') throw unsupported(`'${node.kind}'`);
  const path = node.path.join('/');
  const v = literal(node.value);
  if (node.op === 'eq') {
    if (path === 'jobId') return { ...q, jobId: v };
    if (path === 'servicePrincipal/id') return { ...q, spId: v.toLowerCase() };
    if (path === 'sourceIdentity/id') return { ...q, sourceId: v.toLowerCase() };
    if (path === 'provisioningAction') {
      if (!actions.has(v)) throw errors.badRequest(`'${v}' is not a provisioningAction.`);
      return { ...q, action: v };
    }
    if (path === 'provisioningStatusInfo/status') {
      if (!statuses.has(v)) throw errors.badRequest(`'${v}' is not a provisioningResult.`);
      return { ...q, status: v };
    }
  }
  if (path === 'activityDateTime' && ['ge', 'gt', 'le', 'lt'].includes(node.op)) {
    const t = Date.parse(v);
    if (Number.isNaN(t)) throw errors.badRequest(`'${v}' is not a date and time.`);
    // The store compares inclusively at millisecond precision (entries are stamped in whole milliseconds).
    const iso = (ms: number) => new Date(ms).toISOString();
    if (node.op === 'ge' || node.op === 'gt') return { ...q, after: iso(node.op === 'gt' ? Math.floor(t) + 1 : t) };
    return { ...q, before: iso(node.op === 'lt' ? Math.ceil(t) - 1 : t) };
  }
  throw unsupported(`'${path} ${node.op}'`);
}

export interface LogPage {
  items: Record<string, unknown>[];
  next: string | null;
}

export async function listProvisioningLog(db: Db, tenantId: string, actor: Actor, filter: FilterNode | undefined, top: number, beforeId: string | null): Promise<LogPage> {
  requireAppPermission(actor, 'AuditLog.Read.All', 'Directory.Read.All');
  if (actor.principal.kind === 'user' && !actor.isAdmin && !actor.user?.roles.some((r) => /Administrator|Reader/.test(r))) throw errors.denied();
  const q = logQueryOf(filter, { limit: top + 1, ...(beforeId ? { beforeId } : {}) });
  const rows = await syncRepo.logPage(db, tenantId, q);
  const more = rows.length > top;
  const page = rows.slice(0, top);
  return { items: page.map((r) => expand(tenantId, r)), next: more ? page.at(-1)!.id : null };
}

export async function pruneProvisioningLog(db: Db, tenantId: string, now: Date, days = PROVISIONING_LOG_RETENTION_DAYS): Promise<number> {
  return syncRepo.pruneLog(db, tenantId, new Date(now.getTime() - days * 86_400_000).toISOString());
}
