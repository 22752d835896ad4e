// A tenant's integer key (tenants.no, migration 009): what the directory tables store in place of the
// tenant's GUID. Repositories take the GUID, as every caller knows a tenant by it, and turn it into the key
// here, once per call.
//
// The mapping never changes while a tenant exists and a number is never given twice (server_settings
// 'tenant_no' counts up), so a remembered key can't come to mean another tenant: at worst it names a
// deleted tenant's rows, which are gone. Bounded: beyond MAX entries the map starts again (a server hosts
// far fewer tenants; the bound only matters for test runs that create thousands).
import { sql as kyselySql } from 'kysely';
import { run, sql } from '../query/sqlText.js';
import type { Db } from '../store.js';
import { errors } from '../../domain/errors.js';

const keys = new Map<string, number>();
const MAX = 50_000;

/** Matches no row: tenant numbers start at 1. */
export const NO_TENANT = 0;

/** The key of `tenantId`, or NO_TENANT when no such tenant exists (a read then finds nothing). */
export async function tenantNo(db: Db, tenantId: string): Promise<number> {
  const known = keys.get(tenantId);
  if (known !== undefined) return known;
  const rows = await run<{ no: number | string | null }>(db, sql`select no from tenants where id = ${tenantId}`);
  const no = rows[0]?.no;
  if (no === undefined || no === null) return NO_TENANT;
  if (keys.size >= MAX) keys.clear();
  keys.set(tenantId, Number(no));
  return Number(no);
}

/** The key of a tenant that must exist (writes): a write for a missing tenant is a bug, not a request error. */
export async function existingTenantNo(db: Db, tenantId: string): Promise<number> {
  const no = await tenantNo(db, tenantId);
  if (no === NO_TENANT) throw errors.notFound(tenantId);
  return no;
}

/** The next tenant number, taken inside the transaction that creates the tenant. */
export async function allocateTenantNo(db: Db): Promise<number> {
  const rows = await run<{ value: string }>(db,
    sql`update server_settings set value = cast(cast(value as integer) + 1 as text) where key = 'tenant_no' returning value`);
  if (rows[0]) return Number(rows[0].value);
  // A database made before the counter existed would have been migrated by 009, which writes it; this is a fresh
  // one whose row went missing, so start after the highest number in use.
  const max = await run<{ m: number | string | null }>(db, sql`select max(no) as m from tenants`);
  const next = Number(max[0]?.m ?? 0) + 1;
  await run(db, sql`insert into server_settings (key, value) values ('tenant_no', ${String(next)})`);
  return next;
}

/**
 * The key as an SQL subquery, for query-builder reads off the hot paths (tests, bench tools):
 * `.where('tenant_no', '=', tenantKeyOf(tenantId))`.
 */
export const tenantKeyOf = (tenantId: string) => kyselySql<number>`(select no from tenants where id = ${tenantId})`;
