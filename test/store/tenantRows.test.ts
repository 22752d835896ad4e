// PostgreSQL remembers each tenant's row (its change sequence, and that it exists) instead of reading it on
// every request (store/tenantRows.ts): a people search answered from memory makes no SQL round trip while
// nothing changed. What must hold: a write is seen by the next search when this process made it, and once
// its NOTIFY arrives when another process did; a deleted tenant's tokens stop likewise; while the listening
// connection is lost nothing is remembered. Two stores on one schema stand for two processes.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { parseFilter } from '../../src/api/graph/odata/index.js';
import type { Actor } from '../../src/directory/access.js';
import { importUsers } from '../../src/directory/import.js';
import { updateUser } from '../../src/directory/users.js';
import { userCatalog } from '../../src/domain/catalog.js';
import { deleteTenant } from '../../src/identity/tenants.js';
import { enablePeopleIndex, type PeopleIndex } from '../../src/store/people/cache.js';
import type { ListQuery } from '../../src/store/query/list.js';
import { tenantsRepo } from '../../src/store/repos/tenants.js';
import { TenantRowCache } from '../../src/store/tenantRows.js';
import { openStore, type Store } from '../../src/store/store.js';
import { dialects } from '../helpers/harness.js';

const clock = { now: () => new Date() };
const url = process.env.OPENMTO_TEST_PG ?? '';

const byName = (prefix: string): ListQuery => ({
  filter: parseFilter(`startsWith(displayName,'${prefix}')`), render: ['id', 'displayName'], top: 10, advanced: false, count: false, deleted: false,
});

/** Statements this process sends to PostgreSQL that read or write the tenants table, while `fn` runs. */
async function tenantReads(fn: () => Promise<void>): Promise<number> {
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const orig = proto.query;
  let n = 0;
  proto.query = function (this: unknown, ...args: unknown[]) {
    const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string } | undefined)?.text;
    if (text && /\bfrom tenants\b/i.test(text)) n++;
    return orig.apply(this, args);
  };
  try {
    await fn();
  } finally {
    proto.query = orig;
  }
  return n;
}

async function until(what: string, ok: () => Promise<boolean>, ms = 3000): Promise<void> {
  const t0 = Date.now();
  while (!(await ok())) {
    if (Date.now() - t0 > ms) assert.fail(`not within ${ms} ms: ${what}`);
    await sleep(10);
  }
}

