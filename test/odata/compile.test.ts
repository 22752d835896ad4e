// $filter / $search / $orderby compiled to SQL and run on a real database: SQLite :memory: always,
// PostgreSQL too when OPENMTO_TEST_PG is a postgres:// URL (a private schema per run, dropped after).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { type CompiledQuery, Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { parseFilter, parseOrderBy, parseSearch } from '../../src/api/graph/odata/index.js';
import { userCatalog } from '../../src/domain/catalog.js';
import { DomainError } from '../../src/domain/errors.js';
import { foldCase, reverseText, tokenize } from '../../src/domain/odata.js';
import { migrationProvider } from '../../src/store/migrations.js';
import { type Cursor, countObjects, type ListQuery, listObjects } from '../../src/store/query/list.js';
import { syncReads } from '../../src/store/repos/syncReads.js';
import type { Database as Schema } from '../../src/store/schema.js';

const T1 = 'tenant-1';
const T2 = 'tenant-2';
const id = (n: number) => `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`;

interface UserSpec {
  n: number;
  tenant?: string;
  displayName: string | null;
  upn: string;
  mail?: string | null;
  userType?: 'Member' | 'Guest';
  accountEnabled?: boolean;
  showInAddressList?: boolean | null;
  externalUserState?: string | null;
  createdAt?: string;
  deleted?: boolean;
  otherMails?: string[];
  proxyAddresses?: string[];
  identities?: { signInType: string; issuer: string; issuerAssignedId: string }[];
}

const people: UserSpec[] = [
  {
    n: 1, displayName: 'Annie Smith', upn: 'annie.smith@contoso.com', mail: 'Annie@Contoso.com',
    otherMails: ['Annie.S@Gmail.com'], proxyAddresses: ['SMTP:annie@contoso.com', 'smtp:as@contoso.net'],
    identities: [{ signInType: 'emailAddress', issuer: 'contoso.com', issuerAssignedId: 'annie@contoso.com' }],
    createdAt: '2024-01-01T00:00:00.000Z',
  },
  {
    n: 2, displayName: 'Mark Jones', upn: 'mark_fabrikam.com#EXT#@contoso.onmicrosoft.com', mail: null, userType: 'Guest',
    accountEnabled: false, externalUserState: 'PendingAcceptance', createdAt: '2024-02-01T00:00:00.000Z',
    identities: [{ signInType: 'federated', issuer: 'fabrikam.com', issuerAssignedId: 'mark@fabrikam.com' }],
  },
  {
    n: 3, displayName: 'Maria McDonald2', upn: 'maria@contoso.com', mail: 'maria@fabrikam.com', showInAddressList: null,
    otherMails: ['mm@outlook.com', 'maria.mcd@gmail.com'], createdAt: '2024-03-01T00:00:00.000Z',
  },
  { n: 4, displayName: 'Marek Marsh', upn: 'marek@contoso.com', mail: 'marek@contoso.com', createdAt: '2024-04-01T00:00:00.000Z' },
  { n: 5, displayName: null, upn: 'nameless@contoso.com', mail: null, createdAt: '2024-05-01T00:00:00.000Z' },
  { n: 6, displayName: 'Mary Deleted', upn: 'mary.deleted@contoso.com', mail: 'mary@contoso.com', deleted: true },
  { n: 7, tenant: T2, displayName: 'Mary Other', upn: 'mary@t2.com', mail: 'mary@t2.com' },
  {
    n: 8, displayName: 'Omar Okafor', upn: 'omar@contoso.com', mail: 'omar@contoso.com', userType: 'Guest',
    identities: [{ signInType: 'emailAddress', issuer: 'fabrikam.com', issuerAssignedId: 'omar@x.com' }],
  },
];
const LIVE_T1 = [1, 2, 3, 4, 5, 8];

