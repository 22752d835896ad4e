// The operator surface: `openmto tenant|app|user` commands on a data directory (also while a server
// runs on it), and the operator REST API guarded by the generated operator key.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '../helpers/harness.js';

const run = promisify(execFile);
const bin = join(import.meta.dirname, '..', '..', 'bin', 'openmto.mjs');

async function cli(dataDir: string, ...args: string[]) {
  const { stdout } = await run(process.execPath, [bin, ...args, '--data', dataDir], { env: { ...process.env, OPENMTO_DATABASE_URL: '' } });
  return stdout;
}

describe('openmto CLI', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'openmto-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('tenant create --json prints the tenant and an admin app with a secret', async () => {
    const out = JSON.parse(await cli(dir, 'tenant', 'create', '--name', 'Fabrikam', '--domain', 'fabrikam.example', '--json'));
    assert.match(out.tenantId, /^[0-9a-f-]{36}$/);
    assert.equal(out.displayName, 'Fabrikam');
    assert.equal(out.domain, 'fabrikam.example');
    assert.match(out.adminApp.clientId, /^[0-9a-f-]{36}$/);
    assert.ok(out.adminApp.clientSecret.length >= 40);
    // Only the hash is stored.
    const db = readFileSync(join(dir, 'openmto.db'));
    assert.equal(db.includes(Buffer.from(out.adminApp.clientSecret)), false);
  });

  test('duplicate domain is refused with a clear message and exit code 1', async () => {
    await assert.rejects(cli(dir, 'tenant', 'create', '--name', 'Again', '--domain', 'fabrikam.example', '--json'), (e: { code?: number; stderr?: string }) => {
      assert.equal(e.code, 1);
      assert.match(String(e.stderr), /already exists/);
      return true;
    });
  });

  test('tenant list, app create, user import, tenant delete', async () => {
    const list = JSON.parse(await cli(dir, 'tenant', 'list', '--json'));
    assert.equal(list.length, 1);
    const app = JSON.parse(await cli(dir, 'app', 'create', '--tenant', 'fabrikam.example', '--name', 'reader', '--permission', 'User.Read.All', '--json'));
    assert.deepEqual(app.permissions, ['User.Read.All']);
    await assert.rejects(cli(dir, 'app', 'create', '--tenant', 'fabrikam.example', '--name', 'x', '--permission', 'Nope.All', '--json'));
    const file = join(dir, 'users.jsonl');
    writeFileSync(file, [
      { userPrincipalName: 'ann@fabrikam.example', displayName: 'Ann', mailNickname: 'ann', accountEnabled: true },
      { userPrincipalName: 'bad upn', displayName: 'Bad', mailNickname: 'bad', accountEnabled: true },
    ].map((u) => JSON.stringify(u)).join('\n'));
    const imported = JSON.parse(await cli(dir, 'user', 'import', '--tenant', 'fabrikam.example', '--file', file, '--json'));
    assert.equal(imported.imported, 1);
    assert.equal(imported.failed.length, 1);
    assert.equal(imported.failed[0].index, 1);
    await cli(dir, 'tenant', 'delete', 'fabrikam.example');
    assert.deepEqual(JSON.parse(await cli(dir, 'tenant', 'list', '--json')), []);
  });
});

