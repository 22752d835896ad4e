// Group commit (src/store/sqlite/groupCommit.ts): concurrent transactions share one SQLite transaction and
// one WAL sync, each in its own savepoint. What must hold on both databases: every transaction's writes are
// visible once its promise resolves, a failing one is undone alone, onChange fires once per committed
// transaction and never for a failed one, and nothing acknowledged is lost when the process is killed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fdatasync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import pg from 'pg';
import { systemClock } from '../../src/domain/clock.js';
import { createTenant } from '../../src/identity/tenants.js';
import { changesRepo } from '../../src/store/repos/changes.js';
import { documentsRepo } from '../../src/store/repos/documents.js';
import { usersRepo } from '../../src/store/repos/users.js';
import { connectSqlite, type SqliteStore } from '../../src/store/sqlite/connect.js';
import type { DataSync } from '../../src/store/sqlite/durable.js';
import { migrate, openStore, type Store } from '../../src/store/store.js';
import { dialects } from '../helpers/harness.js';

const pgUrl = () => process.env.OPENMTO_TEST_PG as string;

/** A file-backed store (SQLite: so the WAL sync runs) or a private PostgreSQL schema. */
async function openFileStore(dialect: string, dir: string): Promise<{ store: Store; url: string; schema?: string; close(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const url = join(dir, 'openmto.db');
    const store = await openStore({ url });
    return { store, url, close: () => store.close() };
  }
  const schema = `gc_${randomBytes(6).toString('hex')}`;
  const store = await openStore({ url: pgUrl(), schema });
  return {
    store, url: pgUrl(), schema,
    async close() {
      await store.close();
      const c = new pg.Client({ connectionString: pgUrl() });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    },
  };
}