for (const dialect of dialects().filter((d) => d === 'postgres')) {
  describe(`tenant rows remembered between commits (${dialect})`, () => {
    const schema = `tr_${randomBytes(6).toString('hex')}`;
    // `here` serves searches; `there` is another process writing to the same database.
    let here: Store;
    let there: Store;
    let index: PeopleIndex;
    let tenantId: string;
    let ids: string[];
    const actorOf = (t: string): Actor => ({
      principal: { tenantId: t, kind: 'app', appId: 'test', roles: new Set(['Directory.ReadWrite.All', 'User.ReadWrite.All']), scopes: new Set() },
      readLevel: 'all', isAdmin: false,
    });
    const names = async (prefix: string) => ((await index.list(userCatalog, tenantId, byName(prefix)))?.rows ?? []).map((r) => JSON.parse(r.data).displayName as string);

    async function addTenant(): Promise<string> {
      const id = randomUUID();
      const domain = `${randomBytes(5).toString('hex')}.openmto.test`;
      await tenantsRepo.insert(here.db, { id, displayName: 'Rows', domain, createdDateTime: clock.now().toISOString(), data: { verifiedDomains: [] } });
      return id;
    }

    before(async () => {
      here = await openStore({ url, schema });
      there = await openStore({ url, schema });
      tenantId = await addTenant();
      const domain = (await tenantsRepo.find(here.db, tenantId))?.domain as string;
      const r = await importUsers({ store: here, clock }, tenantId, Array.from({ length: 30 }, (_, i) => ({
        accountEnabled: true, displayName: `Person ${i}`, mailNickname: `p${i}`, userPrincipalName: `p${i}@${domain}`,
      })));
      assert.equal(r.failed.length, 0);
      index = enablePeopleIndex(here.db, { maxUsers: 10_000 });
      assert.equal(await index.ready(tenantId), true);
      const all = await index.list(userCatalog, tenantId, { ...byName('person'), top: 100 });
      ids = (all?.rows ?? []).map((x) => x.id);
      assert.equal(ids.length, 30);
      // The first search starts the listener; until it listens, every search reads the row.
      await until('searches read no tenant row', async () => (await tenantReads(async () => void (await names('person')))) === 0);
    });
    after(async () => {
      await there.close();
      await here.close();
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    });

    test('searches while nothing changes make no round trip for the tenant row, nor does the token check', async () => {
      const n = await tenantReads(async () => {
        for (let k = 0; k < 20; k++) {
          assert.equal(await tenantsRepo.exists(here.db, tenantId), true);
          assert.equal((await names('person')).length, 10);
        }
      });
      assert.equal(n, 0);
    });

    test('a write in this process is seen by the very next search', async () => {
      for (let k = 0; k < 5; k++) {
        await updateUser({ store: here, clock }, tenantId, actorOf(tenantId), ids[k] as string, { displayName: `Here ${k}` });
        assert.deepEqual(await names(`here ${k}`), [`Here ${k}`]);
      }
    });

    test("another process's write is seen once its NOTIFY arrives", async () => {
      await updateUser({ store: there, clock }, tenantId, actorOf(tenantId), ids[10] as string, { displayName: 'There Ten' });
      await until('the other store\'s write shows', async () => (await names('there ten')).length === 1);
      assert.deepEqual(await names('there ten'), ['There Ten']);
      // And remembered again after it: no round trip until the next change.
      assert.equal(await tenantReads(async () => void (await names('there'))), 0);
    });

    test('a deleted tenant stops at once in this process, and once announced in another', async () => {
      const a = await addTenant();
      const b = await addTenant();
      assert.equal(await tenantsRepo.exists(here.db, a), true);
      assert.equal(await tenantsRepo.exists(here.db, b), true);
      assert.equal(await tenantReads(async () => void (await tenantsRepo.exists(here.db, a))), 0, 'remembered');
      await deleteTenant(here, a);
      assert.equal(await tenantsRepo.exists(here.db, a), false);
      await deleteTenant(there, b);
      await until('the other store\'s deletion shows', async () => !(await tenantsRepo.exists(here.db, b)));
    });

    test('while the listening connection is lost nothing is remembered; back, it is remembered again', async () => {
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        const killed = await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where query = $1`, [`LISTEN "openmto_changes_${schema}"`]);
        assert.ok(killed.rowCount && killed.rowCount >= 1, 'a listening connection');
      } finally {
        await admin.end();
      }
      // The client learns of the lost connection as its socket closes.
      await sleep(200);
      await updateUser({ store: there, clock }, tenantId, actorOf(tenantId), ids[11] as string, { displayName: 'Unheard Eleven' });
      assert.deepEqual(await names('unheard'), ['Unheard Eleven'], 'read from SQL while not listening');
      await until('listening again', async () => (await tenantReads(async () => void (await names('person')))) === 0);
      await updateUser({ store: there, clock }, tenantId, actorOf(tenantId), ids[12] as string, { displayName: 'Heard Twelve' });
      await until('the write after reconnecting shows', async () => (await names('heard')).length === 1);
    });
  });
}

describe('tenant row cache: how long a row is trusted', () => {
  test('a remembered row is read again once older than maxAgeMs, even with the listener up and silent', () => {
    let now = 0;
    let subscribed = 0;
    const cache = new TenantRowCache(() => true, () => void subscribed++, { maxAgeMs: 1000, now: () => now });
    assert.equal(cache.get('t'), undefined);
    assert.equal(subscribed, 1, 'listens from the first use on');
    cache.set('t', 7, cache.stamp, cache.clock());
    now = 1000;
    assert.equal(cache.get('t'), 7, 'trusted up to maxAgeMs');
    now = 1001;
    assert.equal(cache.get('t'), undefined, 'read again after it (a silently dead listener hears nothing)');
    // The age counts from when the read started, not from when it returned.
    const startedAt = cache.clock();
    now = 2500;
    cache.set('t', 8, cache.stamp, startedAt);
    assert.equal(cache.get('t'), undefined, 'a read that took longer than maxAgeMs is not remembered as fresh');
  });

  test('a read in flight across a forget is not remembered; nothing is remembered while not listening', () => {
    let live = true;
    const cache = new TenantRowCache(() => live, () => undefined, { now: () => 0 });
    const stamp = cache.stamp;
    cache.forget(['t']);
    cache.set('t', 3, stamp, 0);
    assert.equal(cache.get('t'), undefined);
    live = false;
    cache.set('t', 4, cache.stamp, 0);
    live = true;
    assert.equal(cache.get('t'), undefined);
  });
});
