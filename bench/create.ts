// Measurement 2: single-user creates.
//  a) POST /v1.0/users over HTTPS to the real server (child process), 1 client, sequential, keep-alive;
//     every body carries a password, which openmto hashes with scrypt (N=2^14) inside the request.
//  b) the cost of that KDF alone (hashSecret, in process), to say where the server's time goes;
//  c) the same users through the import path one at a time (one transaction each), in process, with no
//     password and no HTTP: the create path's storage + validation cost without the KDF;
//  d) POST /v1.0/invitations over HTTPS for the same people (B2B members, no password): Graph's other way
//     to create a user, with the whole HTTPS + auth + transaction path and no KDF — the like-for-like
//     comparison with an LDAP add that carries no password.
// Anchor: OpenLDAP `ldap-peer.sh ldapadd 1` (online, durable, one client) over the same users.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { importUsers } from '../src/directory/import.js';
import { systemClock } from '../src/domain/clock.js';
import { hashSecret } from '../src/identity/secrets.js';
import { openStore } from '../src/store/store.js';
import { log, pct, procCpuSec, round } from './env.js';
import { createTenantCli, startServer } from './server.js';
import { makeBodies } from './users.js';

export interface CreateHttps {
  n: number;
  seconds: number;
  perSec: number;
  p50_ms: number;
  p99_ms: number;
  serverCpuMsPerCreate: number;
  clientCpuMsPerCreate: number;
  /** The warm-up creates, timed the same way (the JIT still compiling the create path). */
  warmup?: { n: number; perSec: number; serverCpuMsPerCreate: number };
}

export interface CreateInProcess {
  n: number;
  perSec: number;
  cpuMsPerCreate: number;
  p50_ms: number;
  p99_ms: number;
}

export interface CreateMeasurement {
  https: CreateHttps;
  /** msPerHash is CPU time. */
  kdf: { hashes: number; msPerHash: number; wallMsPerHash: number };
  inProcessNoPassword: CreateInProcess;
  httpsInvitations: CreateHttps;
}

const PASSWORD = 'Bench-Passw0rd!';
/**
 * Creates sent before the timed run of POST /users: its scrypt hash is ~97 % of its CPU, so the JIT's
 * warm-up hardly shows there. POST /invitations warms with a full pass instead (see httpsCreates).
 */
export const WARMUP = 200;
const stats = (lat: number[]) => {
  lat.sort((a, b) => a - b);
  return { p50_ms: round(pct(lat, 50)), p99_ms: round(pct(lat, 99)) };
};

type BodyMaker = (from: number, count: number, domain: string) => Promise<string[]>;

const userBodies: BodyMaker = async (from, count, domain) =>
  (await makeBodies(from, count, domain, PASSWORD)).map((b) => JSON.stringify(b));

// The generated mail (given.surname.N@tNNN.example.com) is unique per person and outside the tenant's domain.
const invitationBodies: BodyMaker = async (from, count, domain) =>
  (await makeBodies(from, count, domain)).map((b) =>
    JSON.stringify({ invitedUserEmailAddress: b.mail, invitedUserDisplayName: b.displayName, inviteRedirectUrl: 'https://example.com/', invitedUserType: 'Member' }));

async function httpsCreates(dataDir: string, n: number, path: string, bodiesFor: BodyMaker, warmup: number): Promise<CreateHttps> {
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const server = await startServer(dataDir, `openmto-serve-create${path.replace(/\W/g, '-')}`);
  try {
    const tenant = await createTenantCli(dataDir, 'Bench creates', 'creates.openmto.test');
    const token = await server.client.token(tenant);
    // Warm the route (JIT, prepared statements) outside the timed run, as the search measurement does:
    // V8 keeps optimizing the create path over the first couple of thousand requests (measured ~600/s
    // over the first 500 invitations, ~880/s from the 2,000th on). These users are numbered after the
    // timed ones so nothing collides; they also make the directory bigger than OpenLDAP's fresh one.
    const w0 = procCpuSec(server.pid);
    const wt = performance.now();
    for (const body of await bodiesFor(n, warmup, tenant.domain)) await server.client.send('POST', path, { token, body });
    const warmed = { n: warmup, perSec: round(warmup / ((performance.now() - wt) / 1000), 1), serverCpuMsPerCreate: round((1000 * (procCpuSec(server.pid) - w0)) / warmup, 2) };
    const bodies = await bodiesFor(0, n, tenant.domain);
    const lat: number[] = [];
    const s0 = procCpuSec(server.pid);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (const body of bodies) {
      const t = performance.now();
      const r = await server.client.send('POST', path, { token, body });
      lat.push(performance.now() - t);
      if (r.status !== 201) throw new Error(`POST ${path}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const serverCpu = procCpuSec(server.pid) - s0;
    const c = process.cpuUsage(c0);
    log(`HTTPS creates via ${path}: ${n} in ${seconds.toFixed(2)} s (${Math.round(n / seconds)}/s)`);
    server.client.close();
    return {
      n, seconds: round(seconds, 2), perSec: round(n / seconds, 1), ...stats(lat),
      serverCpuMsPerCreate: round((1000 * serverCpu) / n, 2), clientCpuMsPerCreate: round((c.user + c.system) / 1000 / n, 2),
      warmup: warmed,
    };
  } finally {
    await server.stop();
  }
}

/** CPU per scrypt hash (process CPU, which includes the libuv pool thread scrypt runs on) and wall per hash. */
async function kdfCost(hashes: number): Promise<{ hashes: number; msPerHash: number; wallMsPerHash: number }> {
  await hashSecret(PASSWORD);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < hashes; i++) await hashSecret(PASSWORD);
  const c = process.cpuUsage(c0);
  return { hashes, msPerHash: round((c.user + c.system) / 1000 / hashes, 2), wallMsPerHash: round((performance.now() - t0) / hashes, 2) };
}

async function inProcessCreates(dataDir: string, n: number): Promise<CreateInProcess> {
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const tenant = await createTenantCli(dataDir, 'Bench creates', 'creates.openmto.test');
  const bodies = await makeBodies(0, n, tenant.domain);
  const store = await openStore({ url: join(dataDir, 'openmto.db') });
  try {
    const ctx = { store, clock: systemClock };
    const lat: number[] = [];
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (const body of bodies) {
      const t = performance.now();
      const r = await importUsers(ctx, tenant.tenantId, [body]);
      lat.push(performance.now() - t);
      if (r.imported !== 1) throw new Error(`in-process create failed: ${JSON.stringify(r.failed)}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    return { n, perSec: round(n / seconds, 1), cpuMsPerCreate: round((c.user + c.system) / 1000 / n, 3), ...stats(lat) };
  } finally {
    await store.close();
  }
}

export async function measureCreates(workDir: string, n: number): Promise<CreateMeasurement> {
  const https = await httpsCreates(join(workDir, 'creates-https'), n, '/v1.0/users', userBodies, WARMUP);
  // A full pass of other users first: the steady-state rule of the search measurement, for creates.
  const httpsInvitations = await httpsCreates(join(workDir, 'creates-invitations'), n, '/v1.0/invitations', invitationBodies, n);
  const kdf = await kdfCost(50);
  const inProcessNoPassword = await inProcessCreates(join(workDir, 'creates-inproc'), n);
  log(`KDF ${kdf.msPerHash} ms/hash; in-process no-password creates ${inProcessNoPassword.perSec}/s`);
  return { https, kdf, inProcessNoPassword, httpsInvitations };
}
