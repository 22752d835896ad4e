// The change log's ordering promise, on both databases: a tenant's sequences are gap-free and in commit
// order (a reader never sees sequence n+1 before n), whether `append` writes at once (SQLite) or waits for
// COMMIT (PostgreSQL: repos/changeWrites.ts); a rolled-back savepoint's appends are not logged; the
// object count and the commit's announcement follow the appends that committed.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Change, changesRepo } from '../../src/store/repos/changes.js';
import { tenantKeyOf } from '../../src/store/repos/tenantKeys.js';
import { tenantsRepo } from '../../src/store/repos/tenants.js';
import { type Db, inSavepoint, type Store } from '../../src/store/store.js';
import { dialects, openTestStore } from '../helpers/harness.js';

const now = () => new Date().toISOString();
const created = (id: string): Change => ({ objectType: 'user', objectId: id, change: 'created' });

async function addTenant(store: Store): Promise<string> {
  const id = randomUUID();
  await tenantsRepo.insert(store.db, {
    id, displayName: `T ${id.slice(0, 4)}`, domain: `${randomBytes(5).toString('hex')}.openmto.test`, createdDateTime: now(),
    data: { verifiedDomains: [] },
  });
  return id;
}

async function logged(db: Db, tenantId: string): Promise<{ seq: number; id: string; change: string }[]> {
  const rows = await db.selectFrom('change_log').select(['seq', 'object_id', 'change']).where('tenant_no', '=', tenantKeyOf(tenantId)).orderBy('seq').execute();
  return rows.map((r) => ({ seq: Number(r.seq), id: r.object_id, change: r.change }));
}

