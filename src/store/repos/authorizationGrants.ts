// Authorization codes and refresh tokens (identity/authorize*.ts), stored by the SHA-256 of their value.
// Every method takes the tenant first: a code presented at another tenant's token endpoint is not found.
import type { Db } from '../store.js';

export type GrantKind = 'code' | 'refresh';

export interface GrantWrite {
  hash: string;
  kind: GrantKind;
  family: string;
  expiresAt: string;
  data: unknown;
}

/** What `spend` found: the grant it just spent, one spent before, or nothing. */
export type SpendResult =
  | { state: 'spent'; family: string; expiresAt: string; data: unknown }
  | { state: 'alreadyUsed'; family: string }
  | { state: 'unknown' };

export const authorizationGrantsRepo = {
  async insert(db: Db, tenantId: string, g: GrantWrite): Promise<void> {
    await db.insertInto('authorization_grants').values({
      tenant_id: tenantId, hash: g.hash, kind: g.kind, family: g.family, expires_at: g.expiresAt, used_at: null, data: JSON.stringify(g.data),
    }).execute();
  },
  /**
   * Marks the grant used and returns it, in one statement: of two concurrent redemptions (two processes on
   * PostgreSQL) exactly one sees `spent`. An expired grant is still spent here; the caller refuses it.
   */
  async spend(db: Db, tenantId: string, kind: GrantKind, hash: string, at: string): Promise<SpendResult> {
    const row = await db.updateTable('authorization_grants').set({ used_at: at })
      .where('tenant_id', '=', tenantId).where('hash', '=', hash).where('kind', '=', kind).where('used_at', 'is', null)
      .returning(['family', 'expires_at', 'data']).executeTakeFirst();
    if (row) return { state: 'spent', family: row.family, expiresAt: row.expires_at, data: JSON.parse(row.data) };
    const used = await db.selectFrom('authorization_grants').select('family')
      .where('tenant_id', '=', tenantId).where('hash', '=', hash).where('kind', '=', kind).executeTakeFirst();
    return used ? { state: 'alreadyUsed', family: used.family } : { state: 'unknown' };
  },
  /** Spends every grant of a family (a replayed code or refresh token revokes what it led to). */
  async revokeFamily(db: Db, tenantId: string, family: string, at: string): Promise<void> {
    await db.updateTable('authorization_grants').set({ used_at: at })
      .where('tenant_id', '=', tenantId).where('family', '=', family).where('used_at', 'is', null).execute();
  },
  /** Drops grants that expired before `before` (kept a while past expiry so a replay is still recognised). */
  async purgeExpired(db: Db, tenantId: string, before: string): Promise<void> {
    await db.deleteFrom('authorization_grants').where('tenant_id', '=', tenantId).where('expires_at', '<', before).execute();
  },
};
