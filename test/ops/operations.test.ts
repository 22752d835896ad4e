// Production operations: health and readiness, Prometheus metrics and who may read them, graceful
// shutdown on SIGTERM of a real `openmto serve` process, and a clear message for a port in use.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../../src/cli/main.js';
import { startTestServer, type TestServer } from '../helpers/harness.js';

describe('health, readiness and metrics', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer('sqlite');
  });
  after(() => ts.close());

  test('/healthz and /readyz answer 200 without a token', async () => {
    assert.deepEqual((await ts.request('GET', '/healthz')).body, { status: 'ok' });
    assert.deepEqual((await ts.request('GET', '/readyz')).body, { status: 'ready' });
  });

  test('/metrics (from loopback) counts requests by route, latency, tokens and queue depth', async () => {
    const t = await ts.tenant();
    await ts.request('GET', '/v1.0/users', { token: t.adminToken });
    await ts.request('GET', '/v1.0/users', { token: t.adminToken });
    const res = await ts.request('GET', '/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(res.text, /^openmto_http_requests_total\{method="GET",route="\/v1.0\/users",status="200"\} 2$/m);
    assert.match(res.text, /^openmto_http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/v1.0\/users"\} 2$/m);
    assert.match(res.text, /^openmto_tokens_issued_total\{grant="client_credentials"\} 1$/m);
    assert.match(res.text, /^# TYPE openmto_queue_depth gauge$/m);
    assert.match(res.text, /^openmto_sign_in_failures_total\{credential="password"\} 0$/m);
    // Tokens, secrets and ids are not labels.
    assert.equal(res.text.includes(t.tenantId), false);
  });
});

describe('metrics from another address', () => {
  test('need the operator key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openmto-metrics-'));
    const { startServer } = await import('../../src/server.js');
    const server = await startServer({ dataDir: dir, databaseUrl: ':memory:', port: 0, host: '127.0.0.1', http: true, demo: false, trustProxy: true });
    try {
      const key = readFileSync(server.operatorKeyPath, 'utf8').trim();
      const remote = { 'x-forwarded-for': '203.0.113.5' };
      assert.equal((await fetch(`${server.url}/metrics`, { headers: remote })).status, 401);
      assert.equal((await fetch(`${server.url}/metrics`, { headers: { ...remote, authorization: 'Bearer omk_wrong' } })).status, 401);
      assert.equal((await fetch(`${server.url}/metrics`, { headers: { ...remote, authorization: `Bearer ${key}` } })).status, 200);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const bin = join(import.meta.dirname, '..', '..', 'bin', 'openmto.mjs');

describe('openmto serve as a process', () => {
  test('SIGTERM: the in-flight request finishes, the process says so and exits 0, the lock is released', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openmto-sigterm-'));
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--http', '--no-demo', '--data', dir], {
      env: { ...process.env, OPENMTO_DATABASE_URL: '' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c) => {
      stdout += String(c);
    });
    child.stderr!.on('data', (c) => {
      stderr += String(c);
    });
    const exited = once(child, 'exit');
    try {
      let url: string | undefined;
      for (let i = 0; i < 300 && !url; i++) {
        url = /listening on (http:\/\/\S+)/.exec(stdout)?.[1];
        if (!url) await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(url, `no banner: ${stdout} ${stderr}`);
      const key = readFileSync(join(dir, 'operator.key'), 'utf8').trim();
      // A tenant create (a scrypt hash and a transaction) is in flight when the signal arrives.
      const inflight = fetch(`${url}/operator/v1/tenants`, {
        method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Late' }),
      });
      await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGTERM');
      assert.equal((await inflight).status, 201);
      const [code] = await exited;
      assert.equal(code, 0, stderr);
      assert.match(stdout, /openmto: SIGTERM received, finishing in-flight requests and stopping\nopenmto: stopped\n$/);
      assert.throws(() => readFileSync(join(dir, 'openmto.lock')));
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('serve errors', () => {
  test('a port in use is refused with a hint at --port; a bad --port value is named', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const port = (blocker.address() as { port: number }).port;
    const dir = mkdtempSync(join(tmpdir(), 'openmto-port-'));
    try {
      const r = await runCli(['serve', '--port', String(port), '--http', '--no-demo', '--data', dir], { capture: true });
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`port ${port} on 127.0.0.1 is already in use; pick another with --port N`));
      // The failed start released its lock.
      assert.throws(() => readFileSync(join(dir, 'openmto.lock')));
      const bad = await runCli(['serve', '--port', 'abc', '--data', dir], { capture: true });
      assert.equal(bad.code, 2, 'a usage error (docs/cli.md, exit codes)');
      assert.match(bad.stderr, /option '--port <n>' argument 'abc' is invalid\. A port is a number from 0 to 65535/);
      const unknown = await runCli(['serve', '--prot', '8443', '--data', dir], { capture: true });
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /unknown option '--prot'/);
    } finally {
      blocker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