for (const dialect of dialects()) {
  describe(`change-log order (${dialect})`, () => {
    let store: Store;
    let closeStore: () => Promise<void>;
    before(async () => {
      ({ store, close: closeStore } = await openTestStore(dialect, 'co'));
    });
    after(() => closeStore());

    test('concurrent creates in one tenant: gap-free sequences, and a reader only ever sees a gap-free prefix', async () => {
      const a = await addTenant(store);
      const n = 40;
      let done = false;
      const seen: number[] = [];
      // A delta-style reader that is not bounded by the head: were sequence order not commit order, it
      // would sooner or later see a later sequence committed before an earlier one (a hole).
      const reader = (async () => {
        while (!done) {
          const seqs = (await logged(store.db, a)).map((r) => r.seq);
          assert.deepEqual(seqs, seqs.map((_, i) => i + 1), `a reader saw a hole: ${seqs.join(',')}`);
          seen.push(seqs.length);
          await sleep(1);
        }
      })();
      const writes = Array.from({ length: n }, (_, i) => store.transaction(async (db) => {
        await changesRepo.append(db, a, [created(`u${i}`)], now());
        // Work after the append, of varying length, so transactions finish out of their start order.
        await sleep((i * 7) % 11);
        await changesRepo.append(db, a, [{ objectType: 'user', objectId: `u${i}`, change: 'updated', props: ['displayName'] }], now());
      }));
      await Promise.all(writes);
      done = true;
      await reader;
      const rows = await logged(store.db, a);
      assert.deepEqual(rows.map((r) => r.seq), Array.from({ length: 2 * n }, (_, i) => i + 1));
      // A transaction's rows are contiguous and in its own order.
      for (let i = 0; i < rows.length; i += 2) {
        assert.equal(rows[i]!.id, rows[i + 1]!.id);
        assert.deepEqual([rows[i]!.change, rows[i + 1]!.change], ['created', 'updated']);
      }
      assert.equal(await changesRepo.head(store.db, a), 2 * n);
      assert.equal(await changesRepo.objectCount(store.db, a), n);
      assert.ok(seen.length > 1, 'the reader ran while the writers did');
    });

    test('a rolled-back savepoint drops its appends; earlier and later ones are logged', async () => {
      const a = await addTenant(store);
      await store.transaction(async (db) => {
        await changesRepo.append(db, a, [created('kept-1')], now());
        await assert.rejects(inSavepoint(db, async () => {
          await changesRepo.append(db, a, [created('dropped')], now());
          throw new Error('undo');
        }), /undo/);
        await changesRepo.append(db, a, [created('kept-2')], now());
      });
      assert.deepEqual((await logged(store.db, a)).map((r) => [r.seq, r.id]), [[1, 'kept-1'], [2, 'kept-2']]);
      assert.equal(await changesRepo.head(store.db, a), 2);
      assert.equal(await changesRepo.objectCount(store.db, a), 2, 'the dropped create is not counted');
    });

    test('appendNow inside a rolled-back savepoint: the appends it wrote early are logged at commit all the same', async () => {
      const a = await addTenant(store);
      await store.transaction(async (db) => {
        await changesRepo.append(db, a, [created('before')], now());
        await assert.rejects(inSavepoint(db, async () => {
          // Writes the waiting 'before' first (seq 1), then its own (seq 2); the rollback undoes both writes.
          assert.equal(await changesRepo.appendNow(db, a, [created('dropped')], now(), true), 2);
          throw new Error('undo');
        }), /undo/);
        // The sequence numbers it took came back with the rollback.
        assert.equal(await changesRepo.appendNow(db, a, [created('now')], now()), 2);
        await changesRepo.append(db, a, [created('after')], now());
      });
      assert.deepEqual((await logged(store.db, a)).map((r) => [r.seq, r.id]), [[1, 'before'], [2, 'now'], [3, 'after']]);
      assert.equal(await changesRepo.objectCount(store.db, a), 3);
    });

    test('a savepoint that succeeds keeps its appends; a transaction that throws logs nothing and announces nothing', async () => {
      const [a, b] = [await addTenant(store), await addTenant(store)];
      const announced: string[][] = [];
      // `null` (tenants unknown) comes when PostgreSQL's listening connection opens: not a commit.
      let listening = dialect !== 'postgres';
      const off = store.onChange((tenants) => {
        if (tenants) announced.push([...tenants].sort());
        else listening = true;
      });
      try {
        for (let i = 0; i < 500 && !listening; i++) await sleep(10);
        await store.transaction(async (db) => {
          await inSavepoint(db, () => changesRepo.append(db, b, [created('in-savepoint')], now()));
          await changesRepo.append(db, a, [created('plain')], now());
        });
        await assert.rejects(store.transaction(async (db) => {
          await changesRepo.append(db, a, [created('rolled-back')], now());
          throw new Error('boom');
        }), /boom/);
        // PostgreSQL delivers NOTIFY through its own connection: wait for the announcement.
        for (let i = 0; i < 200 && !announced.length; i++) await sleep(10);
        await sleep(50);
      } finally {
        off();
      }
      assert.deepEqual((await logged(store.db, b)).map((r) => r.id), ['in-savepoint']);
      assert.deepEqual((await logged(store.db, a)).map((r) => r.id), ['plain']);
      assert.deepEqual(announced, [[a, b].sort()], 'one announcement for the committed transaction, both tenants, none for the failed one');
    });

    test('appends wait for the commit on PostgreSQL and are visible inside the transaction on SQLite', async () => {
      const a = await addTenant(store);
      await store.transaction(async (db) => {
        await changesRepo.append(db, a, [created('x')], now());
        // Reads in the transaction see the row on SQLite (written at once), not yet on PostgreSQL.
        assert.equal((await logged(db, a)).length, dialect === 'postgres' ? 0 : 1);
      });
      assert.deepEqual((await logged(store.db, a)).map((r) => [r.seq, r.id]), [[1, 'x']]);
      // Outside a transaction an append has no commit to wait for.
      await changesRepo.append(store.db, a, [created('y')], now());
      assert.equal(await changesRepo.head(store.db, a), 2);
      await assert.rejects(store.transaction((db) => changesRepo.append(db, randomUUID(), [created('z')], now())), /does not exist/);
    });
  });
}