for (const dialect of dialects()) {
  describe(`group commit (${dialect})`, () => {
    let dir: string;
    let store: Store;
    let opened: Awaited<ReturnType<typeof openFileStore>>;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'openmto-gc-'));
      opened = await openFileStore(dialect, dir);
      store = opened.store;
    });
    after(async () => {
      await opened.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('concurrent transactions: each visible once resolved; a failing one undone alone; onChange once per committed one', async () => {
      const at = new Date().toISOString();
      const tenants: string[] = [];
      for (let t = 0; t < 5; t++) tenants.push((await createTenant(store, systemClock, { name: `GC ${t}`, domain: `gc${t}.group.test` })).tenantId);
      // The probes go to a tenant of their own: a probe's NOTIFY that arrives late (PostgreSQL, a loaded
      // machine) is then told apart from the members' instead of counting as one of them.
      const probe = (await createTenant(store, systemClock, { name: 'GC probe', domain: 'gcprobe.group.test' })).tenantId;
      const heard: string[] = [];
      const unsubscribe = store.onChange((tenants) => {
        for (const t of tenants ?? ['?']) if (t !== probe) heard.push(t);
      });
      let probed = false;
      const probeListener = store.onChange(() => {
        probed = true;
      });
      // PostgreSQL's listening connection opens with the first subscriber: wait until it hears a probe.
      for (let t = 0; !probed; t++) {
        assert.ok(t < 100, 'onChange never fired');
        await store.transaction((db) => changesRepo.append(db, probe, [{ objectType: 'user', objectId: 'probe', change: 'created' }], at));
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 100));
      heard.length = 0;
      const n = 40;
      const outcomes = await Promise.allSettled(Array.from({ length: n }, (_, i) => store.transaction(async (db) => {
        await documentsRepo.put(db, `gc${i}`, 'k', 'v', i, at);
        await changesRepo.append(db, tenants[i % 5]!, [{ objectType: 'user', objectId: `u${i}`, change: 'created' }], at);
        // Every seventh fails after writing: its writes must be rolled back, and only its own.
        if (i % 7 === 3) throw new Error(`member ${i} fails`);
        const back = await documentsRepo.get(db, `gc${i}`, 'k', 'v');
        return [i, back];
      }).then(async (r) => {
        // Visible to a reader outside the transaction as soon as the promise resolves.
        assert.equal(await documentsRepo.get(store.db, `gc${i}`, 'k', 'v'), i);
        return r;
      })));
      unsubscribe();
      probeListener();
      for (let i = 0; i < n; i++) {
        const o = outcomes[i]!;
        if (i % 7 === 3) {
          assert.equal(o.status, 'rejected');
          assert.match(String((o as PromiseRejectedResult).reason), new RegExp(`member ${i} fails`));
          assert.equal(await documentsRepo.get(store.db, `gc${i}`, 'k', 'v'), undefined);
        } else {
          assert.deepEqual(o, { status: 'fulfilled', value: [i, i] });
          assert.equal(await documentsRepo.get(store.db, `gc${i}`, 'k', 'v'), i);
        }
      }
      // PostgreSQL delivers NOTIFY asynchronously.
      for (let t = 0; t < 100 && heard.length < n - 6; t++) await new Promise((r) => setTimeout(r, 20));
      const expected = Array.from({ length: n }, (_, i) => i).filter((i) => i % 7 !== 3).map((i) => tenants[i % 5]!);
      assert.deepEqual([...heard].sort(), expected.sort());
    });

    test('a transaction that opts out of grouping commits on its own, durable too', async () => {
      const at = new Date().toISOString();
      const [a, b] = await Promise.all([
        store.transaction((db) => documentsRepo.put(db, 'solo', 'k', 'a', 1, at), { group: false }),
        store.transaction((db) => documentsRepo.put(db, 'solo', 'k', 'b', 2, at)),
      ]);
      assert.equal(a, undefined);
      assert.equal(b, undefined);
      assert.equal(await documentsRepo.get(store.db, 'solo', 'k', 'a'), 1);
      assert.equal(await documentsRepo.get(store.db, 'solo', 'k', 'b'), 2);
      await assert.rejects(store.transaction(async (db) => {
        await documentsRepo.put(db, 'solo', 'k', 'c', 3, at);
        throw new Error('no');
      }, { group: false }), /no/);
      assert.equal(await documentsRepo.get(store.db, 'solo', 'k', 'c'), undefined);
    });

    if (dialect === 'sqlite') {
      test('concurrent transactions share one SQLite transaction: a member runs before the one ahead of it is committed', async () => {
        const at = new Date().toISOString();
        // A second connection sees only committed data.
        const other = new Database(opened.url, { readonly: true });
        try {
          const seen: boolean[] = [];
          await Promise.all(Array.from({ length: 8 }, (_, i) => store.transaction(async (db) => {
            if (i > 0) {
              const row = other.prepare('select 1 from tenant_documents where tenant_id = ? and kind = ? and "key" = ?').get('grp', 'k', String(i - 1));
              seen.push(row !== undefined);
            }
            await documentsRepo.put(db, 'grp', 'k', String(i), i, at);
          })));
          // Grouped: members ran before the one ahead of them was committed. (Not every one: a batch stops
          // taking members after MAX_OPEN_MS, which a loaded test machine can reach.) Without grouping each
          // member would see the previous one committed.
          assert.equal(seen.length, 7);
          assert.ok(seen.includes(false), `every member saw the one before it committed: ${seen}`);
        } finally {
          other.close();
        }
        for (let i = 0; i < 8; i++) assert.equal(await documentsRepo.get(store.db, 'grp', 'k', String(i)), i);
      });
    }

    test('killed after acknowledgements: every acknowledged create is there', { timeout: 300_000 }, async () => {
      const tenant = await createTenant(store, systemClock, { name: 'Crash', domain: 'gc.crash.test' });
      const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'fixtures', 'groupCommitChild.ts'), opened.url, tenant.tenantId, 'gc.crash.test', '8'], {
        env: { ...process.env, ...(opened.schema ? { OPENMTO_TEST_SCHEMA: opened.schema } : {}) }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => { stderr += c; });
      const acked: string[] = [];
      let partial = '';
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      await new Promise<void>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`child exited early (${code}): ${stderr}`)));
        child.stdout.on('data', (c: Buffer) => {
          const lines = (partial + c).split('\n');
          partial = lines.pop() ?? '';
          acked.push(...lines);
          if (acked.length >= 500) {
            child.kill('SIGKILL');
            resolve();
          }
        });
      });
      await exited;
      const missing: string[] = [];
      for (const upn of acked) if (!(await usersRepo.upnTaken(store.db, tenant.tenantId, upn))) missing.push(upn);
      assert.deepEqual(missing, []);
      assert.ok(acked.length >= 500);
    });
  });
}