/** The two tenants' rows: the directory tables key on the tenant's number (migration 009). */
const NO: Record<string, number> = { [T1]: 1, [T2]: 2 };
async function seedTenants(db: Kysely<Schema>) {
  for (const [id, no] of Object.entries(NO)) {
    await db.insertInto('tenants').values({ id, no, display_name: id, domain: `${id}.test`, created_at: '2023-01-01T00:00:00.000Z', data: '{}' }).execute();
  }
}

async function seed(db: Kysely<Schema>) {
  await seedTenants(db);
  for (const p of people) {
    const tenant = NO[p.tenant ?? T1] as number;
    const mail = p.mail ?? null;
    await db
      .insertInto('users')
      .values({
        tenant_no: tenant, id: id(p.n), upn_lc: foldCase(p.upn), upn_rev: reverseText(foldCase(p.upn)),
        display_name_lc: p.displayName === null ? null : foldCase(p.displayName),
        given_name_lc: null, surname_lc: null, mail_lc: mail === null ? null : foldCase(mail),
        mail_rev: mail === null ? null : reverseText(foldCase(mail)), mail_nickname_lc: null, job_title_lc: null,
        department_lc: null, company_name_lc: null, employee_id_lc: null, user_type: foldCase(p.userType ?? 'Member'),
        creation_type: null, external_user_state: p.externalUserState ? foldCase(p.externalUserState) : null, account_enabled: p.accountEnabled === false ? 0 : 1,
        show_in_address_list: p.showInAddressList === undefined ? 1 : p.showInAddressList === null ? null : p.showInAddressList ? 1 : 0,
        home_tenant_id: null, home_user_id: null, password_hash: null, created_at: p.createdAt ?? '2023-01-01T00:00:00.000Z',
        deleted_at: p.deleted ? '2024-06-01T00:00:00.000Z' : null, data: JSON.stringify({ displayName: p.displayName }),
      })
      .execute();
    const values: { attr: string; v1: string; v2?: string; v3?: string; rev?: boolean }[] = [
      ...(p.otherMails ?? []).map((v) => ({ attr: 'otherMails', v1: v, rev: true })),
      ...(p.proxyAddresses ?? []).map((v) => ({ attr: 'proxyAddresses', v1: v, rev: true })),
      ...(p.identities ?? []).map((i) => ({ attr: 'identities', v1: i.issuerAssignedId, v2: i.issuer, v3: i.signInType })),
    ];
    let ord = 0;
    for (const v of values) {
      const v1 = foldCase(v.v1);
      await db
        .insertInto('user_values')
        .values({
          tenant_no: tenant, user_id: id(p.n), attr: v.attr, ord: ord++, v1, v1_rev: v.rev ? reverseText(v1) : null,
          v2: v.v2 === undefined ? null : foldCase(v.v2), v3: v.v3 === undefined ? null : foldCase(v.v3),
        })
        .execute();
    }
    for (const token of tokenize(p.displayName ?? '')) {
      await db
        .insertInto('search_tokens')
        .values({ tenant_no: tenant, object_type: 'user', prop: 'displayName', token, object_id: id(p.n) })
        .execute();
    }
  }
}

