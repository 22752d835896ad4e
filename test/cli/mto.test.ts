// `openmto mto create|add|join|leave|show` on a temp data directory, no server running: each command
// runs the transitions it queued before exiting.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const bin = join(import.meta.dirname, '..', '..', 'bin', 'openmto.mjs');

describe('openmto mto CLI', () => {
  let dir: string;
  const cli = async (...args: string[]) => {
    const { stdout } = await run(process.execPath, [bin, ...args, '--data', dir], { env: { ...process.env, OPENMTO_DATABASE_URL: '' } });
    return stdout;
  };
  const json = async (...args: string[]) => JSON.parse(await cli(...args, '--json'));
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'openmto-cli-mto-'));
    for (const name of ['contoso', 'fabrikam', 'tailspin']) await cli('tenant', 'create', '--name', name, '--domain', `${name}.example`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('create, add, join, show, leave', async () => {
    const created = await json('mto', 'create', '--tenant', 'contoso.example', '--name', 'Contoso group');
    assert.equal(created.organization.state, 'active');
    assert.equal(created.tenants[0].role, 'owner');
    const added = await json('mto', 'add', '--tenant', 'contoso.example', '--member', 'fabrikam.example');
    const pending = added.tenants.find((t: { displayName: string }) => t.displayName === 'fabrikam');
    assert.equal(pending.state, 'pending');
    assert.equal(pending.transitionDetails.status, 'notStarted');

    const joined = await json('mto', 'join', '--tenant', 'fabrikam.example', '--owner', 'contoso.example');
    assert.equal(joined.joinRequest.memberState, 'active');
    assert.equal(joined.organization.displayName, 'Contoso group');
    assert.deepEqual(joined.tenants.map((t: { state: string }) => t.state), ['active', 'active']);

    const text = await cli('mto', 'show', '--tenant', 'contoso.example');
    assert.match(text, /^Contoso group \(/);
    assert.match(text, /owner\s+active\s+contoso/);

    const left = await json('mto', 'leave', '--tenant', 'fabrikam.example');
    assert.equal(left.organization.state, 'inactive');
    const after = await json('mto', 'show', '--tenant', 'contoso.example');
    assert.equal(after.tenants.length, 1);
  });

  test('a failed join exits 1 and says why', async () => {
    await assert.rejects(cli('mto', 'join', '--tenant', 'tailspin.example', '--owner', 'contoso.example', '--json'), (e: { code?: number; stdout?: string }) => {
      assert.equal(e.code, 1);
      const out = JSON.parse(String(e.stdout));
      assert.equal(out.joinRequest.transitionDetails.status, 'failed');
      assert.match(out.joinRequest.transitionDetails.details, /not added/);
      return true;
    });
    await assert.rejects(cli('mto', 'create', '--tenant', 'contoso.example', '--name', 'Again'), (e: { code?: number; stderr?: string }) => {
      assert.equal(e.code, 1);
      assert.match(String(e.stderr), /Request_BadRequest: The tenant is already part of a multi-tenant organization/);
      return true;
    });
  });
});
