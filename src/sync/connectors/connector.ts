// How the engine reaches a target. Planning never sees a connector; it gets the target's state from
// `lookup` and hands `export` the writes it decided. The local-tenant connector works inside the engine's
// transaction (`db`), so an export commits together with the job's watermark: a crash can neither lose
// nor repeat a change. A remote connector (Graph over HTTPS, SCIM 2.0) would ignore `db`, make its calls,
// and make its writes idempotent instead (match before create), since it can't share the transaction.
import type { Db } from '../../store/store.js';
import type { TargetUser, Write } from '../plan.js';

export interface TargetState {
  /** Target users linked to a source user by its anchor, by source user id. */
  linked: Map<string, TargetUser>;
  /** Live target users holding a given address (lowercased), for source users nothing is linked to. */
  byAddress: Map<string, TargetUser[]>;
}

export interface ExportItem {
  sourceId: string;
  write: Write;
  /** The linked or adopted target user a write of kind update/softDelete applies to. */
  current?: TargetUser | undefined;
}

export type ExportResult = { ok: true; targetId: string; upn: string } | { ok: false; code: string; message: string };

export interface TargetConnector {
  readonly tenantId: string;
  readonly domain: string;
  readonly displayName: string;
  lookup(db: Db, sourceTenantId: string, sourceIds: readonly string[], addresses: readonly string[]): Promise<TargetState>;
  export(db: Db, sourceTenantId: string, items: readonly ExportItem[], now: string): Promise<Map<string, ExportResult>>;
}
