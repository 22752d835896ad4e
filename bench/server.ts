// The real openmto server as a child process (so its CPU is its own in /proc), the `openmto` CLI, and a
// one-connection keep-alive HTTPS client that trusts the server's self-signed certificate.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { freePort, log, repoRoot, run, sleep, startChild } from './env.js';

const cli = join(repoRoot, 'bin/openmto.mjs');

export interface BenchTenant {
  tenantId: string;
  domain: string;
  adminApp: { clientId: string; clientSecret: string };
}

/** `openmto tenant create --json` against a data dir (works with or without a server on it). */
export async function createTenantCli(dataDir: string, name: string, domain: string, env: NodeJS.ProcessEnv = {}): Promise<BenchTenant> {
  const { stdout } = await run(process.execPath, [cli, 'tenant', 'create', '--name', name, '--domain', domain, '--json', '--data', dataDir], {
    cwd: repoRoot, logName: 'openmto-cli', env: { ...process.env, ...env },
  });
  return JSON.parse(stdout) as BenchTenant;
}

export interface ServerChild {
  pid: number;
  port: number;
  dataDir: string;
  client: HttpsClient;
  stop(): Promise<void>;
}

/**
 * Waits until the server's people index (src/store/people) holds the tenant, through the operator API;
 * searches are answered by SQL until then, so a measurement that started earlier would mix the two.
 * Returns the seconds waited and what the index reported.
 */
export async function waitForPeopleIndex(server: ServerChild, tenantId: string, timeoutS = 300): Promise<{ waited_s: number; status: string; users?: number }> {
  const key = readFileSync(join(server.dataDir, 'operator.key'), 'utf8').trim();
  const t0 = Date.now();
  for (;;) {
    const r = await server.client.send('GET', '/operator/v1/people-index', { token: key });
    const mine = (JSON.parse(r.body) as { tenants?: { tenantId: string; status: string; users?: number }[] }).tenants?.find((t) => t.tenantId === tenantId);
    const waited = (Date.now() - t0) / 1000;
    // `warming`: the index answers, but the server's one-time warm-up of the request path still runs on it.
    if (mine && mine.status !== 'building' && mine.status !== 'warming') return { waited_s: waited, status: mine.status, ...(mine.users !== undefined ? { users: mine.users } : {}) };
    if (waited > timeoutS) return { waited_s: waited, status: mine?.status ?? 'absent' };
    await sleep(250);
  }
}

/**
 * The running server's people index memory as it reports it (GET /operator/v1/people-index): bytes per
 * user of the tenant's index (the index's own count, store/people/tenantIndex.ts `bytes`), and overall.
 */
export async function peopleIndexMemory(server: ServerChild, tenantId: string): Promise<{ bytesPerUser: number | null; bytes: number; users: number }> {
  const key = readFileSync(join(server.dataDir, 'operator.key'), 'utf8').trim();
  const r = await server.client.send('GET', '/operator/v1/people-index', { token: key });
  const s = JSON.parse(r.body) as { tenants?: { tenantId: string; users?: number; bytes?: number; bytesPerUser?: number }[] };
  const mine = s.tenants?.find((t) => t.tenantId === tenantId);
  return { bytesPerUser: mine?.bytesPerUser ?? null, bytes: mine?.bytes ?? 0, users: mine?.users ?? 0 };
}

/**
 * The server runs with the V8 flag `npm start` and the `openmto` shebang use (--max-semi-space-size=64);
 * `nodeFlags` go before the script too, e.g. `--cpu-prof` for a diagnostic run.
 */
