// SQLite's data version (src/store/dataVersion.ts): while it holds, nothing was committed, and the reads
// that only check for a change (the token's tenant, the people index's change-log head) are skipped, so a
// people search in steady state runs no SQL. Every commit must move it — this process's, inside a group
// commit or autocommit, and another connection's on the same file (the CLI, in another process) — and the
// next read after one must see it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseFilter } from '../../src/api/graph/odata/index.js';
import type { Actor } from '../../src/directory/access.js';
import { importUsers } from '../../src/directory/import.js';
import { updateUser } from '../../src/directory/users.js';
import { userCatalog } from '../../src/domain/catalog.js';
import { systemClock } from '../../src/domain/clock.js';
import { createTenant, deleteTenant } from '../../src/identity/tenants.js';
import { dataVersion } from '../../src/store/dataVersion.js';
import { enablePeopleIndex } from '../../src/store/people/cache.js';
import { listObjects } from '../../src/store/query/list.js';
import { run, sql } from '../../src/store/query/sqlText.js';
import { changesRepo } from '../../src/store/repos/changes.js';
import { tenantsRepo } from '../../src/store/repos/tenants.js';
import { usersRepo } from '../../src/store/repos/users.js';
import { openStore, type Store } from '../../src/store/store.js';
import { sqliteStatementsDuring } from '../helpers/sqliteStatements.js';

const search = (prefix: string) => ({
  filter: parseFilter(`startsWith(displayName,'${prefix}')`), render: ['id', 'displayName'], top: 10, advanced: false, count: false, deleted: false,
});
const names = async (store: Store, tenantId: string, prefix: string) =>
  (await listObjects(store.db, userCatalog, tenantId, search(prefix))).rows.map((r) => (JSON.parse(r.data) as { displayName: string }).displayName).sort();
const appActor = (tenantId: string): Actor => ({
  principal: { tenantId, kind: 'app', appId: 'test', roles: new Set(['User.ReadWrite.All']), scopes: new Set() }, readLevel: 'all', isAdmin: false,
});

