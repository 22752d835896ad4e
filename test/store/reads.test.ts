// Reads outside a transaction: on SQLite they can take a synchronous path that skips Kysely's connection
// mutex (query/sqlText.ts). These cases pin what that path must never change: a read never sees another
// caller's uncommitted writes, a write statement never goes down the read path, and pages rendered by the
// database (`render`) carry exactly the asked keys, in order, with null for what a user lacks.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { userCatalog } from '../../src/domain/catalog.js';
import { parseFilter, parseSearch } from '../../src/api/graph/odata/index.js';
import { newUser } from '../../src/directory/users.js';
import { listObjects } from '../../src/store/query/list.js';
import { registerSyncRunner, run, sql } from '../../src/store/query/sqlText.js';
import { tenantsRepo } from '../../src/store/repos/tenants.js';
import { usersRepo } from '../../src/store/repos/users.js';
import type { Store } from '../../src/store/store.js';
import { dialects, openTestStore } from '../helpers/harness.js';

const now = () => new Date().toISOString();

for (const dialect of dialects()) {
  describe(`store reads (${dialect})`, () => {
    let store: Store;
    let closeStore: () => Promise<void>;
    let tenantId: string;
    before(async () => {
      ({ store, close: closeStore } = await openTestStore(dialect, 'r'));
      tenantId = randomUUID();
      await tenantsRepo.insert(store.db, {
        id: tenantId, displayName: 'Reads', domain: `${randomBytes(5).toString('hex')}.openmto.test`, createdDateTime: now(),
        data: { verifiedDomains: [] },
      });
    });
    after(() => closeStore());

    const record = (upn: string, props: Record<string, unknown> = {}) => ({
      tenantId,
      user: newUser({ userPrincipalName: upn, displayName: 'Zed Pending', mailNickname: 'zed', accountEnabled: true, ...props }, 'example.test', now()),
      homeTenantId: null, homeUserId: null, passwordHash: null, roles: [],
    });
    const zeds = async () =>
      (await listObjects(store.db, userCatalog, tenantId, {
        filter: parseFilter("startsWith(displayName,'zed')"), top: 10, advanced: false, count: false, deleted: false,
      })).rows.length;

    test('a read while another transaction is open sees only committed rows, then the commit', async () => {
      let release!: () => void;
      const held = new Promise<void>((r) => { release = r; });
      let inserted!: () => void;
      const wrote = new Promise<void>((r) => { inserted = r; });
      const tx = store.transaction(async (db) => {
        await usersRepo.insert(db, tenantId, [record(`zed.${randomBytes(3).toString('hex')}@example.test`)]);
        inserted();
        await held;
      });
      await wrote;
      // On SQLite this read must wait for the connection (the transaction holds it) rather than read
      // through it; on PostgreSQL it runs on another connection and sees the committed state.
      const during = zeds();
      const settledEarly = await Promise.race([during.then(() => true), new Promise((r) => setTimeout(() => r(false), 50))]);
      if (dialect === 'sqlite') assert.equal(settledEarly, false, 'a read must not run on a connection inside an open transaction');
      else assert.equal(await during, 0, 'uncommitted rows are invisible to other connections');
      release();
      await tx;
      assert.equal(await during, dialect === 'sqlite' ? 1 : 0);
      assert.equal(await zeds(), 1, 'the committed row is read after the commit');
    });

    test('a rolled-back write leaves nothing a later read can see', async () => {
      const before = await zeds();
      await assert.rejects(store.transaction(async (db) => {
        await usersRepo.insert(db, tenantId, [record(`zed.${randomBytes(3).toString('hex')}@example.test`)]);
        throw new Error('roll back');
      }), /roll back/);
      assert.equal(await zeds(), before);
    });

    test('inside a transaction run() reads what the transaction wrote, and a rollback undoes it', async () => {
      const key = `tx-${randomBytes(3).toString('hex')}`;
      const probe = (db: typeof store.db) => run<{ key: string }>(db, sql`select key from tenant_documents where tenant_id = ${tenantId} and key = ${key}`);
      await assert.rejects(store.transaction(async (db) => {
        await run(db, sql`insert into tenant_documents (tenant_id, kind, key, data, updated_at) values (${tenantId}, ${'txprobe'}, ${key}, ${'{}'}, ${now()})`);
        assert.deepEqual((await probe(db)).map((r) => r.key), [key]);
        throw new Error('roll back');
      }), /roll back/);
      assert.deepEqual(await probe(store.db), []);
      await store.transaction(async (db) => {
        await run(db, sql`insert into tenant_documents (tenant_id, kind, key, data, updated_at) values (${tenantId}, ${'txprobe'}, ${key}, ${'{}'}, ${now()})`);
      });
      assert.deepEqual((await probe(store.db)).map((r) => r.key), [key]);
    });

    test('a write statement through run() is executed, not mistaken for a read', async () => {
      const key = `probe-${randomBytes(3).toString('hex')}`;
      await run(store.db, sql`insert into tenant_documents (tenant_id, kind, key, data, updated_at) values (${tenantId}, ${'probe'}, ${key}, ${'{}'}, ${now()})`);
      const rows = await run<{ key: string }>(store.db, sql`select key from tenant_documents where tenant_id = ${tenantId} and kind = ${'probe'}`);
      assert.deepEqual(rows.map((r) => r.key), [key]);
    });

    test('render: the asked keys in the asked order, null where absent, values as stored', async () => {
      const rec = record(`render.${randomBytes(3).toString('hex')}@example.test`, {
        displayName: 'Rénée "Q" Zed', businessPhones: ['+1 555'], jobTitle: null,
      });
      await usersRepo.insert(store.db, tenantId, [rec]);
      const page = await listObjects(store.db, userCatalog, tenantId, {
        filter: parseFilter(`id eq '${rec.user.id}'`), top: 1, advanced: false, count: false, deleted: false,
        render: ['displayName', 'id', 'businessPhones', 'jobTitle', 'accountEnabled', 'officeLocation'],
      });
      const text = page.rows[0]?.data ?? '';
      const parsed = JSON.parse(text) as Record<string, unknown>;
      assert.deepEqual(Object.keys(parsed), ['displayName', 'id', 'businessPhones', 'jobTitle', 'accountEnabled', 'officeLocation']);
      assert.deepEqual(parsed, {
        displayName: 'Rénée "Q" Zed', id: rec.user.id, businessPhones: ['+1 555'], jobTitle: null, accountEnabled: true, officeLocation: null,
      });
    });

    test('list pages write LIMIT into the text: a bound LIMIT made SQLite re-prepare the statement on every run', async () => {
      const probe = await openTestStore(dialect, 'l');
      try {
        const id = randomUUID();
        await tenantsRepo.insert(probe.store.db, {
          id, displayName: 'Limits', domain: `${randomBytes(5).toString('hex')}.openmto.test`, createdDateTime: now(), data: { verifiedDomains: [] },
        });
        const texts: string[] = [];
        // Records each statement and declines it, so it still runs through Kysely's executor.
        registerSyncRunner(probe.store.db, (text) => {
          texts.push(text);
          return undefined;
        });
        for (const q of [{ filter: parseFilter("startsWith(displayName,'a')") }, { search: parseSearch('"displayName:a b" OR "mail:a"') }, {}]) {
          await listObjects(probe.store.db, userCatalog, id, { ...q, top: 5, advanced: true, count: false, deleted: false });
        }
        const limited = texts.filter((t) => /\blimit\b/i.test(t));
        assert.ok(limited.length >= 4, texts.join('\n'));
        for (const t of limited) assert.doesNotMatch(t, /\blimit\s+(\?|\$\d)/i, t);
      } finally {
        await probe.close();
      }
    });
  });
}
