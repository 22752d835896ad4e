// Migration 009: integer tenant keys for the tables that grow with the directory.
//
// Every index of users, user_values, search_tokens, change_log, groups, group_values and group_members
// leads with the tenant. As a 36-character GUID that key was about 37 bytes in each of some 25 index
// entries and rows per user, close to a KB of a user's ~3.8 KB on disk. A tenant now also has a small
// integer `no`, numbered once and never reused (server_settings 'tenant_no' holds the last one given), and
// those tables key on it. Small per-tenant tables (apps, documents, sync jobs, MTO rows) keep the GUID:
// they hold a few rows per tenant, not per user.
//
// change_log becomes WITHOUT ROWID on SQLite: its key (tenant_no, seq) is the table's own order, so the
// separate primary-key index of a rowid table (another ~55 bytes per change) goes.
import { type Kysely, type Migration, SqliteAdapter, sql } from 'kysely';

// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
type AnyDb = Kysely<any>;

interface TableSpec {
  name: string;
  /** Column definitions after `tenant_no`; `%C` marks a column compared by code point (PostgreSQL's COLLATE "C", m003). */
  columns: string;
  /** The other columns, in the order `columns` declares them, copied as they are. */
  copy: string;
  key: string;
  /** SQLite only: a table whose rows are its key (or nearly), stored in the key's own B-tree. */
  withoutRowid?: boolean;
  indexes: string[];
}

const tables: TableSpec[] = [
  {
    name: 'users',
    columns: `id text NOT NULL, upn_lc text%C NOT NULL, upn_rev text%C NOT NULL, display_name_lc text%C, given_name_lc text%C,
      surname_lc text%C, mail_lc text%C, mail_rev text%C, mail_nickname_lc text%C, job_title_lc text%C, department_lc text%C,
      company_name_lc text%C, employee_id_lc text%C, user_type text NOT NULL, creation_type text, external_user_state text,
      account_enabled integer NOT NULL, show_in_address_list integer, home_tenant_id text, home_user_id text, password_hash text,
      created_at text NOT NULL, deleted_at text, data text NOT NULL`,
    copy: `id, upn_lc, upn_rev, display_name_lc, given_name_lc, surname_lc, mail_lc, mail_rev, mail_nickname_lc, job_title_lc,
      department_lc, company_name_lc, employee_id_lc, user_type, creation_type, external_user_state, account_enabled,
      show_in_address_list, home_tenant_id, home_user_id, password_hash, created_at, deleted_at, data`,
    key: 'tenant_no, id',
    indexes: [
      // UPN is unique among a tenant's live and soft-deleted users alike, as in Entra (a restore can't collide).
      'CREATE UNIQUE INDEX users_upn ON users (tenant_no, upn_lc)',
      'CREATE INDEX users_upn_rev ON users (tenant_no, upn_rev)',
      'CREATE INDEX users_mail_nickname_lc ON users (tenant_no, mail_nickname_lc)',
      'CREATE INDEX users_created_at ON users (tenant_no, created_at)',
      'CREATE INDEX users_deleted_at ON users (tenant_no, deleted_at) WHERE deleted_at IS NOT NULL',
      'CREATE INDEX users_home ON users (tenant_no, home_tenant_id, home_user_id) WHERE home_tenant_id IS NOT NULL',
      'CREATE INDEX users_employee_id_lc ON users (tenant_no, employee_id_lc) WHERE employee_id_lc IS NOT NULL',
      'CREATE INDEX users_mail_rev ON users (tenant_no, mail_rev) WHERE mail_rev IS NOT NULL',
      // Ordered prefix indexes (m005): the id makes (value, id) the page order, so a page needs no sort.
      'CREATE INDEX users_display_name_lc ON users (tenant_no, display_name_lc, id)',
      'CREATE INDEX users_given_name_lc ON users (tenant_no, given_name_lc, id)',
      'CREATE INDEX users_surname_lc ON users (tenant_no, surname_lc, id)',
      'CREATE INDEX users_mail_lc ON users (tenant_no, mail_lc, id)',
    ],
  },
  ...(['user_values:user_id', 'group_values:group_id'].map((s): TableSpec => {
    const [name, owner] = s.split(':') as [string, string];
    return {
      name,
      columns: `${owner} text NOT NULL, attr text NOT NULL, ord integer NOT NULL, v1 text%C NOT NULL, v1_rev text%C, v2 text%C, v3 text%C`,
      copy: `${owner}, attr, ord, v1, v1_rev, v2, v3`,
      key: `tenant_no, ${owner}, attr, ord`,
      withoutRowid: true,
      indexes: [
        `CREATE INDEX ${name}_v1 ON ${name} (tenant_no, attr, v1)`,
        `CREATE INDEX ${name}_v1_rev ON ${name} (tenant_no, attr, v1_rev) WHERE v1_rev IS NOT NULL`,
      ],
    };
  })),
  {
    name: 'search_tokens',
    columns: 'object_type text NOT NULL, prop text NOT NULL, token text%C NOT NULL, object_id text NOT NULL',
    copy: 'object_type, prop, token, object_id',
    key: 'tenant_no, object_type, prop, token, object_id',
    withoutRowid: true,
    indexes: ['CREATE INDEX search_tokens_object ON search_tokens (tenant_no, object_id, object_type, prop, token)'],
  },
  {
    name: 'groups',
    columns: `id text NOT NULL, display_name_lc text%C, description_lc text%C, mail_lc text%C, mail_rev text%C,
      mail_nickname_lc text%C, security_enabled integer NOT NULL, mail_enabled integer NOT NULL, created_at text NOT NULL,
      deleted_at text, data text NOT NULL`,
    copy: `id, display_name_lc, description_lc, mail_lc, mail_rev, mail_nickname_lc, security_enabled, mail_enabled, created_at,
      deleted_at, data`,
    key: 'tenant_no, id',
    indexes: [
      'CREATE INDEX groups_display_name_lc ON groups (tenant_no, display_name_lc, id)',
      'CREATE INDEX groups_mail_lc ON groups (tenant_no, mail_lc)',
      'CREATE INDEX groups_mail_nickname_lc ON groups (tenant_no, mail_nickname_lc)',
      'CREATE INDEX groups_created_at ON groups (tenant_no, created_at)',
    ],
  },
  {
    name: 'group_members',
    columns: 'group_id text NOT NULL, member_id text NOT NULL, member_type text NOT NULL, added_at text NOT NULL',
    copy: 'group_id, member_id, member_type, added_at',
    key: 'tenant_no, group_id, member_id',
    withoutRowid: true,
    indexes: ['CREATE INDEX group_members_member ON group_members (tenant_no, member_id)'],
  },
  {
    name: 'change_log',
    columns: 'seq integer NOT NULL, object_type text NOT NULL, object_id text NOT NULL, change text NOT NULL, props text, at text NOT NULL',
    copy: 'seq, object_type, object_id, change, props, at',
    key: 'tenant_no, seq',
    withoutRowid: true,
    indexes: ['CREATE INDEX change_log_type ON change_log (tenant_no, object_type, seq)'],
  },
];

