// One migration history for SQLite and PostgreSQL. Everything is TEXT/INTEGER so the same SQL runs on
// both; timestamps are ISO-8601 UTC strings (they sort as text). Every table leads with the tenant, and so
// does every index, so a tenant's rows are one contiguous range and a query can't wander across tenants.
// Since 009 the directory's own tables lead with the tenant's integer number (tenant_no), not its GUID.
import { type Kysely, type Migration, type MigrationProvider, SqliteAdapter, sql } from 'kysely';
import { m009 } from './migration009.js';
import { m011 } from './migration011.js';
import { m012 } from './migration012.js';
import { m013 } from './migration013.js';

// biome-ignore lint/suspicious/noExplicitAny: migrations run before the typed schema exists
type AnyDb = Kysely<any>;

const m001: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('tenants')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('domain', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'text', (c) => c.notNull())
      // Per-tenant change sequence. Bumping it takes the tenant row's write lock (PostgreSQL), so change-log
      // sequence order equals commit order inside a tenant and a delta watermark can never skip a change.
      .addColumn('change_seq', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('data', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('apps')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('client_id', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('secret_hash', 'text')
      .addColumn('public_client', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('permissions', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('apps_pk', ['tenant_id', 'client_id'])
      .execute();
    await db.schema.createIndex('apps_client').on('apps').column('client_id').execute();

    await db.schema
      .createTable('users')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('upn_lc', 'text', (c) => c.notNull())
      .addColumn('upn_rev', 'text', (c) => c.notNull())
      .addColumn('display_name_lc', 'text')
      .addColumn('given_name_lc', 'text')
      .addColumn('surname_lc', 'text')
      .addColumn('mail_lc', 'text')
      .addColumn('mail_rev', 'text')
      .addColumn('mail_nickname_lc', 'text')
      .addColumn('job_title_lc', 'text')
      .addColumn('department_lc', 'text')
      .addColumn('company_name_lc', 'text')
      .addColumn('employee_id_lc', 'text')
      .addColumn('user_type', 'text', (c) => c.notNull())
      .addColumn('creation_type', 'text')
      .addColumn('external_user_state', 'text')
      .addColumn('account_enabled', 'integer', (c) => c.notNull())
      .addColumn('show_in_address_list', 'integer')
      .addColumn('home_tenant_id', 'text')
      .addColumn('home_user_id', 'text')
      .addColumn('password_hash', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('deleted_at', 'text')
      .addColumn('data', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('users_pk', ['tenant_id', 'id'])
      .execute();
    // UPN is unique among a tenant's live and soft-deleted users alike, as in Entra (a restore can't collide).
    await db.schema.createIndex('users_upn').on('users').columns(['tenant_id', 'upn_lc']).unique().execute();
    for (const col of [
      'upn_rev', 'display_name_lc', 'given_name_lc', 'surname_lc', 'mail_lc', 'mail_rev', 'mail_nickname_lc',
      'employee_id_lc', 'created_at', 'deleted_at',
    ]) {
      await db.schema.createIndex(`users_${col}`).on('users').columns(['tenant_id', col]).execute();
    }
    await db.schema.createIndex('users_home').on('users').columns(['tenant_id', 'home_tenant_id', 'home_user_id']).execute();

    for (const [table, owner] of [['user_values', 'user_id'], ['group_values', 'group_id']] as const) {
      await db.schema
        .createTable(table)
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        .addColumn(owner, 'text', (c) => c.notNull())
        .addColumn('attr', 'text', (c) => c.notNull())
        .addColumn('ord', 'integer', (c) => c.notNull())
        .addColumn('v1', 'text', (c) => c.notNull())
        .addColumn('v1_rev', 'text')
        .addColumn('v2', 'text')
        .addColumn('v3', 'text')
        .addPrimaryKeyConstraint(`${table}_pk`, ['tenant_id', owner, 'attr', 'ord'])
        .execute();
      await db.schema.createIndex(`${table}_v1`).on(table).columns(['tenant_id', 'attr', 'v1']).execute();
      await db.schema.createIndex(`${table}_v1_rev`).on(table).columns(['tenant_id', 'attr', 'v1_rev']).execute();
    }

    // Word-prefix search (Graph's tokenized $search on displayName/description): one row per token.
    await db.schema
      .createTable('search_tokens')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('object_type', 'text', (c) => c.notNull())
      .addColumn('prop', 'text', (c) => c.notNull())
      .addColumn('token', 'text', (c) => c.notNull())
      .addColumn('object_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('search_tokens_pk', ['tenant_id', 'object_type', 'prop', 'token', 'object_id'])
      .execute();
    await db.schema.createIndex('search_tokens_object').on('search_tokens').columns(['tenant_id', 'object_id']).execute();

    await db.schema
      .createTable('groups')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('display_name_lc', 'text')
      .addColumn('description_lc', 'text')
      .addColumn('mail_lc', 'text')
      .addColumn('mail_rev', 'text')
      .addColumn('mail_nickname_lc', 'text')
      .addColumn('security_enabled', 'integer', (c) => c.notNull())
      .addColumn('mail_enabled', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('deleted_at', 'text')
      .addColumn('data', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('groups_pk', ['tenant_id', 'id'])
      .execute();
    for (const col of ['display_name_lc', 'mail_lc', 'mail_nickname_lc', 'created_at']) {
      await db.schema.createIndex(`groups_${col}`).on('groups').columns(['tenant_id', col]).execute();
    }

    await db.schema
      .createTable('group_members')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('group_id', 'text', (c) => c.notNull())
      .addColumn('member_id', 'text', (c) => c.notNull())
      .addColumn('member_type', 'text', (c) => c.notNull())
      .addColumn('added_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('group_members_pk', ['tenant_id', 'group_id', 'member_id'])
      .execute();
    await db.schema.createIndex('group_members_member').on('group_members').columns(['tenant_id', 'member_id']).execute();

    await db.schema
      .createTable('change_log')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('object_type', 'text', (c) => c.notNull())
      .addColumn('object_id', 'text', (c) => c.notNull())
      .addColumn('change', 'text', (c) => c.notNull())
      .addColumn('props', 'text')
      .addColumn('at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('change_log_pk', ['tenant_id', 'seq'])
      .execute();
    await db.schema.createIndex('change_log_type').on('change_log').columns(['tenant_id', 'object_type', 'seq']).execute();

    // Tenant-scoped singleton documents (authorization policy, cross-tenant policies, templates, MTO views…).
    await db.schema
      .createTable('tenant_documents')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('tenant_documents_pk', ['tenant_id', 'kind', 'key'])
      .execute();

    await db.schema
      .createTable('signing_keys')
      .addColumn('kid', 'text', (c) => c.primaryKey())
      .addColumn('private_jwk', 'text', (c) => c.notNull())
      .addColumn('public_jwk', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('server_settings')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .execute();
  },
};

// Multi-tenant organizations. The organization row is the one record its tenants share (it has no
// single owning tenant); members and transition jobs lead with the member tenant's id.
const m002: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('multi_tenant_organizations')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('creator_tenant_id', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('mto_members')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('mto_id', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('added_by_tenant_id', 'text', (c) => c.notNull())
      .addColumn('added_at', 'text', (c) => c.notNull())
      .addColumn('joined_at', 'text')
      .addColumn('transition', 'text')
      .addColumn('local_object_id', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('mto_members_pk', ['tenant_id', 'mto_id'])
      .execute();
    // A tenant is active in (or leaving) at most one organization; it may be pending in several, since an
    // owner adds it without asking. Partial unique indexes run the same on SQLite and PostgreSQL.
    await sql`CREATE UNIQUE INDEX mto_members_one_org ON mto_members (tenant_id) WHERE state <> 'pending'`.execute(db);
    await db.schema
      .createTable('mto_transitions')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('mto_id', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('not_before', 'text', (c) => c.notNull())
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('error', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('mto_transitions_pk', ['tenant_id', 'id'])
      .execute();
  },
};

// Prefix and suffix queries are ranges whose upper bound is computed in code-point order
// (domain/odata.ts prefixUpperBound). SQLite's BINARY collation is that order; a PostgreSQL database
// created with a linguistic collation (en_US.UTF-8…) is not, and would silently drop matches. The
// queried text columns are pinned to "C" (byte order of UTF-8 = code-point order) on PostgreSQL.
const collatedColumns: Record<string, readonly string[]> = {
  users: [
    'upn_lc', 'upn_rev', 'display_name_lc', 'given_name_lc', 'surname_lc', 'mail_lc', 'mail_rev', 'mail_nickname_lc',
    'job_title_lc', 'department_lc', 'company_name_lc', 'employee_id_lc',
  ],
  groups: ['display_name_lc', 'description_lc', 'mail_lc', 'mail_rev', 'mail_nickname_lc'],
  user_values: ['v1', 'v1_rev', 'v2', 'v3'],
  group_values: ['v1', 'v1_rev', 'v2', 'v3'],
  search_tokens: ['token'],
};

const m003: Migration = {
  async up(db: AnyDb) {
    // SQLite: BINARY already compares in code-point order.
    if (db.getExecutor().adapter instanceof SqliteAdapter) return;
    for (const [table, columns] of Object.entries(collatedColumns)) {
      for (const column of columns) {
        await sql`ALTER TABLE ${sql.table(table)} ALTER COLUMN ${sql.ref(column)} TYPE text COLLATE "C"`.execute(db);
      }
    }
  },
};

// Leaner indexes, measured on bulk import (bench/): every index is one more random B-tree insert per row.
// - Per-object token probes get a covering (tenant_id, object_id, …) index, so the planner never falls back to
//   the primary key with only tenant_id bound (a scan of the tenant's tokens per probe).
// - Indexes over columns that are NULL for most rows (deleted_at, the B2B home link, employeeId, the
//   reversed mail and reversed collection values) become partial: queries on them always imply NOT NULL.
// - On SQLite, the pure-index tables (search tokens, collection values) become WITHOUT ROWID: the primary
//   key is the table, one B-tree fewer per row. PostgreSQL tables are heaps either way.
const m004: Migration = {
  async up(db: AnyDb) {
    const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
    if (sqlite) {
      await sql`CREATE TABLE search_tokens_new (tenant_id TEXT NOT NULL, object_type TEXT NOT NULL, prop TEXT NOT NULL,
        token TEXT NOT NULL, object_id TEXT NOT NULL, PRIMARY KEY (tenant_id, object_type, prop, token, object_id)) WITHOUT ROWID`.execute(db);
      await sql`INSERT INTO search_tokens_new SELECT tenant_id, object_type, prop, token, object_id FROM search_tokens`.execute(db);
      await sql`DROP TABLE search_tokens`.execute(db);
      await sql`ALTER TABLE search_tokens_new RENAME TO search_tokens`.execute(db);
      for (const [table, owner] of [['user_values', 'user_id'], ['group_values', 'group_id']] as const) {
        await sql`CREATE TABLE ${sql.table(`${table}_new`)} (tenant_id TEXT NOT NULL, ${sql.ref(owner)} TEXT NOT NULL, attr TEXT NOT NULL,
          ord INTEGER NOT NULL, v1 TEXT NOT NULL, v1_rev TEXT, v2 TEXT, v3 TEXT,
          PRIMARY KEY (tenant_id, ${sql.ref(owner)}, attr, ord)) WITHOUT ROWID`.execute(db);
        await sql`INSERT INTO ${sql.table(`${table}_new`)} SELECT tenant_id, ${sql.ref(owner)}, attr, ord, v1, v1_rev, v2, v3 FROM ${sql.table(table)}`.execute(db);
        await sql`DROP TABLE ${sql.table(table)}`.execute(db);
        await sql`ALTER TABLE ${sql.table(`${table}_new`)} RENAME TO ${sql.table(table)}`.execute(db);
        await sql`CREATE INDEX ${sql.id(`${table}_v1`)} ON ${sql.table(table)} (tenant_id, attr, v1)`.execute(db);
      }
    } else {
      await sql`DROP INDEX search_tokens_object`.execute(db);
      for (const table of ['user_values', 'group_values']) await sql`DROP INDEX ${sql.id(`${table}_v1_rev`)}`.execute(db);
    }
    await sql`CREATE INDEX search_tokens_object ON search_tokens (tenant_id, object_id, object_type, prop, token)`.execute(db);
    for (const table of ['user_values', 'group_values']) {
      await sql`CREATE INDEX ${sql.id(`${table}_v1_rev`)} ON ${sql.table(table)} (tenant_id, attr, v1_rev) WHERE v1_rev IS NOT NULL`.execute(db);
    }
    const partial: [string, string][] = [
      ['users_deleted_at', 'tenant_id, deleted_at) WHERE deleted_at IS NOT NULL'],
      ['users_home', 'tenant_id, home_tenant_id, home_user_id) WHERE home_tenant_id IS NOT NULL'],
      ['users_employee_id_lc', 'tenant_id, employee_id_lc) WHERE employee_id_lc IS NOT NULL'],
      ['users_mail_rev', 'tenant_id, mail_rev) WHERE mail_rev IS NOT NULL'],
    ];
    for (const [name, def] of partial) {
      await sql`DROP INDEX ${sql.id(name)}`.execute(db);
      await sql`CREATE INDEX ${sql.id(name)} ON users (${sql.raw(def)}`.execute(db);
    }
  },
};

// People search pages by a prefix range in (column, id) order (query/list.ts). With id in the index the
// order comes straight off the B-tree and a page stops after `top` rows; without it SQLite sorted each run
// of equal names through a temporary B-tree, a third of a `startsWith(displayName,…)` query (bench/).
// Only the columns people search drives on: each added id makes every entry ~40 bytes longer on import.
const ORDERED_PREFIX_COLUMNS = ['display_name_lc', 'given_name_lc', 'surname_lc', 'mail_lc'] as const;
const m005: Migration = {
  async up(db: AnyDb) {
    for (const col of ORDERED_PREFIX_COLUMNS) {
      await sql`DROP INDEX ${sql.id(`users_${col}`)}`.execute(db);
      await sql`CREATE INDEX ${sql.id(`users_${col}`)} ON users (tenant_id, ${sql.ref(col)}, id)`.execute(db);
    }
    await sql`DROP INDEX groups_display_name_lc`.execute(db);
    await sql`CREATE INDEX groups_display_name_lc ON groups (tenant_id, display_name_lc, id)`.execute(db);
  },
};

// The directory's size (organization.directorySizeQuota.used) was a COUNT over every user and group of
// the tenant on each GET /organization: 6.7 ms at 100k users, ~70 ms at 1M. It is now a counter on the
// tenant row, moved by the change log's created/deleted entries in the same UPDATE that allocates their
// sequence numbers (changesRepo.append), so it is exact and costs nothing extra to keep.
const m006: Migration = {
  async up(db: AnyDb) {
    await sql`ALTER TABLE tenants ADD COLUMN object_count integer NOT NULL DEFAULT 0`.execute(db);
    await sql`UPDATE tenants SET object_count = (SELECT count(*) FROM users WHERE users.tenant_id = tenants.id)
      + (SELECT count(*) FROM groups WHERE groups.tenant_id = tenants.id)`.execute(db);
  },
};

// One durable queue for all background work (MTO transitions, sync jobs) and the sync engine's tables.
// `work_items` replaces `mto_transitions`: a row is work that some process must do, claimed under a lease
// (`lease_owner`, `not_before` = lease expiry while running) so a process that dies hands it over when the
// lease runs out, and fenced (a write of a claimed item checks its owner) so it never runs in two places.
// The claim index leads with the queue, not the tenant: workers claim across tenants. `rev` counts wake-ups
// that arrived while the item ran, so the worker requeues instead of dropping them.
//
// Sync tables: `sync_jobs` (one row per job: schedule, status, schema, progress cursor and watermark),
// `sync_objects` (objects the job holds back: escrowed failures and deletions staged by the accidental-
// deletion guard; empty for a healthy job) and `provisioning_log` (one entry per object per cycle, pruned
// after its retention). A source user's link to its target user is the target's home link (home_tenant_id,
// home_user_id, already indexed), so the engine adds no per-user-per-job table to a mesh of N(N-1) jobs.
const m007: Migration = {
  async up(db: AnyDb) {
    await db.schema
      .createTable('work_items')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('queue', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('ref', 'text')
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('not_before', 'text', (c) => c.notNull())
      .addColumn('lease_owner', 'text')
      .addColumn('rev', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('payload', 'text', (c) => c.notNull())
      .addColumn('error', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('work_items_pk', ['tenant_id', 'queue', 'id'])
      .execute();
    await db.schema.createIndex('work_items_due').on('work_items').columns(['queue', 'status', 'not_before']).execute();
    await sql`INSERT INTO work_items (tenant_id, queue, id, kind, ref, status, attempts, not_before, lease_owner, rev, payload, error, created_at)
      SELECT tenant_id, 'mto', id, kind, mto_id, status, attempts, not_before, NULL, 0, payload, error, created_at FROM mto_transitions`.execute(db);
    await db.schema.dropTable('mto_transitions').execute();

    await db.schema
      .createTable('sync_jobs')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('sp_id', 'text', (c) => c.notNull())
      .addColumn('template_id', 'text', (c) => c.notNull())
      .addColumn('schedule_state', 'text', (c) => c.notNull())
      .addColumn('schedule_interval', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('settings', 'text', (c) => c.notNull())
      .addColumn('schema_doc', 'text')
      .addColumn('phase', 'text', (c) => c.notNull())
      .addColumn('cursor', 'text')
      .addColumn('up_to', 'integer')
      .addColumn('watermark', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('cycle', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('sync_jobs_pk', ['tenant_id', 'id'])
      .execute();
    await db.schema.createIndex('sync_jobs_sp').on('sync_jobs').columns(['tenant_id', 'sp_id']).execute();
    await db.schema.createIndex('sync_jobs_state').on('sync_jobs').columns(['tenant_id', 'schedule_state']).execute();

    await db.schema
      .createTable('sync_objects')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('job_id', 'text', (c) => c.notNull())
      .addColumn('object_id', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt', 'text')
      .addColumn('since', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('sync_objects_pk', ['tenant_id', 'job_id', 'object_id'])
      .execute();

    await db.schema
      .createTable('provisioning_log')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull())
      .addColumn('job_id', 'text', (c) => c.notNull())
      .addColumn('sp_id', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('source_id', 'text')
      .addColumn('at', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('provisioning_log_pk', ['tenant_id', 'id'])
      .execute();
    // Ids are UUIDv7, so (tenant_id, id) is also time order: newest first is a backwards walk of the key.
    await db.schema.createIndex('provisioning_log_job').on('provisioning_log').columns(['tenant_id', 'job_id', 'id']).execute();
  },
};

// Applications, service principals and app role assignments (apps/): what a cross-tenant sync
// configuration is made of. Few rows per tenant (one SP per configuration, one assignment per assigned
// user or group), so each table keeps its Graph object in `data` and indexes only what is looked up:
// an SP by appId, by application and by display name; assignments by resource (the engine's scope read,
// appRoleAssignedTo pages) and by principal (a user's appRoleAssignments, deleting a user or group).
// display_name_lc is "C"-collated on PostgreSQL like every prefix-queried column (see m003).
const m008: Migration = {
  async up(db: AnyDb) {
    const collate = db.getExecutor().adapter instanceof SqliteAdapter ? sql`` : sql` COLLATE "C"`;
    await sql`CREATE TABLE applications (tenant_id TEXT NOT NULL, id TEXT NOT NULL, app_id TEXT NOT NULL,
      display_name_lc TEXT${collate} NOT NULL, created_at TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (tenant_id, id))`.execute(db);
    await sql`CREATE UNIQUE INDEX applications_app_id ON applications (tenant_id, app_id)`.execute(db);
    await sql`CREATE TABLE service_principals (tenant_id TEXT NOT NULL, id TEXT NOT NULL, app_id TEXT NOT NULL,
      application_id TEXT, display_name_lc TEXT${collate} NOT NULL, created_at TEXT NOT NULL, data TEXT NOT NULL,
      PRIMARY KEY (tenant_id, id))`.execute(db);
    await sql`CREATE UNIQUE INDEX service_principals_app_id ON service_principals (tenant_id, app_id)`.execute(db);
    await sql`CREATE INDEX service_principals_application ON service_principals (tenant_id, application_id)`.execute(db);
    await sql`CREATE INDEX service_principals_display_name ON service_principals (tenant_id, display_name_lc, id)`.execute(db);
    await sql`CREATE TABLE app_role_assignments (tenant_id TEXT NOT NULL, id TEXT NOT NULL, resource_id TEXT NOT NULL,
      principal_id TEXT NOT NULL, principal_type TEXT NOT NULL, app_role_id TEXT NOT NULL, principal_display_name TEXT,
      created_at TEXT NOT NULL, PRIMARY KEY (tenant_id, id))`.execute(db);
    // One assignment per (resource, principal, role), as Graph refuses a duplicate.
    await sql`CREATE UNIQUE INDEX app_role_assignments_resource ON app_role_assignments
      (tenant_id, resource_id, principal_id, app_role_id)`.execute(db);
    await sql`CREATE INDEX app_role_assignments_page ON app_role_assignments (tenant_id, resource_id, id)`.execute(db);
    await sql`CREATE INDEX app_role_assignments_principal ON app_role_assignments (tenant_id, principal_id, id)`.execute(db);
  },
};

// Authorization codes and refresh tokens of the code flow (identity/authorize*.ts). Only a SHA-256 of
// each is kept, so a copy of the database redeems nothing. A row is spent by setting used_at in the same
// statement that reads it, so two processes racing on one code see one winner. `family` ties rotated
// refresh tokens to the code they came from, so a replayed one revokes the whole line. Rows live minutes
// (codes) to a day (refresh tokens) and are purged on the tenant's next issue.
const m010: Migration = {
  async up(db: AnyDb) {
    await sql`CREATE TABLE authorization_grants (tenant_id TEXT NOT NULL, hash TEXT NOT NULL, kind TEXT NOT NULL,
      family TEXT NOT NULL, expires_at TEXT NOT NULL, used_at TEXT, data TEXT NOT NULL, PRIMARY KEY (tenant_id, hash))`.execute(db);
    await sql`CREATE INDEX authorization_grants_family ON authorization_grants (tenant_id, family)`.execute(db);
    await sql`CREATE INDEX authorization_grants_expiry ON authorization_grants (tenant_id, expires_at)`.execute(db);
  },
};

const all: Record<string, Migration> = {
  '001_directory': m001,
  '002_multi_tenant_organization': m002,
  '003_code_point_collation': m003,
  '004_lean_indexes': m004,
  '005_ordered_prefix_indexes': m005,
  '006_tenant_object_count': m006,
  '007_work_queue_and_sync': m007,
  '008_applications': m008,
  '009_integer_tenant_keys': m009,
  '010_authorization_codes': m010,
  '011_compact_users': m011,
  '012_compact_provisioning_log': m012,
  '013_implied_user_values': m013,
};

export const migrationProvider: MigrationProvider = {
  async getMigrations() {
    return all;
  },
};
