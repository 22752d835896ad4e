// `openmto sync …` end to end on a data directory, in process: create a configuration, assign, validate,
// dry run, start, converge, status, logs, test an expression; and the errors a script can rely on.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { systemClock } from '../../src/domain/clock.js';
import { openStore } from '../../src/store/store.js';
import { startSyncScheduler } from '../../src/sync/index.js';
import { cliOk, cliRun } from '../helpers/cli.js';

describe('openmto sync', () => {
  let dir: string;
  const env = { OPENMTO_DATABASE_URL: '' };
  const ok = cliOk(env, () => dir);
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'openmto-cli-sync-'));
    await ok('tenant', 'create', '--name', 'Alpha', '--domain', 'alpha.cli.test', '--json');
    await ok('tenant', 'create', '--name', 'Beta', '--domain', 'beta.cli.test', '--json');
    const users = ['ann', 'ben', 'cat'].map((n) => JSON.stringify({ userPrincipalName: `${n}@alpha.cli.test`, displayName: n, mailNickname: n, accountEnabled: true }));
    writeFileSync(join(dir, 'u.jsonl'), `${users.join('\n')}\n`);
    await ok('user', 'import', '--tenant', 'alpha.cli.test', '--file', join(dir, 'u.jsonl'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('a configuration from creation to a converged job, with status and logs', async () => {
    const created = (await ok('sync', 'create', '--tenant', 'alpha.cli.test', '--target', 'beta.cli.test', '--name', 'A to B', '--json')).json<{ servicePrincipalId: string; jobId: string }>();
    assert.match(created.jobId, /^Azure2Azure\./);
    // Validation names what is missing, exits 1.
    const bad = await cliRun(env, 'sync', 'validate', '--tenant', 'alpha.cli.test', '--config', 'A to B', '--data', dir);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /AzureActiveDirectoryCrossTenantSyncPolicyCheckFailure: You appear to have entered invalid credentials/);
    await ok('policy', 'partner', 'add', 'alpha.cli.test', '--tenant', 'beta.cli.test');
    await ok('policy', 'sync', 'allow', 'alpha.cli.test', '--tenant', 'beta.cli.test');
    await ok('policy', 'partner', 'set', 'alpha.cli.test', '--tenant', 'beta.cli.test', '--auto-redeem-inbound', 'true');
    await ok('policy', 'partner', 'add', 'beta.cli.test', '--tenant', 'alpha.cli.test');
    await ok('policy', 'partner', 'set', 'beta.cli.test', '--tenant', 'alpha.cli.test', '--auto-redeem-outbound', 'true');
    await ok('sync', 'validate', '--tenant', 'alpha.cli.test', '--config', 'A to B');
    await ok('sync', 'assign', '--tenant', 'alpha.cli.test', '--config', 'A to B', '--user', 'ann@alpha.cli.test');
    await ok('sync', 'assign', '--tenant', 'alpha.cli.test', '--config', created.servicePrincipalId, '--user', 'ben@alpha.cli.test');
    const dry = (await ok('sync', 'dry-run', '--tenant', 'alpha.cli.test', '--config', 'A to B', '--json')).json<{ counts: Record<string, number>; objects: { userPrincipalName: string; action: string }[] }>();
    assert.deepEqual(dry.counts, { create: 2, update: 0, delete: 0, disable: 0, skip: 1, failure: 0 });
    assert.deepEqual(dry.objects.map((o) => o.userPrincipalName).sort(), ['ann@alpha.cli.test', 'ben@alpha.cli.test']);
    await ok('sync', 'start', '--tenant', 'alpha.cli.test', '--config', 'A to B');
    // The server would run it; here a scheduler in process converges it.
    const store = await openStore({ url: join(dir, 'openmto.db') });
    const sync = startSyncScheduler(store, systemClock, { pollMs: 60_000 });
    try {
      await sync.drain();
    } finally {
      await sync.stop();
      await store.close();
    }
    const status = (await ok('sync', 'status', '--tenant', 'alpha.cli.test', '--json')).json<{ configuration: string; status: { code: string; lastExecution: { countExported: number } } }[]>();
    assert.equal(status.length, 1);
    assert.equal(status[0]!.configuration, 'A to B');
    assert.equal(status[0]!.status.code, 'Active');
    assert.equal(status[0]!.status.lastExecution.countExported, 2);
    const text = await ok('sync', 'status', '--tenant', 'alpha.cli.test');
    assert.match(text.stdout, /A to B\s+Active\s+last run .*: 2 exported, 0 failed/);
    const logs = (await ok('sync', 'logs', '--tenant', 'alpha.cli.test', '--config', 'A to B', '--action', 'create', '--json')).json<{ provisioningAction: string }[]>();
    assert.equal(logs.length, 2);
    assert.ok(logs.every((l) => l.provisioningAction === 'create'));
    await ok('sync', 'pause', '--tenant', 'alpha.cli.test', '--config', 'A to B');
    await ok('sync', 'restart', '--tenant', 'alpha.cli.test', '--config', 'A to B', '--scope', 'Full');
  });

  test('test-expression evaluates, and a parse error exits 1 with its position', async () => {
    const r = await cliRun(env, 'sync', 'test-expression', '--expression', 'Join("@", [mailNickname], "contoso.com")', '--input', 'mailNickname=annie');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /annie@contoso\.com/);
    const bad = await cliRun(env, 'sync', 'test-expression', '--expression', 'Join("@", [mailNickname]');
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /parsing failed: .*position/i);
  });

  test('bad input: a clear message and the exit code (1 refused, 2 usage, 4 not found), nothing changed', async () => {
    const both = await cliRun(env, 'sync', 'assign', '--tenant', 'alpha.cli.test', '--config', 'A to B', '--data', dir);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /^error: UsageError: give one of --user or --group/);
    const unknown = await cliRun(env, 'sync', 'start', '--tenant', 'alpha.cli.test', '--config', 'nope', '--data', dir);
    assert.equal(unknown.code, 4);
    assert.match(unknown.stderr, /^error: NotFound: no sync configuration 'nope'/);
    const scope = await cliRun(env, 'sync', 'restart', '--tenant', 'alpha.cli.test', '--config', 'A to B', '--scope', 'Everything', '--data', dir);
    assert.equal(scope.code, 1);
    assert.match(scope.stderr, /'Everything' is not a valid resetScope/);
    const target = await cliRun(env, 'sync', 'create', '--tenant', 'alpha.cli.test', '--target', 'nowhere.test', '--data', dir);
    assert.equal(target.code, 4);
    assert.match(target.stderr, /tenant 'nowhere\.test' does not exist/);
  });
  test('logs filtered by user, action and status; one entry with its steps; on demand; allow deletes; --wait and --watch', async () => {
    const entries = (await ok('sync', 'logs', '--tenant', 'alpha.cli.test', '--config', 'A to B', '--user', 'ann@alpha.cli.test', '--status', 'success', '--json'))
      .json<{ id: string; provisioningAction: string; provisioningSteps: unknown[] }[]>();
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.provisioningAction, 'create');
    assert.equal((await ok('sync', 'logs', '--tenant', 'alpha.cli.test', '--config', 'A to B', '--status', 'failure', '--json')).stdout.trim(), '[]');
    const table = await ok('sync', 'logs', '--tenant', 'alpha.cli.test', '--config', 'A to B', '--action', 'create');
    assert.match(table.stdout, /^TIME\s+ACTION\s+STATUS\s+USER\s+REASON\s+ID\n/);
    assert.match(table.stdout, /create\s+success\s+ben@alpha\.cli\.test/);
    const one = await ok('sync', 'log', entries[0]!.id, '--tenant', 'alpha.cli.test', '--config', 'A to B');
    assert.match(one.stdout, /action:\s+create\n/);
    assert.match(one.stdout, /steps:\n {2}1\. /);
    assert.match(one.stdout, /modified properties:\n/);
    const details = await ok('sync', 'logs', '--tenant', 'alpha.cli.test', '--config', 'A to B', '--details');
    const all = (await ok('sync', 'logs', '--tenant', 'alpha.cli.test', '--config', 'A to B', '--json')).json<unknown[]>();
    assert.equal(details.stdout.match(/^steps:$/gm)?.length, all.length);
    const missing = await cliRun(env, 'sync', 'log', 'no-such-entry', '--tenant', 'alpha.cli.test', '--config', 'A to B', '--data', dir);
    assert.equal(missing.code, 4);
    const badStatus = await cliRun(env, 'sync', 'logs', '--tenant', 'alpha.cli.test', '--config', 'A to B', '--status', 'meh', '--data', dir);
    assert.equal(badStatus.code, 1);
    assert.match(badStatus.stderr, /'meh' is not a provisioningResult/);

    // On demand: cat is assigned, then provisioned at once (no scheduler) with its steps.
    await ok('sync', 'assign', '--tenant', 'alpha.cli.test', '--config', 'A to B', '--user', 'cat@alpha.cli.test');
    const od = (await ok('sync', 'on-demand', '--tenant', 'alpha.cli.test', '--config', 'A to B', '--user', 'cat@alpha.cli.test', '--json'))
      .json<{ result: string; action: string; provisioningSteps: unknown[] }>();
    assert.deepEqual([od.result, od.action], ['Success', 'Create']);
    assert.ok(od.provisioningSteps.length > 0);
    const inBeta = (await ok('users', 'list', '--tenant', 'beta.cli.test', '--json')).json<{ userPrincipalName: string; kind: string }[]>();
    assert.ok(inBeta.some((u) => u.userPrincipalName.startsWith('cat_alpha.cli.test#EXT#') && u.kind === 'b2bMember'));
    assert.equal((await cliRun(env, 'sync', 'on-demand', '--tenant', 'alpha.cli.test', '--config', 'A to B', '--user', 'nobody@alpha.cli.test', '--data', dir)).code, 4);

    // --wait follows the restarted job until a scheduler (here in process, as a server would) converges it.
    const store = await openStore({ url: join(dir, 'openmto.db') });
    const sync = startSyncScheduler(store, systemClock, { pollMs: 100 });
    try {
      await ok('sync', 'start', '--tenant', 'alpha.cli.test', '--config', 'A to B');
      const waited = (await ok('sync', 'allow-deletes', '--tenant', 'alpha.cli.test', '--config', 'A to B', '--wait', '--timeout', '60', '--json'))
        .json<{ converged: boolean; status: { quarantine: unknown } }>();
      assert.equal(waited.converged, true);
      assert.equal(waited.status.quarantine, null);
      const watched = await ok('sync', 'status', '--tenant', 'alpha.cli.test', '--config', 'A to B', '--watch', '--timeout', '30');
      assert.match(watched.stdout, /A to B: converged/);
    } finally {
      await sync.stop();
      await store.close();
    }
    // Paused, a job will not converge: --watch says so at once (exit 1).
    await ok('sync', 'pause', '--tenant', 'alpha.cli.test', '--config', 'A to B');
    const paused = await cliRun(env, 'sync', 'status', '--tenant', 'alpha.cli.test', '--config', 'A to B', '--watch', '--data', dir);
    assert.equal(paused.code, 1);
    assert.match(paused.stderr, /^error: JobNotRunning: the job is paused/);
    // Started with nobody to run it (no server, no worker), --wait gives up after --timeout with exit 1 and a hint.
    await ok('sync', 'create', '--tenant', 'alpha.cli.test', '--target', 'beta.cli.test', '--name', 'A to B again');
    const late = await cliRun(env, 'sync', 'start', '--tenant', 'alpha.cli.test', '--config', 'A to B again', '--wait', '--timeout', '1', '--data', dir);
    assert.equal(late.code, 1);
    assert.match(late.stderr, /^error: Timeout: the job did not converge within 1 s .*\nhint: .*openmto worker/);
    assert.equal((await cliRun(env, 'sync', 'status', '--tenant', 'alpha.cli.test', '--watch', '--data', dir)).code, 2);
  });
});
