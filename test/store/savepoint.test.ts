// inSavepoint: a failing part of a transaction is undone alone and the transaction commits the rest, on both
// databases (PostgreSQL aborts the whole transaction on an error unless a savepoint catches it). The sync
// engine re-runs a failed batch object by object this way.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { documentsRepo } from '../../src/store/repos/documents.js';
import { inSavepoint, type Store } from '../../src/store/store.js';
import { dialects, openTestStore } from '../helpers/harness.js';

for (const dialect of dialects()) {
  describe(`savepoints (${dialect})`, () => {
    let store: Store;
    let close: () => Promise<void>;
    before(async () => {
      ({ store, close } = await openTestStore(dialect));
    });
    after(() => close());

    test('a failed part is rolled back alone; what came before and after it commits', async () => {
      const at = new Date().toISOString();
      await store.transaction(async (db) => {
        await documentsRepo.put(db, 't1', 'k', 'before', 1, at);
        await assert.rejects(inSavepoint(db, async () => {
          await documentsRepo.put(db, 't1', 'k', 'inside', 2, at);
          // A statement error: the kind that aborts a PostgreSQL transaction.
          await db.selectFrom('no_such_table' as never).selectAll().execute();
        }));
        await inSavepoint(db, () => documentsRepo.put(db, 't1', 'k', 'after', 3, at));
      });
      assert.equal(await documentsRepo.get(store.db, 't1', 'k', 'before'), 1);
      assert.equal(await documentsRepo.get(store.db, 't1', 'k', 'inside'), undefined);
      assert.equal(await documentsRepo.get(store.db, 't1', 'k', 'after'), 3);
    });
  });
}
