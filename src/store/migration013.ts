// Migration 013: no user_values rows that the users row implies.
//
// Every user is created with the proxy address `SMTP:<mail>` and the identity {userPrincipalName, <tenant
// domain>, <UPN>}; while it holds exactly those, their user_values rows (and three index entries each)
// repeat what users.mail_lc/upn_lc and `data` already say: ~600 of the ~2,000 bytes a bench user took on
// disk. users.ts no longer writes them and every reader answers from the users row (repos/userData.ts
// impliedUserValues); this removes the rows written before, a page of users at a time.
import type { Kysely, Migration } from 'kysely';
import { sql } from 'kysely';
import { storedIdentityImplied, storedProxyImplied } from './repos/userData.js';

// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
type AnyDb = Kysely<any>;

const PAGE = 2000;
const CHUNK = 500;

interface Row {
  tenant_no: number | string;
  id: string;
  mail_lc: string | null;
  data: string;
}

async function remove(db: AnyDb, tenantNo: number, attr: string, ids: readonly string[]) {
  for (let i = 0; i < ids.length; i += CHUNK) {
    await sql`DELETE FROM user_values WHERE tenant_no = ${tenantNo} AND attr = ${attr}
      AND user_id IN (${sql.join(ids.slice(i, i + CHUNK))})`.execute(db);
  }
}

export const m013: Migration = {
  async up(db: AnyDb) {
    let after: { tenant: number; id: string } | null = null;
    for (;;) {
      const page: Row[] = (await (after
        ? sql<Row>`SELECT tenant_no, id, mail_lc, data FROM users WHERE tenant_no > ${after.tenant} OR (tenant_no = ${after.tenant} AND id > ${after.id})
            ORDER BY tenant_no, id LIMIT ${sql.lit(PAGE)}`
        : sql<Row>`SELECT tenant_no, id, mail_lc, data FROM users ORDER BY tenant_no, id LIMIT ${sql.lit(PAGE)}`).execute(db)).rows;
      if (!page.length) break;
      const last = page.at(-1) as Row;
      after = { tenant: Number(last.tenant_no), id: last.id };
      const byTenant = new Map<number, { proxy: string[]; identity: string[] }>();
      for (const r of page) {
        const no = Number(r.tenant_no);
        const t = byTenant.get(no) ?? { proxy: [], identity: [] };
        byTenant.set(no, t);
        const data = JSON.parse(r.data) as Record<string, unknown>;
        if (storedProxyImplied(data, r.mail_lc)) t.proxy.push(r.id);
        if (storedIdentityImplied(data)) t.identity.push(r.id);
      }
      for (const [no, t] of byTenant) {
        await remove(db, no, 'proxyAddresses', t.proxy);
        await remove(db, no, 'identities', t.identity);
      }
    }
  },
};