function throwsCode(promise: Promise<unknown>, code: string, fragment?: string) {
  return assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof DomainError, `expected DomainError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (fragment) assert.ok(e.message.includes(fragment), `message was: ${e.message}`);
    return true;
  });
}

function compileSuite(name: string, open: () => Promise<{ db: Kysely<Schema>; schema?: string; close: () => Promise<void> }>) {
  describe(name, () => {
    let db: Kysely<Schema>;
    let close: () => Promise<void>;
    before(async () => {
      const opened = await open();
      ({ db, close } = opened);
      // The migration table's schema pinned: unpinned, Kysely takes another run's kysely_migration_lock
      // (in its own private schema) for this one's, and fails to lock a table that isn't here.
      const { error } = await new Migrator({ db, provider: migrationProvider, ...(opened.schema ? { migrationTableSchema: opened.schema } : {}) }).migrateToLatest();
      if (error) throw error;
      await seed(db);
    });
    after(async () => close());

    const base: ListQuery = { top: 100, advanced: false, count: false, deleted: false };
    const ids = async (q: Partial<ListQuery>, tenant = T1) =>
      (await listObjects(db, userCatalog, tenant, { ...base, ...q })).rows.map((r) => Number(r.id.slice(-12))).sort((a, b) => a - b);
    const filter = (text: string, advanced = false) => ids({ filter: parseFilter(text), advanced });
    const search = (text: string, extra: Partial<ListQuery> = {}) => ids({ search: parseSearch(text), advanced: true, ...extra });

    test('scalar comparisons, case-insensitive', async () => {
      assert.deepEqual(await filter("displayName eq 'ANNIE smith'"), [1]);
      assert.deepEqual(await filter("userPrincipalName eq 'Marek@Contoso.com'"), [4]);
      assert.deepEqual(await filter("userType eq 'Guest'"), [2, 8]);
      assert.deepEqual(await filter('accountEnabled eq false'), [2]);
      assert.deepEqual(await filter("createdDateTime ge 2024-03-01T00:00:00Z", true), [3, 4, 5]);
      assert.deepEqual(await filter("createdDateTime lt 2024-02-01T00:00:00Z and createdDateTime gt 2023-06-01T00:00:00Z", true), [1]);
      assert.deepEqual(await filter(`id eq ${id(3)}`), [3]);
      assert.deepEqual(await filter(`id in ('${id(3)}', ${id(4)})`), [3, 4]);
    });

    test('startsWith, endsWith, in', async () => {
      assert.deepEqual(await filter("startsWith(displayName,'MAR')"), [2, 3, 4]);
      assert.deepEqual(await filter("startswith(userPrincipalName,'mar')"), [2, 3, 4]);
      assert.deepEqual(await filter("startsWith(displayName,'')"), [1, 2, 3, 4, 8]);
      assert.deepEqual(await filter("endsWith(mail,'@CONTOSO.com')", true), [1, 4, 8]);
      assert.deepEqual(await filter("endsWith(userPrincipalName,'#EXT#@contoso.onmicrosoft.com')", true), [2]);
      assert.deepEqual(await filter("userType in ('guest', 'nobody')"), [2, 8]);
      assert.deepEqual(await filter("mail in ('marek@contoso.com', null)"), [2, 4, 5]);
    });

    test('null, ne and not follow OData null semantics', async () => {
      assert.deepEqual(await filter('mail eq null'), [2, 5]);
      assert.deepEqual(await filter('mail ne null', true), [1, 3, 4, 8]);
      assert.deepEqual(await filter('showInAddressList eq null', true), [3]);
      // ne 'x' includes objects whose value is null: null is not equal to 'x'.
      assert.deepEqual(await filter("mail ne 'annie@contoso.com'", true), [2, 3, 4, 5, 8]);
      assert.deepEqual(await filter("not(startsWith(displayName,'mar'))", true), [1, 5, 8]);
      assert.deepEqual(await filter("not(startsWith(displayName,'mar') or userType eq 'Guest')", true), [1, 5]);
      assert.deepEqual(await filter("not(userType ne 'Guest')", true), [2, 8]);
      assert.deepEqual(await filter('showInAddressList ne true', true), [3]);
      assert.deepEqual(await filter("not(mail in ('annie@contoso.com', null))", true), [3, 4, 8]);
      assert.deepEqual(await filter(`id ne ${id(1)}`, true), [2, 3, 4, 5, 8]);
    });

    test('any() over collections uses the values table', async () => {
      assert.deepEqual(await filter("otherMails/any(x: x eq 'annie.s@gmail.com')"), [1]);
      assert.deepEqual(await filter("otherMails/any(x: startsWith(x, 'M'))"), [3]);
      assert.deepEqual(await filter("otherMails/any(x: endsWith(x, '@gmail.com'))", true), [1, 3]);
      assert.deepEqual(await filter("proxyAddresses/any(p: p eq 'smtp:as@contoso.net')"), [1]);
      assert.deepEqual(await filter("proxyAddresses/any(p: startsWith(p, 'SMTP:annie'))"), [1]);
      assert.deepEqual(
        await filter("identities/any(c: c/issuerAssignedId eq 'mark@fabrikam.com' and c/issuer eq 'fabrikam.com')"),
        [2],
      );
      assert.deepEqual(await filter("identities/any(c: c/issuer eq 'fabrikam.com')"), [2, 8]);
      assert.deepEqual(await filter("identities/any(c: c/issuer eq 'contoso.com' or c/signInType eq 'federated')"), [1, 2]);
      assert.deepEqual(await filter("identities/any(c: c/issuer eq 'fabrikam.com') and userType eq 'Guest' and accountEnabled eq true"), [8]);
    });

    test('unsupported and advanced-only filters give Graph errors', async () => {
      const q = (text: string, advanced = false) => listObjects(db, userCatalog, T1, { ...base, filter: parseFilter(text), advanced });
      await throwsCode(q("city eq 'x'"), 'Request_UnsupportedQuery',
        "Unsupported or invalid query filter clause specified for property 'city' of resource 'User'.");
      await throwsCode(q("endsWith(jobTitle,'x')", true), 'Request_UnsupportedQuery', "property 'jobTitle' of resource 'User'");
      await throwsCode(q("endsWith(mail,'@x.com')"), 'Request_UnsupportedQuery',
        "Operator 'endsWith' is not supported because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information");
      await throwsCode(q(`id ne ${id(1)}`), 'Request_UnsupportedQuery', "Operator 'ne' is not supported");
      await throwsCode(q(`not(id eq ${id(1)})`), 'Request_UnsupportedQuery', "Operator 'not' is not supported");
      await throwsCode(q("mail ne 'annie@contoso.com'"), 'Request_UnsupportedQuery', "Operator 'ne' is not supported");
      await throwsCode(q("not(startsWith(displayName,'mar'))"), 'Request_UnsupportedQuery', "Operator 'not' is not supported");
      await throwsCode(q("startsWith(displayName,'a') and displayName gt 'b'"), 'Request_UnsupportedQuery', "Operator 'gt'");
      await throwsCode(q("businessPhones/any(x: startsWith(x,'1'))"), 'Request_UnsupportedQuery', "property 'businessPhones'");
      await throwsCode(q("identities/any(c: c/foo eq 'x')"), 'Request_UnsupportedQuery', "property 'identities/foo'");
      await throwsCode(q("otherMails/all(x: x eq 'a')"), 'Request_UnsupportedQuery', "property 'otherMails'");
      await throwsCode(q("otherMails eq 'a'"), 'Request_UnsupportedQuery', "property 'otherMails'");
      await throwsCode(q('accountEnabled eq 1'), 'Request_BadRequest', "operand types 'Edm.Boolean' and 'Edm.Int32'");
      const many = Array.from({ length: 16 }, (_, i) => `'u${i}'`).join(',');
      await throwsCode(q(`userType in (${many})`), 'Request_BadRequest', 'at most 15 values');
    });

    test('$search: tokenized displayName, prefix on other properties', async () => {
      assert.deepEqual(await search('"displayName:ann"'), [1]);
      assert.deepEqual(await search('"displayName:smi ann"'), [1]);
      assert.deepEqual(await search('"displayName:AnnSmi"'), [1]);
      assert.deepEqual(await search('"displayName:mc"'), [3]);
      assert.deepEqual(await search('"displayName:2"'), [3]);
      assert.deepEqual(await search('"displayName:ith"'), []);
      // Marek Marsh has two tokens starting with "mar" and is still listed once.
      assert.deepEqual(await search('"displayName:mar"'), [2, 3, 4]);
      assert.deepEqual(await search('"mail:mar"'), [3, 4]);
      assert.deepEqual(await search('"displayName:mar" AND "mail:mar"'), [3, 4]);
      assert.deepEqual(await search('"displayName:omar" OR "mail:annie"'), [1, 8]);
      assert.deepEqual(await search('("displayName:mar" OR "displayName:ann") AND "userPrincipalName:ma"'), [2, 3, 4]);
      assert.deepEqual(await search('"displayName:mar"', { filter: parseFilter("userType eq 'Guest'") }), [2]);
      assert.deepEqual(await search('"displayName:mar"', { deleted: true }), [6]);
      assert.deepEqual(await ids({ search: parseSearch('"displayName:mar"'), advanced: true }, T2), [7]);
      const s = (text: string) => listObjects(db, userCatalog, T1, { ...base, advanced: true, search: parseSearch(text) });
      await throwsCode(s('"annie"'), 'Request_BadRequest', 'must name a property');
      await throwsCode(s('"userType:member"'), 'Request_UnsupportedQuery', "property 'userType' of resource 'User'");
    });

    test('$orderby, deleted rows, count', async () => {
      const page = await listObjects(db, userCatalog, T1, { ...base, orderBy: parseOrderBy('displayName desc') });
      const names = page.rows.map((r) => (JSON.parse(r.data) as { displayName: string | null }).displayName).filter((n) => n !== null);
      assert.deepEqual(names, ['Omar Okafor', 'Mark Jones', 'Maria McDonald2', 'Marek Marsh', 'Annie Smith']);
      await throwsCode(listObjects(db, userCatalog, T1, { ...base, orderBy: parseOrderBy('mail') }), 'Request_UnsupportedQuery', "'mail'");
      await throwsCode(
        listObjects(db, userCatalog, T1, { ...base, orderBy: parseOrderBy('displayName'), filter: parseFilter("userType eq 'Guest'") }),
        'Request_UnsupportedQuery',
        'Sorting not supported for current query.',
      );
      assert.deepEqual(await ids({ deleted: true }), [6]);
      const counted = await listObjects(db, userCatalog, T1, { ...base, top: 1, count: true, search: parseSearch('"displayName:mar" OR "mail:omar"'), advanced: true });
      assert.equal(counted.count, 4);
      assert.equal(counted.rows.length, 1);
      assert.equal(await countObjects(db, userCatalog, T1, { advanced: false, deleted: false }), LIVE_T1.length);
      assert.equal(await countObjects(db, userCatalog, T1, { advanced: false, deleted: false, filter: parseFilter("userType eq 'Guest'") }), 2);
    });

    /** Follows cursors until the end; checks no row repeats and returns the ids in page order. */
    async function pageThrough(q: Partial<ListQuery>, top: number): Promise<{ ids: number[]; pages: number }> {
      const seen: number[] = [];
      let cursor: Cursor | undefined;
      let pages = 0;
      do {
        // The cursor goes through JSON, as the $skiptoken will.
        const page = await listObjects(db, userCatalog, T1, { ...base, advanced: true, ...q, top, ...(cursor ? { cursor } : {}) });
        pages++;
        assert.ok(page.rows.length <= top);
        seen.push(...page.rows.map((r) => Number(r.id.slice(-12))));
        cursor = page.next ? (JSON.parse(JSON.stringify(page.next)) as Cursor) : undefined;
      } while (cursor && pages < 50);
      assert.equal(new Set(seen).size, seen.length, `duplicates in ${seen}`);
      return { ids: seen, pages };
    }

    test('paging with the cursor: keyset on id, on the driving index, on tokens, across OR branches, offset', async () => {
      const plain = await pageThrough({}, 2);
      assert.deepEqual(plain.ids, LIVE_T1);
      assert.equal(plain.pages, 3);
      const prefix = await pageThrough({ filter: parseFilter("startsWith(userPrincipalName,'m')") }, 1);
      assert.deepEqual(prefix.ids, [4, 3, 2]);
      const tokens = await pageThrough({ search: parseSearch('"displayName:mar"') }, 1);
      assert.deepEqual([...tokens.ids].sort(), [2, 3, 4]);
      assert.equal(tokens.pages, 3);
      const branches = await pageThrough({ search: parseSearch('"displayName:mar" OR "mail:annie" OR "displayName:omar"') }, 2);
      assert.deepEqual([...branches.ids].sort(), [1, 2, 3, 4, 8]);
      assert.equal(branches.pages, 3);
      const filterOr = await pageThrough({ filter: parseFilter("startsWith(displayName,'mar') or startsWith(mail,'annie') or userType eq 'Guest'") }, 1);
      assert.deepEqual([...filterOr.ids].sort(), [1, 2, 3, 4, 8]);
      const sorted = await pageThrough({ orderBy: parseOrderBy('displayName,userPrincipalName desc') }, 2);
      assert.deepEqual([...sorted.ids].sort(), LIVE_T1);
      assert.equal(sorted.pages, 3);
      const sortedOr = await pageThrough({ orderBy: parseOrderBy('displayName'), search: parseSearch('"displayName:mar" OR "mail:omar"') }, 1);
      assert.deepEqual(sortedOr.ids, [4, 3, 2, 8]);
      await throwsCode(
        listObjects(db, userCatalog, T1, { ...base, orderBy: parseOrderBy('displayName'), cursor: { kind: 'after', branch: 0, key: null, id: id(1) } }),
        'Request_BadRequest',
        '$skiptoken',
      );
    });

  });
}

// ---------------------------------------------------------------------------------------------

compileSuite('SQLite', async () => {
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: new Database(':memory:') }) });
  return { db, close: () => db.destroy() };
});

describe('multi-word search terms', () => {
  test('the page walks the rarest word of a term, measured by a bounded count', async () => {
    const queries: CompiledQuery[] = [];
    const db = new Kysely<Schema>({
      dialect: new SqliteDialect({ database: new Database(':memory:') }),
      log: (e) => {
        if (e.level === 'query') queries.push(e.query);
      },
    });
    await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
    // 300 objects have a "mar…" token, 2 have "zol…": walking "zol" probes 2 rows instead of 300.
    const rows = Array.from({ length: 300 }, (_, i) => ({ tenant_no: 1, object_type: 'user', prop: 'displayName', token: `mar${i}`, object_id: `o${i}` }));
    rows.push({ tenant_no: 1, object_type: 'user', prop: 'displayName', token: 'zoltan', object_id: 'o1' });
    rows.push({ tenant_no: 1, object_type: 'user', prop: 'displayName', token: 'zola', object_id: 'o2' });
    await seedTenants(db);
    await db.insertInto('search_tokens').values(rows).execute();
    for (const text of ['mar zol', 'zol mar']) {
      queries.length = 0;
      await listObjects(db, userCatalog, T1, { search: parseSearch(`"displayName:${text}"`), top: 25, advanced: true, count: false, deleted: false });
      const page = queries.find((q) => q.sql.includes('search_tokens as drv'));
      assert.ok(page, 'a token-driven page query ran');
      assert.ok((page.parameters as unknown[]).includes('zol'), `"${text}" walks the rare word`);
      assert.ok(!(page.parameters as unknown[]).slice(0, 5).includes('mar'), `"${text}" does not walk the common word`);
    }
    await db.destroy();
  });
});

describe('SQLite query plans', () => {
  test('startsWith, endsWith, search and any() use indexes, never a scan of users', async () => {
    const raw = new Database(':memory:');
    const queries: CompiledQuery[] = [];
    const db = new Kysely<Schema>({
      dialect: new SqliteDialect({ database: raw }),
      log: (e) => {
        if (e.level === 'query') queries.push(e.query);
      },
    });
    await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
    const planOf = async (q: Partial<ListQuery>) => {
      queries.length = 0;
      await listObjects(db, userCatalog, T1, { top: 25, advanced: true, count: false, deleted: false, ...q });
      return queries
        .map((c) => (raw.prepare(`explain query plan ${c.sql}`).all(...(c.parameters as unknown[])) as { detail: string }[]).map((r) => r.detail).join('\n'))
        .join('\n');
    };
    const cases: [string, Partial<ListQuery>, RegExp][] = [
      ['startsWith', { filter: parseFilter("startsWith(displayName,'mar')") }, /USING INDEX users_display_name_lc \(tenant_no=\? AND display_name_lc>\? AND display_name_lc<\?\)/],
      ['endsWith', { filter: parseFilter("endsWith(mail,'@contoso.com')") }, /USING INDEX users_mail_rev/],
      ['search tokens', { search: parseSearch('"displayName:mar smi"') }, /(search_tokens_1|PRIMARY KEY) \(tenant_no=\? AND object_type=\? AND prop=\? AND token>\? AND token<\?\)/],
      ['search prefix', { search: parseSearch('"mail:mar"') }, /USING INDEX users_mail_lc/],
      ['search OR', { search: parseSearch('"displayName:mar" OR "mail:mar"') }, /USING INDEX users_mail_lc/],
      ['any()', { filter: parseFilter("identities/any(c: c/issuerAssignedId eq 'a@b.c')") }, /USING (COVERING )?INDEX user_values_v1 \(tenant_no=\? AND attr=\? AND v1=\?\)/],
      ['plain', {}, /USING INDEX sqlite_autoindex_users_1 \(tenant_no=\?\)/],
    ];
    for (const [name, q, expected] of cases) {
      const plan = await planOf(q);
      assert.doesNotMatch(plan, /SCAN users/, `${name}:\n${plan}`);
      assert.doesNotMatch(plan, /TEMP B-TREE FOR ORDER BY/, `${name} sorts all matches:\n${plan}`);
      assert.match(plan, expected, `${name}:\n${plan}`);
    }
    await db.destroy();
  });

  // The sync engine runs these once per chunk of a batch: a walk over the target tenant's users in any of
  // them makes a cycle quadratic in the target's size (an `upn_lc IN … OR mail_lc IN …` did).
  test("the sync engine's reads seek, never walk a tenant's users", async () => {
    const raw = new Database(':memory:');
    const queries: CompiledQuery[] = [];
    const db = new Kysely<Schema>({
      dialect: new SqliteDialect({ database: raw }),
      log: (e) => {
        if (e.level === 'query') queries.push(e.query);
      },
    });
    await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
    await seedTenants(db);
    const plans = async (fn: () => Promise<unknown>) => {
      queries.length = 0;
      await fn();
      return queries.filter((c) => !/from "?tenants"?/i.test(c.sql))
        .map((c) => (raw.prepare(`explain query plan ${c.sql}`).all(...(c.parameters as unknown[])) as { detail: string }[]).map((r) => r.detail).join('\n'));
    };
    const cases: [string, () => Promise<unknown>][] = [
      ['byAddresses', () => syncReads.byAddresses(db, T1, ['a@b.c', 'd@e.f'])],
      ['linked', () => syncReads.linked(db, T1, 'home', ['u1', 'u2'])],
      ['upnsTaken', () => syncReads.upnsTaken(db, T1, ['a@b.c'])],
      ['users', () => syncReads.users(db, T1, ['u1', 'u2'])],
      ['usersPage', () => syncReads.usersPage(db, T1, 'u1', 100)],
    ];
    for (const [name, fn] of cases) {
      const ps = await plans(fn);
      assert.ok(ps.length > 0, `${name} ran a statement`);
      for (const plan of ps) {
        assert.doesNotMatch(plan, /SCAN (users|u|v)\b/, `${name}:\n${plan}`);
        // An index searched on the tenant alone is a walk over all its users.
        assert.doesNotMatch(plan, /\(tenant_no=\?\)/, `${name} walks the tenant:\n${plan}`);
      }
    }
    await db.destroy();
  });
});

const pgUrl = process.env.OPENMTO_TEST_PG;
if (pgUrl) {
  compileSuite('PostgreSQL', async () => {
    const schema = `openmto_odata_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query(`create schema "${schema}"`);
    // Every pooled connection sees only the private schema.
    const pool = new pg.Pool({ connectionString: pgUrl, max: 4, options: `-c search_path="${schema}"` });
    const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      schema,
      close: async () => {
        await db.destroy();
        await admin.query(`drop schema "${schema}" cascade`);
        await admin.end();
      },
    };
  });
}