export async function startServer(
  dataDir: string, logName: string, nodeFlags: readonly string[] = [], env: NodeJS.ProcessEnv = {},
): Promise<ServerChild> {
  await ensureCompiled();
  const port = await freePort();
  const s = startChild(process.execPath, ['--max-semi-space-size=64', ...nodeFlags, cli, 'serve', '--data', dataDir, '--port', String(port), '--no-demo'], {
    cwd: repoRoot, logName,
    // The people index's default budget follows the host's heap and tops out at 1M users; the 1M data set
    // of measurement 4 must fit whatever the host, so the bench sets it.
    // `env` (e.g. OPENMTO_DATABASE_URL for a PostgreSQL run) goes on top.
    // A fresh data dir has no record of searched tenants, so the server would build no index at start;
    // the bench's tenant stands for one in use, so every tenant is built (OPENMTO_PEOPLE_INDEX_WARM=all).
    env: { NODE_ENV: 'production', OPENMTO_PEOPLE_INDEX_MAX_USERS: '2000000', OPENMTO_PEOPLE_INDEX_WARM: 'all', ...process.env, ...env },
  });
  let exited: number | null | undefined;
  s.child.once('exit', (code) => { exited = code; });
  // Ready when the TLS port answers; the certificate is written before the port opens.
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`openmto serve exited with ${exited}; see bench/.data/logs/${logName}.log`);
    if (Date.now() > deadline) throw new Error('openmto serve did not come up within 120 s');
    try {
      const client = new HttpsClient(port, readFileSync(join(dataDir, 'tls/cert.pem'), 'utf8'));
      const r = await client.send('GET', '/common/.well-known/openid-configuration');
      if (r.status > 0) {
        log(`openmto serve pid ${s.pid} on :${port} (${dataDir})`);
        return { pid: s.pid, port, dataDir, client, stop: s.stop };
      }
    } catch {
      // not up yet
    }
    await sleep(200);
  }
}

let compiledOnce: Promise<void> | undefined;

/**
 * Production runs compiled JavaScript (bin/openmto.mjs runs dist/ when it is newer than every source),
 * so the bench measures that: when a source changed since the last build, it builds first (once per
 * run). A build that fails leaves bin/ on the TypeScript sources (tsx), which the log says.
 */
function ensureCompiled(): Promise<void> {
  compiledOnce ??= (async () => {
    const stamp = join(repoRoot, 'dist', '.built');
    const newest = (dir: string): number => readdirSync(dir, { withFileTypes: true })
      .reduce((m, e) => Math.max(m, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs), 0);
    if (existsSync(stamp) && newest(join(repoRoot, 'src')) <= statSync(stamp).mtimeMs) return;
    log('dist/ is older than src/: npm run build');
    try {
      await run(process.execPath, [join(repoRoot, 'scripts/build.mjs')], { cwd: repoRoot, logName: 'build' });
    } catch (e) {
      log(`build failed, the server runs the TypeScript sources through tsx: ${e instanceof Error ? e.message : String(e)}`);
    }
  })();
  return compiledOnce;
}

export interface HttpResponse {
  status: number;
  body: string;
}

/** One keep-alive connection (maxSockets 1): a closed loop of one client, like the peers' bench clients. */
export class HttpsClient {
  private readonly agent: Agent;

  constructor(
    readonly port: number,
    ca: string,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: 1, ca });
  }

  send(method: string, path: string, opts: { token?: string; body?: string; form?: boolean; headers?: Record<string, string> } = {}): Promise<HttpResponse> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) {
      headers['content-type'] = opts.form ? 'application/x-www-form-urlencoded' : 'application/json';
      headers['content-length'] = String(Buffer.byteLength(opts.body));
    }
    return new Promise((res, rej) => {
      const req = request({ host: '127.0.0.1', port: this.port, method, path, headers, agent: this.agent }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => res({ status: r.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        r.on('error', rej);
      });
      req.on('error', rej);
      req.end(opts.body);
    });
  }

  async token(t: BenchTenant): Promise<string> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials', client_id: t.adminApp.clientId, client_secret: t.adminApp.clientSecret,
      scope: 'https://graph.microsoft.com/.default',
    }).toString();
    const r = await this.send('POST', `/${t.tenantId}/oauth2/v2.0/token`, { body: form, form: true });
    const json = JSON.parse(r.body) as { access_token?: string };
    if (!json.access_token) throw new Error(`token request failed (${r.status}): ${r.body}`);
    return json.access_token;
  }

  close(): void {
    this.agent.destroy();
  }
}