export const m009: Migration = {
  async up(db: AnyDb) {
    const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
    await sql`ALTER TABLE tenants ADD COLUMN no integer`.execute(db);
    // Existing tenants are numbered in creation order, from 1.
    await sql`UPDATE tenants SET no = (SELECT count(*) FROM tenants t2
      WHERE t2.created_at < tenants.created_at OR (t2.created_at = tenants.created_at AND t2.id <= tenants.id))`.execute(db);
    await sql`CREATE UNIQUE INDEX tenants_no ON tenants (no)`.execute(db);
    await sql`INSERT INTO server_settings (key, value) SELECT 'tenant_no', CAST(coalesce(max(no), 0) AS text) FROM tenants`.execute(db);

    for (const t of tables) {
      const columns = t.columns.replaceAll('%C', sqlite ? '' : ' COLLATE "C"');
      // Copy aside, drop (which drops its indexes, whose names the new table reuses), create, copy back.
      await sql`CREATE TABLE ${sql.table(`${t.name}_009`)} AS SELECT * FROM ${sql.table(t.name)}`.execute(db);
      await sql`DROP TABLE ${sql.table(t.name)}`.execute(db);
      await sql.raw(`CREATE TABLE ${t.name} (tenant_no integer NOT NULL, ${columns},
        CONSTRAINT ${t.name}_pk PRIMARY KEY (${t.key}))${sqlite && t.withoutRowid ? ' WITHOUT ROWID' : ''}`).execute(db);
      const copied = t.copy.split(',').map((c) => `o.${c.trim()}`).join(', ');
      await sql.raw(`INSERT INTO ${t.name} (tenant_no, ${t.copy}) SELECT t.no, ${copied}
        FROM ${t.name}_009 o JOIN tenants t ON t.id = o.tenant_id`).execute(db);
      await sql`DROP TABLE ${sql.table(`${t.name}_009`)}`.execute(db);
      for (const ix of t.indexes) await sql.raw(ix).execute(db);
    }
  },
};
