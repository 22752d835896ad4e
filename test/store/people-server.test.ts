// The people index inside a running server: built on a tenant's first search (not for every tenant at
// start), the request path warmed once through the real app without showing in metrics, and the record
// of recently searched tenants that a restart warms from. Both databases.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseFilter } from '../../src/api/graph/odata/index.js';
import { userCatalog } from '../../src/domain/catalog.js';
import { enablePeopleIndex } from '../../src/store/people/cache.js';
import { recentlySearched, saveRecentlySearched } from '../../src/store/people/recent.js';
import { WARM_UP_PER_SHAPE } from '../../src/api/warmup.js';
import { dialects, eventually, startTestServer, TestClock, type TestServer, type TestTenant } from '../helpers/harness.js';
import { readFileSync } from 'node:fs';
import { sqliteStatementsDuring } from '../helpers/sqliteStatements.js';

interface IndexStatus {
  heldUsers: number;
  bytesPerUser: number | null;
  warmUp: { tenantId: string; answered: number } | null;
  tenants: { tenantId: string; status: string; users?: number; bytesPerUser?: number }[];
}

for (const dialect of dialects()) {
  describe(`people index in the server (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    let b: TestTenant;
    let key: string;

    before(async () => {
      ts = await startTestServer(dialect, { sync: false });
      a = await ts.tenant('A');
      b = await ts.tenant('B');
      for (const name of ['Jamie Lee', 'James Cole', 'Jan Novak', 'Mary Jameson']) await ts.user(a.tenantId, { displayName: name });
      key = readFileSync(ts.server.operatorKeyPath, 'utf8').trim();
    });
    after(() => ts.close());

    const status = async () => (await ts.request('GET', '/operator/v1/people-index', { token: key })).body as IndexStatus;
    const search = (t: TestTenant, p: string) =>
      ts.request('GET', `/v1.0/users?$filter=${encodeURIComponent(`startsWith(displayName,'${p}')`)}&$top=25&$select=id,displayName`, { token: t.adminToken });

    test('no tenant is built at start; the first search builds that tenant only, and warms the request path once, uncounted', async () => {
      assert.deepEqual((await status()).tenants, [], 'nothing searched before this start: nothing built');
      const first = await search(a, 'jam');
      assert.equal(first.status, 200);
      const names = (first.body as { value: { displayName: string }[] }).value.map((u) => u.displayName).sort();
      assert.deepEqual(names, ['James Cole', 'Jamie Lee'], 'SQL answers while the index builds');
      const ready = await eventually(async () => {
        const s = await status();
        return s.tenants.find((t) => t.tenantId === a.tenantId)?.status === 'ready' && s;
      }, 'tenant A ready', 60_000);
      assert.deepEqual(ready.tenants.map((t) => t.tenantId), [a.tenantId], 'tenant B, never searched, is not held');
      assert.equal(ready.warmUp?.tenantId, a.tenantId);
      assert.equal(ready.warmUp?.answered, 4 * WARM_UP_PER_SHAPE, 'every warm-up request was answered');
      assert.ok(ready.bytesPerUser !== null && ready.bytesPerUser > 100, `bytes per user ${ready.bytesPerUser}`);
      const second = await search(a, 'jam');
      assert.deepEqual(second.body, first.body, 'the index answers as SQL did');
      // Warm-up requests leave no trace in the request metrics: only the two searches above.
      const metrics = (await ts.request('GET', '/metrics')).text;
      assert.match(metrics, /^openmto_http_requests_total\{method="GET",route="\/v1.0\/users",status="200"\} 2$/m);
      // A second tenant's first build does not warm again.
      await search(b, 'x');
      await eventually(async () => (await status()).tenants.find((t) => t.tenantId === b.tenantId)?.status === 'ready', 'tenant B ready');
      assert.equal((await status()).warmUp?.tenantId, a.tenantId);
    });

    test('a repeated query text is answered alike, and a bad one refused alike every time (parse cache)', async () => {
      const q = `/v1.0/users?$search=${encodeURIComponent('"displayName:jam" OR "mail:jan"')}&$top=2&$select=id,displayName`;
      const headers = { consistencylevel: 'eventual' };
      const one = await ts.request('GET', q, { token: a.adminToken, headers });
      const two = await ts.request('GET', q, { token: a.adminToken, headers });
      assert.equal(one.status, 200);
      assert.equal(two.text, one.text);
      assert.ok((one.body as { '@odata.nextLink'?: string })['@odata.nextLink'], 'three matches, two a page');
      const bad = `/v1.0/users?$filter=${encodeURIComponent("startsWith(displayName,'jam'")}`;
      const first = await ts.request('GET', bad, { token: a.adminToken });
      const again = await ts.request('GET', bad, { token: a.adminToken });
      assert.equal(first.status, 400);
      assert.equal(again.status, 400);
      // innerError carries each request's id and date.
      const error = (r: { body: unknown }) => {
        const { code, message } = (r.body as { error: { code: string; message: string } }).error;
        return { code, message };
      };
      assert.deepEqual(error(again), error(first));
      assert.match(error(first).message, /Expected '\)' to close startsWith/);
      // The same text without the header is refused as before, though its parse is cached.
      assert.equal((await ts.request('GET', q, { token: a.adminToken })).status, 400);
    });
  });

  describe(`people search in steady state (${dialect})`, () => {
    let ts: TestServer;
    let a: TestTenant;
    before(async () => {
      ts = await startTestServer(dialect, { sync: false });
      a = await ts.tenant('A');
      for (const name of ['Robin Hale', 'Rowan Ives']) await ts.user(a.tenantId, { displayName: name });
    });
    after(() => ts.close());

    const names = async () => {
      const r = await ts.request('GET', `/v1.0/users?$filter=${encodeURIComponent("startsWith(displayName,'ro')")}&$top=25&$select=id,displayName`, {
        token: a.adminToken,
      });
      assert.equal(r.status, 200);
      return (r.body as { value: { displayName: string }[] }).value.map((u) => u.displayName).sort();
    };

    test('a search runs no SQL while nothing was committed (SQLite), and the next one after a write sees it', async () => {
      await names();
      await eventually(async () => {
        const s = (await ts.request('GET', '/operator/v1/people-index', { token: readFileSync(ts.server.operatorKeyPath, 'utf8').trim() })).body as IndexStatus;
        return s.tenants.find((t) => t.tenantId === a.tenantId)?.status === 'ready';
      }, 'tenant A ready', 60_000);
      assert.deepEqual(await names(), ['Robin Hale', 'Rowan Ives']);
      const statements = await sqliteStatementsDuring(async () => {
        for (let k = 0; k < 5; k++) assert.deepEqual(await names(), ['Robin Hale', 'Rowan Ives']);
      });
      // The token's tenant check and the index's change-log head are the reads skipped (store/dataVersion.ts).
      // The MTO worker polls its queue on a timer of its own meanwhile (an empty transaction): not the search's.
      const worker = /^(BEGIN IMMEDIATE|COMMIT)$|"work_items"/;
      if (dialect === 'sqlite') assert.deepEqual(statements.filter((s) => !worker.test(s)), []);
      await ts.user(a.tenantId, { displayName: 'Roisin Vale' });
      assert.deepEqual(await names(), ['Roisin Vale', 'Robin Hale', 'Rowan Ives'].sort());
    });
  });

  describe(`recently searched tenants (${dialect})`, () => {
    test('a restart warms the tenants searched within the idle period before the record was saved', async () => {
      const ts = await startTestServer(dialect, { sync: false });
      const dir = mkdtempSync(join(tmpdir(), 'openmto-recent-'));
      try {
        const a = await ts.tenant('A');
        const b = await ts.tenant('B');
        await ts.user(a.tenantId, { displayName: 'Ann' });
        await ts.user(b.tenantId, { displayName: 'Bob' });
        const clock = new TestClock();
        const index = enablePeopleIndex(ts.server.store.db, { maxUsers: 1000, idleSeconds: 60, clock });
        const q = { filter: parseFilter("startsWith(displayName,'a')"), render: ['id'], top: 5, advanced: false, count: false, deleted: false };
        assert.equal(await index.ready(a.tenantId), true);
        assert.equal(await index.ready(b.tenantId), true);
        clock.advance(50_000);
        assert.ok(await index.list(userCatalog, a.tenantId, q));
        clock.advance(30_000);
        const file = join(dir, 'people-index.json');
        saveRecentlySearched(file, index, clock.now());
        assert.deepEqual(recentlySearched(file), [a.tenantId], 'B was last searched 80 s before the save, A 30 s');
        index.evictIdle();
        clock.advance(60_000);
        index.evictIdle();
        saveRecentlySearched(file, index, clock.now());
        assert.deepEqual(recentlySearched(file), [], 'evicted tenants are not warmed');
        writeFileSync(file, '{not json');
        assert.deepEqual(recentlySearched(file), [], 'an unreadable record warms nothing');
        assert.deepEqual(recentlySearched(join(dir, 'missing.json')), []);
        index.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
        await ts.close();
      }
    });
  });
}
