// Lock order between the sync engine and admin actions (PostgreSQL). A batch fences its work item and
// works under the job's row lock; `start`, `restart` and a policy change lock the job and then touch its
// work item. Taken in opposite orders the two deadlock, and PostgreSQL aborts one of them (40P01): the
// engine's batch is lost and retried after its lease, the admin's request fails. Here admin actions hammer
// a job while its initial cycle runs in tiny batches; neither side may see a deadlock.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dialects, startTestServer, type TestServer } from '../helpers/harness.js';
import { allowInbound, assign, connectedPair, jobPath, linkedByHome, settle } from '../helpers/sync.js';

// PostgreSQL only (SQLite writers are serialized, there is no lock order to get wrong): the suite exists
// where dialects() lists postgres, as CI does.
for (const dialect of dialects().filter((d) => d === 'postgres')) describe(`sync engine and admin actions take locks in one order (${dialect})`, () => {
  let ts: TestServer;
  const errors: unknown[] = [];
  before(async () => {
    ts = await startTestServer(dialect, { sync: { pollMs: 10, engine: { batchSize: 2 }, onError: (e) => errors.push(e) } });
  });
  after(() => ts.close());

  test('start and policy changes during a cycle of 2-user batches never deadlock', async () => {
    const { source, target, cfg, sdk } = await connectedPair(ts);
    const users = await Promise.all(Array.from({ length: 30 }, () => ts.user(source.tenantId)));
    for (const u of users) await assign(ts, source, cfg, u.id);
    await sdk.api(jobPath(cfg, '/start')).post({});
    const failures: string[] = [];
    let cycling = true;
    const admin = (async () => {
      for (let i = 0; cycling && i < 150; i++) {
        try {
          if (i % 3 === 2) await allowInbound(ts, target, source, { sync: true, consent: true });
          else await sdk.api(jobPath(cfg, '/start')).post({});
        } catch (e) {
          failures.push(String((e as Error).message ?? e));
        }
      }
    })();
    const deadline = Date.now() + 60_000;
    while ((await linkedByHome(ts, target, source.tenantId)).size < users.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    cycling = false;
    await admin;
    await settle(ts);
    const deadlocks = errors.filter((e) => /deadlock/i.test(String((e as Error)?.message ?? e)) || (e as { code?: string })?.code === '40P01');
    assert.deepEqual(deadlocks.map(String), []);
    assert.deepEqual(failures, []);
    assert.equal((await linkedByHome(ts, target, source.tenantId)).size, users.length);
  });
});