describe('operator API', () => {
  let ts: TestServer;
  let key: string;
  before(async () => {
    ts = await startTestServer('sqlite');
    key = readFileSync(ts.server.operatorKeyPath, 'utf8').trim();
  });
  after(() => ts.close());

  test('refuses a missing or wrong operator key', async () => {
    assert.equal((await ts.request('GET', '/operator/v1/tenants')).status, 401);
    const wrong = await ts.request('GET', '/operator/v1/tenants', { token: 'omk_wrong' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.code, 'InvalidAuthenticationToken');
  });

  test('creates a tenant and an app whose credentials get a Graph token', async () => {
    const created = await ts.request('POST', '/operator/v1/tenants', { token: key, body: { name: 'Operated' } });
    assert.equal(created.status, 201);
    const app = await ts.request('POST', `/operator/v1/tenants/${created.body.tenantId}/apps`, {
      token: key, body: { name: 'reader', permissions: ['User.Read.All'] },
    });
    assert.equal(app.status, 201);
    const token = await fetch(`${ts.url}/${created.body.domain}/oauth2/v2.0/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: app.body.clientId, client_secret: app.body.clientSecret, scope: 'https://graph.microsoft.com/.default' }),
    }).then((r) => r.json() as Promise<{ access_token: string }>);
    const users = await ts.request('GET', '/v1.0/users', { token: token.access_token });
    assert.equal(users.status, 200);
    const bad = await ts.request('POST', '/operator/v1/tenants', { token: key, body: { name: '' } });
    assert.equal(bad.status, 400);
    const listed = await ts.request('GET', '/operator/v1/tenants', { token: key });
    assert.ok(listed.body.value.some((t: { tenantId: string }) => t.tenantId === created.body.tenantId));
    assert.equal((await ts.request('DELETE', `/operator/v1/tenants/${created.body.tenantId}`, { token: key })).status, 204);
    assert.equal((await ts.request('GET', '/v1.0/users', { token: token.access_token })).status, 401);
  });
});

describe('CLI beside a running server', () => {
  test('a tenant created by the CLI is served at once by the running server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openmto-live-'));
    const { cpSync } = await import('node:fs');
    const { fixtureTls } = await import('../helpers/harness.js');
    cpSync(fixtureTls, join(dir, 'tls'), { recursive: true });
    const { startServer } = await import('../../src/server.js');
    const server = await startServer({ dataDir: dir, databaseUrl: join(dir, 'openmto.db'), port: 0, host: '127.0.0.1', http: false, demo: false });
    try {
      const created = JSON.parse(await cli(dir, 'tenant', 'create', '--name', 'Live', '--json'));
      const res = await fetch(`${server.url}/${created.tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: created.adminApp.clientId, client_secret: created.adminApp.clientSecret, scope: 'https://graph.microsoft.com/.default' }),
      });
      assert.equal(res.status, 200);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('users the CLI imports show at once in people search on a running server, served from its people index', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openmto-people-'));
    const { cpSync } = await import('node:fs');
    const { fixtureTls } = await import('../helpers/harness.js');
    cpSync(fixtureTls, join(dir, 'tls'), { recursive: true });
    const created = JSON.parse(await cli(dir, 'tenant', 'create', '--name', 'People', '--json'));
    const { startServer } = await import('../../src/server.js');
    const server = await startServer({ dataDir: dir, databaseUrl: join(dir, 'openmto.db'), port: 0, host: '127.0.0.1', http: false, demo: false });
    try {
      const key = readFileSync(server.operatorKeyPath, 'utf8').trim();
      const status = async () => (await fetch(`${server.url}/operator/v1/people-index`, { headers: { authorization: `Bearer ${key}` } })).json() as
        Promise<{ maxUsers: number; tenants: { tenantId: string; status: string; users?: number; seq?: number }[] }>;
      const token = await fetch(`${server.url}/${created.tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: created.adminApp.clientId, client_secret: created.adminApp.clientSecret, scope: 'https://graph.microsoft.com/.default' }),
      }).then((r) => r.json() as Promise<{ access_token: string }>);
      const search = async (p: string) => {
        const r = await fetch(`${server.url}/v1.0/users?$search="displayName:${p}"&$select=id,displayName`, {
          headers: { authorization: `Bearer ${token.access_token}`, consistencylevel: 'eventual' },
        });
        return ((await r.json()) as { value: { displayName: string }[] }).value.map((u) => u.displayName);
      };
      assert.deepEqual(await search('quin'), []);
      // The server builds a tenant's index on its first search (it had none searched before this start).
      let mine: { status: string; users?: number; seq?: number } | undefined;
      for (let i = 0; i < 400 && mine?.status !== 'ready'; i++) {
        mine = (await status()).tenants.find((t) => t.tenantId === created.tenantId);
        if (mine?.status !== 'ready') await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(mine?.status, 'ready');
      const file = join(dir, 'users.jsonl');
      writeFileSync(file, [
        { userPrincipalName: `quinn@${created.domain}`, displayName: 'Quinn Harper', mailNickname: 'quinn', accountEnabled: true },
        { userPrincipalName: `quincy@${created.domain}`, displayName: 'Quincy Adams', mailNickname: 'quincy', accountEnabled: true },
      ].map((u) => JSON.stringify(u)).join('\n'));
      await cli(dir, 'user', 'import', '--tenant', created.tenantId, '--file', file, '--json');
      // Another process wrote them; the index catches up from the change log before answering.
      assert.deepEqual((await search('quin')).sort(), ['Quincy Adams', 'Quinn Harper']);
      const after = (await status()).tenants.find((t) => t.tenantId === created.tenantId);
      assert.equal(after?.status, 'ready');
      assert.equal(after?.users, 2);
      assert.ok((after?.seq ?? 0) > (mine?.seq ?? 0));
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