describe('SQLite data version', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'openmto-version-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('it holds while only reads run and moves with every commit of this process, grouped, alone or autocommit', async () => {
    const store = await openStore({ url: ':memory:' });
    try {
      const { tenantId } = await createTenant(store, systemClock, { name: 'Version', domain: 'version.test' });
      const v0 = dataVersion(store.db);
      assert.equal(typeof v0, 'number');
      await run(store.db, sql`select count(*) as n from users`);
      assert.equal(await tenantsRepo.exists(store.db, tenantId), true);
      assert.equal(dataVersion(store.db), v0, 'reads leave it');
      await store.transaction((db) => run(db, sql`update tenants set display_name = 'Grouped' where id = ${tenantId}`));
      const v1 = dataVersion(store.db);
      assert.notEqual(v1, v0, 'a group commit moves it');
      await store.transaction((db) => run(db, sql`update tenants set display_name = 'Alone' where id = ${tenantId}`), { group: false });
      const v2 = dataVersion(store.db);
      assert.ok(v2 !== v1 && v2 !== v0, 'a transaction of its own moves it');
      await store.db.updateTable('tenants').set({ display_name: 'Autocommit' }).where('id', '=', tenantId).execute();
      const v3 = dataVersion(store.db);
      assert.ok(v3 !== v2 && v3 !== v1 && v3 !== v0, 'an autocommit write moves it');
    } finally {
      await store.close();
    }
  });

  test('a search waits for no read while nothing changed, and sees a commit made while it was served from memory', async () => {
    const store = await openStore({ url: join(dir, 'own.db') });
    try {
      const { tenantId } = await createTenant(store, systemClock, { name: 'Own', domain: 'own.test' });
      await importUsers({ store, clock: systemClock }, tenantId, [
        { accountEnabled: true, displayName: 'Kim Ash', mailNickname: 'kim', userPrincipalName: 'kim@own.test' },
        { accountEnabled: true, displayName: 'Kit Birch', mailNickname: 'kit', userPrincipalName: 'kit@own.test' },
      ]);
      const index = enablePeopleIndex(store.db, { maxUsers: 1000 });
      assert.equal(await index.ready(tenantId), true);
      assert.deepEqual(await names(store, tenantId, 'ki'), ['Kim Ash', 'Kit Birch']);
      assert.equal(await tenantsRepo.exists(store.db, tenantId), true);
      const reads = await sqliteStatementsDuring(async () => {
        for (let k = 0; k < 5; k++) {
          assert.deepEqual(await names(store, tenantId, 'ki'), ['Kim Ash', 'Kit Birch']);
          assert.equal(await tenantsRepo.exists(store.db, tenantId), true);
        }
      });
      assert.deepEqual(reads, [], 'nothing committed: no statement');
      // A transaction open across awaits: its write is not committed, so a search meanwhile (on the reader
      // connection) sees the state before it; the next one after COMMIT sees the write.
      const [kim] = (await listObjects(store.db, userCatalog, tenantId, search('kim'))).rows;
      let release: () => void = () => undefined;
      const held = new Promise<void>((r) => {
        release = r;
      });
      let written: () => void = () => undefined;
      const wrote = new Promise<void>((r) => {
        written = r;
      });
      const tx = store.transaction(async (db) => {
        const record = await usersRepo.get(db, tenantId, kim?.id as string);
        assert.ok(record);
        await usersRepo.update(db, tenantId, { ...record, user: { ...record.user, displayName: 'Kimberly Ash' } });
        await changesRepo.append(db, tenantId, [{ objectType: 'user', objectId: record.user.id, change: 'updated', props: ['displayName'] }], new Date().toISOString());
        written();
        await held;
      });
      await wrote;
      assert.deepEqual(await names(store, tenantId, 'ki'), ['Kim Ash', 'Kit Birch'], 'uncommitted: not seen');
      release();
      await tx;
      assert.deepEqual(await names(store, tenantId, 'ki'), ['Kimberly Ash', 'Kit Birch'], 'committed: seen by the next search');
    } finally {
      await store.close();
    }
  });

  test("another connection's commit on the same file (another process) is seen by the next search and tenant check", async () => {
    const path = join(dir, 'shared.db');
    const server = await openStore({ url: path });
    let cli: Store | undefined;
    try {
      const { tenantId } = await createTenant(server, systemClock, { name: 'Shared', domain: 'shared.test' });
      await importUsers({ store: server, clock: systemClock }, tenantId, [
        { accountEnabled: true, displayName: 'Lee Oak', mailNickname: 'lee', userPrincipalName: 'lee@shared.test' },
      ]);
      const index = enablePeopleIndex(server.db, { maxUsers: 1000 });
      assert.equal(await index.ready(tenantId), true);
      assert.deepEqual(await names(server, tenantId, 'le'), ['Lee Oak']);
      assert.equal(await tenantsRepo.exists(server.db, tenantId), true);
      const before = dataVersion(server.db);
      // A store of its own on the file: its own connections, as the CLI's in another process would be.
      cli = await openStore({ url: path });
      const [lee] = (await listObjects(cli.db, userCatalog, tenantId, search('lee'))).rows;
      await updateUser({ store: cli, clock: systemClock }, tenantId, appActor(tenantId), lee?.id as string, { displayName: 'Leona Oak' });
      assert.notEqual(dataVersion(server.db), before, 'the commit shows in the WAL index');
      assert.deepEqual(await names(server, tenantId, 'le'), ['Leona Oak']);
      await deleteTenant(cli, tenantId);
      assert.equal(await tenantsRepo.exists(server.db, tenantId), false, 'a tenant deleted elsewhere is gone at once');
    } finally {
      await cli?.close();
      await server.close();
    }
  });
});
