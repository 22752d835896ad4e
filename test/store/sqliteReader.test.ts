// Reads while a transaction holds SQLite's one write connection (src/store/sqlite/connect.ts, pace.ts): a
// long transaction gives the event loop turns, and a read outside it made meanwhile answers at once from
// the last committed state (the reader connection): never the transaction's uncommitted writes, and every
// committed one. Before, such a read waited for the whole transaction (a people search behind a sync batch).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../src/domain/clock.js';
import { createTenant } from '../../src/identity/tenants.js';
import { run, sql } from '../../src/store/query/sqlText.js';
import { changesRepo } from '../../src/store/repos/changes.js';
import { HOLD_MS } from '../../src/store/sqlite/pace.js';
import { openStore, type Store } from '../../src/store/store.js';

describe('SQLite: reads beside a long transaction', () => {
  let dir: string;
  let store: Store;
  let tenantId: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'openmto-reader-'));
    store = await openStore({ url: join(dir, 'openmto.db') });
    tenantId = (await createTenant(store, systemClock, { name: 'Reader', domain: 'reader.test' })).tenantId;
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const head = () => changesRepo.head(store.db, tenantId);

  test('a statement-bound transaction gives the loop turns, and reads meanwhile see the committed state only', async () => {
    const before = await head();
    const seen: number[] = [];
    let turns = 0;
    let inside = false;
    // Counts event-loop turns while the transaction runs; each one reads as a request would.
    const tick = async () => {
      while (inside) {
        await new Promise((r) => setImmediate(r));
        if (!inside) break;
        turns++;
        seen.push(await head());
      }
    };
    let writtenSeq = 0;
    const done = store.transaction(async (db) => {
      inside = true;
      void tick();
      writtenSeq = await changesRepo.appendNow(db, tenantId, [{ objectType: 'user', objectId: 'u-reader', change: 'updated' }], new Date().toISOString());
      // Synchronous statements back to back, until the loop has turned a few times or for 2 s (some
      // hundred HOLD_MS, slack for a loaded machine): with no pacing nothing else would run meanwhile.
      const until = performance.now() + 2000;
      while (turns < 3 && performance.now() < until) await run(db, sql`select count(*) as n from change_log`);
      inside = false;
    }, { group: false });
    await done;
    assert.ok(turns >= 3, `the loop turned ${turns} times in 2 s of statements (pacing every ${HOLD_MS} ms)`);
    assert.equal(writtenSeq, before + 1);
    assert.ok(seen.length > 0 && seen.every((s) => s === before), `reads inside saw ${[...new Set(seen)].join(',')}, not only ${before}`);
    assert.equal(await head(), before + 1, 'the commit is seen once it resolves');
  });

  test('a read waits for nothing while a transaction is open across an await', async () => {
    const before = await head();
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const tx = store.transaction(async (db) => {
      await changesRepo.append(db, tenantId, [{ objectType: 'user', objectId: 'u-open', change: 'updated' }], new Date().toISOString());
      await held;
    }, { group: false });
    await new Promise((r) => setTimeout(r, 5));
    // Answered while the transaction is still open (it can't end before `release`): the committed head.
    assert.equal(await head(), before);
    release();
    await tx;
    assert.equal(await head(), before + 1);
  });
});
