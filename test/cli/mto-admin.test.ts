// `openmto mto pending|set-role|remove` in process: tenants added but not joined, role changes (a pending
// tenant's role applies when it joins), removing another tenant; refusals and unknown tenants.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cliOk, cliRun } from '../helpers/cli.js';

type Shown = { tenants: { displayName: string; role: string; state: string }[] };

describe('openmto mto pending, set-role, remove', () => {
  let dir: string;
  const env = { OPENMTO_DATABASE_URL: '' };
  const ok = cliOk(env, () => dir);
  const run = (...args: string[]) => cliRun(env, ...args, '--data', dir);
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'openmto-cli-mto2-'));
    for (const n of ['one', 'two', 'three']) await ok('tenant', 'create', '--name', n, '--domain', `${n}.cli.test`);
    await ok('mto', 'create', '--tenant', 'one.cli.test', '--name', 'Group');
    await ok('mto', 'add', '--tenant', 'one.cli.test', '--member', 'two.cli.test');
    await ok('mto', 'add', '--tenant', 'one.cli.test', '--member', 'three.cli.test');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('pending lists tenants that have not joined; set-role and remove change the organization', async () => {
    const pending = (await ok('mto', 'pending', '--tenant', 'one.cli.test', '--json')).json<{ displayName: string; state: string }[]>();
    assert.deepEqual(pending.map((p) => [p.displayName, p.state]).sort(), [['three', 'pending'], ['two', 'pending']]);
    assert.match((await ok('mto', 'pending', '--tenant', 'one.cli.test')).stdout, /^TENANTID\s+DISPLAYNAME\s+ROLE\s+STATE\s+ADDEDDATETIME\s+TRANSITION\n/);
    await ok('mto', 'set-role', '--tenant', 'one.cli.test', '--member', 'two.cli.test', '--role', 'owner');
    const joined = (await ok('mto', 'join', '--tenant', 'two.cli.test', '--owner', 'one.cli.test', '--json')).json<Shown>();
    assert.deepEqual(joined.tenants.find((t) => t.displayName === 'two'), { ...joined.tenants.find((t) => t.displayName === 'two'), role: 'owner', state: 'active' });
    const removed = (await ok('mto', 'remove', '--tenant', 'one.cli.test', '--member', 'three.cli.test', '--json')).json<Shown>();
    assert.ok(!removed.tenants.some((t) => t.displayName === 'three' && t.state !== 'removed'));
    assert.match((await ok('mto', 'pending', '--tenant', 'one.cli.test')).stdout, /no pending tenants/);
  });

  test('refused and unknown: exit 1 with the reason, 4 for an unknown tenant, 2 for a bad role', async () => {
    const refused = await run('mto', 'create', '--tenant', 'one.cli.test', '--name', 'Again');
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error: Request_BadRequest: The tenant is already part of a multi-tenant organization/);
    assert.equal((await run('mto', 'set-role', '--tenant', 'one.cli.test', '--member', 'nowhere.cli.test', '--role', 'owner')).code, 4);
    assert.equal((await run('mto', 'set-role', '--tenant', 'one.cli.test', '--member', 'two.cli.test', '--role', 'king')).code, 2);
    assert.equal((await run('mto', 'pending', '--tenant', 'nowhere.cli.test')).code, 4);
  });
});
