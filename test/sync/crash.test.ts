// Crash safety of the sync engine with real processes: an initial cycle of 20,000 users is cut by SIGKILL
// and resumed by a new process; afterwards every in-scope user exists exactly once in the target and
// nothing is lost. On PostgreSQL two server processes share the job, and the one holding it is killed:
// the other takes it over when the lease runs out.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pg from 'pg';
import { openStore, type Store } from '../../src/store/store.js';
import { cliRun } from '../helpers/cli.js';
import { dialects } from '../helpers/harness.js';
import { tenantKeyOf } from '../../src/store/repos/tenantKeys.js';

const USERS = 20_000;
const bin = join(import.meta.dirname, '..', '..', 'bin', 'openmto.mjs');

async function cli(env: Record<string, string>, ...args: string[]): Promise<string> {
  const r = await cliRun(env, ...args);
  assert.equal(r.code, 0, `openmto ${args.join(' ')}: ${r.stderr}`);
  return args.includes('--json') ? JSON.stringify(r.json()) : r.stdout;
}

function serve(dir: string, env: Record<string, string>): ChildProcess {
  // Lease short enough that a takeover happens within the test's patience; the engine's default is 15 s.
  const child = spawn(process.execPath, [bin, 'serve', '--data', dir, '--port', '0', '--no-demo', '--http'], {
    env: { ...process.env, ...env, OPENMTO_FROM_SOURCE: '1', OPENMTO_SYNC_LEASE_MS: '3000' }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', () => undefined);
  return child;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const stopped = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

interface Setup {
  a: string;
  b: string;
  store: Store;
}

async function setUp(dir: string, env: Record<string, string>): Promise<Setup> {
  const a = JSON.parse(await cli(env, 'tenant', 'create', '--name', 'Source', '--domain', 'source.crash.test', '--json', '--data', dir)).tenantId as string;
  const b = JSON.parse(await cli(env, 'tenant', 'create', '--name', 'Target', '--domain', 'target.crash.test', '--json', '--data', dir)).tenantId as string;
  const lines = Array.from({ length: USERS }, (_, i) => JSON.stringify({
    userPrincipalName: `user${i}@source.crash.test`, displayName: `User ${i}`, mailNickname: `user${i}`, accountEnabled: true, department: 'Crash',
  }));
  writeFileSync(join(dir, 'users.jsonl'), `${lines.join('\n')}\n`);
  await cli(env, 'user', 'import', '--tenant', a, '--file', join(dir, 'users.jsonl'), '--data', dir);
  await cli(env, 'policy', 'sync', 'allow', a, '--tenant', b, '--data', dir);
  await cli(env, 'policy', 'partner', 'set', a, '--tenant', b, '--auto-redeem-inbound', 'true', '--data', dir);
  await cli(env, 'policy', 'partner', 'add', b, '--tenant', a, '--data', dir);
  await cli(env, 'policy', 'partner', 'set', b, '--tenant', a, '--auto-redeem-outbound', 'true', '--data', dir);
  await cli(env, 'sync', 'create', '--tenant', a, '--target', b, '--name', 'crash', '--sync-all', '--data', dir);
  await cli(env, 'sync', 'start', '--tenant', a, '--config', 'crash', '--data', dir);
  const store = await openStore({ url: env.OPENMTO_DATABASE_URL || join(dir, 'openmto.db') });
  return { a, b, store };
}

async function linkedCount(s: Setup): Promise<number> {
  const r = await s.store.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_no', '=', tenantKeyOf(s.b))
    .where('home_tenant_id', '=', s.a).executeTakeFirst();
  return Number(r?.n ?? 0);
}

async function converged(s: Setup): Promise<boolean> {
  const job = await s.store.db.selectFrom('sync_jobs').select(['phase', 'cycle']).where('tenant_id', '=', s.a).executeTakeFirst();
  const items = await s.store.db.selectFrom('work_items').select('id').where('queue', '=', 'sync').execute();
  return job?.phase === 'incremental' && job.cycle === null && items.length === 0;
}

async function assertExactlyOnce(s: Setup): Promise<void> {
  assert.equal(await linkedCount(s), USERS);
  const dupes = await s.store.db.selectFrom('users').select('home_user_id').where('tenant_no', '=', tenantKeyOf(s.b)).where('home_tenant_id', '=', s.a)
    .groupBy('home_user_id').having((eb) => eb.fn.countAll(), '>', 1).execute();
  assert.deepEqual(dupes, []);
  const missing = await s.store.db.selectFrom('users as u').select('u.id').where('u.tenant_no', '=', tenantKeyOf(s.a))
    .where((eb) => eb.not(eb.exists(eb.selectFrom('users as t').select('t.id').where('t.tenant_no', '=', tenantKeyOf(s.b)).whereRef('t.home_user_id', '=', 'u.id'))))
    .execute();
  assert.deepEqual(missing, []);
}

for (const dialect of dialects()) {
  describe(`sync crash safety (${dialect})`, { timeout: 300_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'openmto-crash-'));
    const children: ChildProcess[] = [];
    let database: string | undefined;
    let setup: Setup | undefined;
    const env: Record<string, string> = {};
    after(async () => {
      for (const c of children) c.kill('SIGKILL');
      await Promise.all(children.map(stopped));
      await setup?.store.close();
      rmSync(dir, { recursive: true, force: true });
      if (database) {
        const c = new pg.Client({ connectionString: process.env.OPENMTO_TEST_PG });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
        await c.end();
      }
    });

    test(`SIGKILL in the middle of an initial cycle of ${USERS} users loses and repeats nothing`, async () => {
      if (dialect === 'postgres') {
        database = `openmto_crash_${process.pid}`;
        const c = new pg.Client({ connectionString: process.env.OPENMTO_TEST_PG });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
        await c.query(`CREATE DATABASE "${database}"`);
        await c.end();
        const url = new URL(process.env.OPENMTO_TEST_PG!);
        url.pathname = `/${database}`;
        env.OPENMTO_DATABASE_URL = url.toString();
      }
      setup = await setUp(dir, env);
      const s = setup;
      const first = serve(dir, env);
      children.push(first);
      const second = dialect === 'postgres' ? serve(dir, env) : undefined;
      if (second) children.push(second);
      // Wait until the cycle is well under way, then kill the process that holds the job.
      await waitFor('the initial cycle to start exporting', async () => (await linkedCount(s)) >= 2000, 120_000);
      let victim = first;
      if (second) {
        const item = await s.store.db.selectFrom('work_items').select('lease_owner').where('queue', '=', 'sync').executeTakeFirst();
        const pid = Number(String(item?.lease_owner ?? '').split('-')[0]);
        victim = second.pid === pid ? second : first;
      }
      victim.kill('SIGKILL');
      await stopped(victim);
      const atKill = await linkedCount(s);
      assert.ok(atKill < USERS, `the kill came before the end of the cycle (${atKill} of ${USERS})`);
      // SQLite: a new process resumes; PostgreSQL: the surviving process takes the job over.
      if (!second) children.push(serve(dir, env));
      await waitFor('convergence after the crash', async () => (await linkedCount(s)) === USERS && (await converged(s)), 180_000);
      await assertExactlyOnce(s);
    });
  });
}
