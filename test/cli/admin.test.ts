// The small admin commands with good and bad input, in process: tenant, app, invite; the exit code says
// which kind of failure it was, and --json keeps stdout to the one document (errors go to stderr).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cliOk, cliRun } from '../helpers/cli.js';

describe('openmto tenant, app, invite: good and bad input', () => {
  let dir: string;
  const env = { OPENMTO_DATABASE_URL: '' };
  const ok = cliOk(env, () => dir);
  const run = (...args: string[]) => cliRun(env, ...args, '--data', dir);
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'openmto-cli-admin-'));
    await ok('tenant', 'create', '--name', 'Host', '--domain', 'host.cli.test');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('tenant and app', async () => {
    const created = await run('tenant', 'create', '--name', 'Other', '--domain', 'other.cli.test', '--json');
    assert.equal(created.code, 0);
    assert.equal(created.stderr, '');
    assert.equal(created.json<{ domain: string }>().domain, 'other.cli.test');
    assert.equal((await run('tenant', 'create', '--domain', 'x.cli.test')).code, 2);
    const app = (await ok('app', 'create', '--tenant', 'host.cli.test', '--name', 'reports', '--permission', 'User.Read.All', '--json')).json<{ clientId: string }>();
    assert.match(app.clientId, /^[0-9a-f-]{36}$/);
    const noTenant = await run('app', 'create', '--tenant', 'nowhere.cli.test', '--name', 'x', '--json');
    assert.equal(noTenant.code, 4);
    assert.equal(noTenant.stdout.trim(), '');
    assert.equal(JSON.parse(noTenant.stderr).error.code, 'NotFound');
    await ok('tenant', 'delete', 'other.cli.test');
    assert.doesNotMatch((await ok('tenant', 'list')).stdout, /other\.cli\.test/);
  });

  test('invite', async () => {
    const inv = (await ok('invite', '--tenant', 'host.cli.test', '--email', 'pat@partner.example', '--json')).json<{ invitedUserType: string; inviteRedeemUrl: string }>();
    assert.equal(inv.invitedUserType, 'Guest');
    assert.match(inv.inviteRedeemUrl, /^https:\/\//);
    const noEmail = await run('invite', '--tenant', 'host.cli.test');
    assert.equal(noEmail.code, 2);
    assert.match(noEmail.stderr, /^error: UsageError: required option '--email <address>'/);
    const bad = await run('invite', '--tenant', 'host.cli.test', '--email', 'not-an-address');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error: \S+: /);
    assert.equal((await run('invite', 'reset', '--tenant', 'host.cli.test', '--user', 'ghost@host.cli.test')).code, 4);
  });
});
