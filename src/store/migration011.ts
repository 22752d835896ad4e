// Migration 011: compact user rows. `users.data` held the whole Graph object (~700 bytes at the bench's
// users) although the row's own columns already hold most of it; it now keeps only what they don't
// (repos/userData.ts says exactly what is left out and how it is read back). Every row is rewritten in the
// packed form, a page of rows at a time in key order. It must be: read as packed, a whole object that
// lacks a property a new user has (absent, not null) would come back with the default filled in.
import { type Kysely, type Migration, sql } from 'kysely';
import { packUser, USER_DATA_COLUMNS, type UserColumns } from './repos/userData.js';

// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
type AnyDb = Kysely<any>;

/** Rows read per statement: bounded memory at any directory size, few round trips. */
const PAGE = 1000;

export const m011: Migration = {
  async up(db: AnyDb) {
    const columns = sql.join(USER_DATA_COLUMNS.map((c) => sql.ref(c)));
    let after: { no: number; id: string } | undefined;
    for (;;) {
      const from = after ? sql`where tenant_no > ${after.no} or (tenant_no = ${after.no} and id > ${after.id})` : sql``;
      const { rows } = await sql<UserColumns & { tenant_no: number; data: string }>`select tenant_no, ${columns} from users ${from}
        order by tenant_no, id limit ${sql.lit(PAGE)}`.execute(db);
      for (const row of rows) {
        const packed = packUser(JSON.parse(row.data) as Record<string, unknown>, row);
        if (packed !== row.data) {
          await sql`update users set data = ${packed} where tenant_no = ${row.tenant_no} and id = ${row.id}`.execute(db);
        }
      }
      const last = rows[rows.length - 1];
      if (!last || rows.length < PAGE) break;
      after = { no: Number(last.tenant_no), id: last.id };
    }
  },
};