// The WAL sync observed: SQLite-only tests with a store whose fdatasync the test sees and holds back.
describe('group commit and the WAL sync (sqlite)', () => {
  let dir: string;
  const stores: SqliteStore[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'openmto-gcsync-'));
  });
  after(async () => {
    for (const s of stores) await s.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const open = async (name: string, datasync: DataSync): Promise<{ store: SqliteStore; url: string }> => {
    const url = join(dir, `${name}.db`);
    const store = connectSqlite(url, { datasync });
    stores.push(store);
    await migrate(store.db);
    return { store, url };
  };
  const at = new Date().toISOString();
  const put = (store: Store, key: string, fail = false) => store.transaction(async (db) => {
    await documentsRepo.put(db, 'sync', 'k', key, key, at);
    if (fail) throw new Error(`${key} fails`);
    return key;
  });

  test('no acknowledgement precedes the fdatasync of the WAL that holds its commit', async () => {
    // What another connection sees when a sync starts is what that sync covers (committed = in the WAL);
    // it counts only once the sync has returned.
    const synced = new Set<string>();
    let other: Database.Database | undefined;
    let syncs = 0;
    const { store, url } = await open('ack', (fd, done) => {
      const covered = (other?.prepare("select \"key\" from tenant_documents where kind = 'k'").all() as { key: string }[] | undefined) ?? [];
      syncs++;
      // Slow, as a loaded disk is: later commits pile up behind it.
      setTimeout(() => fdatasync(fd, (err) => {
        for (const r of covered) synced.add(r.key);
        done(err);
      }), 3);
    });
    await store.transaction(async () => undefined);
    other = new Database(url, { readonly: true });
    try {
      const early: string[] = [];
      const settle = (key: string) => (v: string) => {
        if (!synced.has(key)) early.push(key);
        return v;
      };
      // Waves of concurrent transactions and a sequential tail, some failing.
      for (let wave = 0; wave < 5; wave++) {
        const keys = Array.from({ length: 12 }, (_, i) => `w${wave}-${i}`);
        const outcomes = await Promise.allSettled(keys.map((k, i) => put(store, k, i % 5 === 2).then(settle(k))));
        for (const [i, o] of outcomes.entries()) assert.equal(o.status, i % 5 === 2 ? 'rejected' : 'fulfilled', keys[i]);
      }
      for (let i = 0; i < 10; i++) await put(store, `s${i}`).then(settle(`s${i}`));
      assert.deepEqual(early, []);
      assert.ok(syncs >= 10, `${syncs} syncs`);
      // The failed members' writes are not in the file.
      assert.deepEqual(other.prepare("select count(*) as n from tenant_documents where kind = 'k'").get(), { n: 5 * (12 - 2) + 10 });
    } finally {
      other.close();
    }
  });

  test('leader/follower: transactions that arrive while a sync is in flight run at once and commit together, acknowledged after the next sync', async () => {
    const held: (() => void)[] = [];
    const { store, url } = await open('lf', (fd, done) => {
      held.push(() => fdatasync(fd, done));
    });
    const waitFor = async (cond: () => boolean) => {
      for (let t = 0; !cond(); t++) {
        assert.ok(t < 1000, 'timed out');
        await new Promise((r) => setTimeout(r, 2));
      }
    };
    const first = store.transaction(async () => undefined);
    await waitFor(() => held.length === 1);
    held.shift()?.();
    await first;
    const other = new Database(url, { readonly: true });
    const visible = (k: string) => other.prepare("select 1 from tenant_documents where tenant_id = 'lf' and \"key\" = ?").get(k) !== undefined;
    try {
      const before = { ...store.groupStats };
      const ran: string[] = [];
      const acked: string[] = [];
      const tx = (key: string, fail = false) => store.transaction(async (db) => {
        ran.push(key);
        await documentsRepo.put(db, 'lf', 'k', key, key, at);
        if (fail) throw new Error(`${key} fails`);
        return key;
      }).then((v) => {
        acked.push(key);
        return { ok: v };
      }, (e: Error) => ({ failed: e.message }));
      // a runs at once (no sync in flight) and commits; its sync is held.
      const a = tx('a');
      await waitFor(() => held.length === 1);
      assert.deepEqual(ran, ['a']);
      assert.ok(visible('a'));
      // Arriving while a's sync is in flight: they run at once, in one transaction (b fails first and
      // alone, d in the middle), committed only once a's sync is over or the batch's time bound is reached.
      const rest = [tx('b', true), tx('c'), tx('d', true), tx('e')];
      await waitFor(() => ran.length === 5);
      assert.deepEqual(ran, ['a', 'b', 'c', 'd', 'e']);
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(acked, []);
      held.shift()?.();
      assert.deepEqual(await a, { ok: 'a' });
      // c and e: committed, but acknowledged only after a sync that started after their commit.
      await waitFor(() => held.length === 1);
      assert.ok(visible('c') && visible('e'));
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(acked, ['a']);
      held.shift()?.();
      assert.deepEqual(await Promise.all(rest), [{ failed: 'b fails' }, { ok: 'c' }, { failed: 'd fails' }, { ok: 'e' }]);
      // Two commits for three members (a machine slow enough to pass MAX_OPEN_MS between members splits it).
      assert.equal(store.groupStats.members - before.members, 3);
      assert.ok(store.groupStats.batches - before.batches <= 3);
      for (const [k, v] of [['a', 'a'], ['b', undefined], ['c', 'c'], ['d', undefined], ['e', 'e']]) {
        assert.equal(await documentsRepo.get(store.db, 'lf', 'k', k as string), v);
      }
      assert.equal(held.length, 0);
    } finally {
      other.close();
    }
  });

  test('a lone transaction commits at once and each waits for its own sync', async () => {
    let syncs = 0;
    const { store } = await open('lone', (fd, done) => {
      syncs++;
      fdatasync(fd, done);
    });
    await store.transaction(async () => undefined);
    const s0 = syncs;
    const b0 = store.groupStats.batches;
    for (let i = 0; i < 5; i++) assert.equal(await put(store, `lone${i}`), `lone${i}`);
    assert.equal(syncs - s0, 5);
    assert.equal(store.groupStats.batches - b0, 5);
  });
});
