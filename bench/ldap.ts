// The OpenLDAP peer, driven through its own scripts in shared/peers/openldap (never copied): ldap-peer.sh
// for gen / slapadd / start / stop / ldapadd and bench-search.mjs for the searches. Each data set gets its
// own absolute LDAP_PEER_DIR under bench/.data/peers, and slapd listens on a free port.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Side } from './search.js';
import { alive, dataRoot, freePort, killPid, log, onCleanup, peersDir, repoRoot, run, type SearchStats } from './env.js';

const script = () => join(peersDir, 'openldap/ldap-peer.sh');
const cwd = () => join(dataRoot, 'peers');

export interface LdapSet {
  dir: string;
  n: number;
  port: number;
}

function env(set: LdapSet): NodeJS.ProcessEnv {
  return { ...process.env, LDAP_PEER_DIR: set.dir, LDAP_PEER_PORT: String(set.port), N: String(set.n), TENANTS: '20', PERF_PROBE: repoRoot };
}

const peer = (set: LdapSet, ...args: string[]) => run(script(), args, { cwd: cwd(), env: env(set), logName: 'peer-openldap' });

/** A fresh peer directory with the generated LDIF for users 0..n-1 (same generator and seed as ours). */
export async function ldapGen(name: string, n: number): Promise<LdapSet> {
  const dir = join(cwd(), '.scratch', name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const set = { dir, n, port: await freePort() };
  await peer(set, 'gen');
  return set;
}

/** Offline bulk load (`slapadd -q`); returns its wall seconds as the script prints them. */
export async function ldapSlapaddQ(set: LdapSet): Promise<number> {
  const { stdout } = await peer(set, 'slapadd', '-q');
  return Number(/seconds=([\d.]+)/.exec(stdout)?.[1] ?? Number.NaN);
}

const slapdPid = (set: LdapSet) => {
  const f = join(set.dir, 'run/slapd.pid');
  return existsSync(f) ? Number(readFileSync(f, 'utf8').trim()) : 0;
};

/** Stops slapd through the script (kill by pidfile), then makes sure the pid is gone. */
async function stopSlapd(set: LdapSet): Promise<void> {
  const pid = slapdPid(set);
  await peer(set, 'stop').catch((e: Error) => log(`ldap-peer.sh stop: ${e.message}`));
  if (pid && alive(pid)) await killPid(pid);
}

/** Starts slapd on the loaded DB; the returned stop runs on success and (via cleanup) on failure. */
export async function ldapStart(set: LdapSet): Promise<{ pid: number; stop: () => Promise<void> }> {
  const handle = onCleanup(`slapd ${set.dir}`, () => stopSlapd(set));
  await peer(set, 'start');
  const pid = slapdPid(set);
  if (!pid || !alive(pid)) throw new Error(`slapd did not start (see bench/.data/logs/peer-openldap.log)`);
  log(`slapd pid ${pid} on :${set.port} (${set.n} users)`);
  return { pid, stop: () => handle.stop() };
}

export interface LdapSearchResult extends SearchStats {
  filter: 'brief' | 'anr';
  scope: 'global' | 'tenant';
  /** interleaved: the first run against this slapd, and every run's server CPU µs per query. */
  firstPass?: LdapSearchResult;
  passes?: number[];
  [k: string]: unknown;
}

/**
 * bench-search.mjs (1 client, 200 warm-up + 2,000, slapd's CPU from /proc via --server-pid) as a side of
 * measurement 3's interleaved rounds: one run of the peer's script is one pass.
 */
export function ldapSide(set: LdapSet, pid: number, filter: 'brief' | 'anr', scope: 'global' | 'tenant'): Side<LdapSearchResult> {
  return {
    name: `ldap ${filter}/${scope}`,
    async pass() {
      const { stdout } = await run(process.execPath, [
        join(peersDir, 'openldap/bench-search.mjs'), '--clients', '1', '--scope', scope, '--filter', filter,
        '--server-pid', String(pid), '--uri', `ldap://127.0.0.1:${set.port}`,
      ], { cwd: cwd(), env: env(set), logName: 'peer-openldap-search' });
      const line = stdout.trim().split('\n').find((l) => l.startsWith('{'));
      if (!line) throw new Error('bench-search.mjs printed no result');
      return JSON.parse(line) as LdapSearchResult;
    },
  };
}

export interface LdapAddResult {
  n: number;
  seconds: number;
  rate: number;
}

/** `ldap-peer.sh ldapadd 1`: fresh DB with the base entries, slapd up, one ldapadd client, durable. */
export async function ldapAdd(set: LdapSet): Promise<LdapAddResult> {
  const handle = onCleanup(`slapd ${set.dir}`, () => stopSlapd(set));
  try {
    const { stdout } = await peer(set, 'ldapadd', '1');
    const m = /entries=(\d+) seconds=([\d.]+) rate=(\d+)/.exec(stdout);
    if (!m) throw new Error(`unexpected ldapadd output: ${stdout.trim()}`);
    const seconds = Number(m[2]);
    log(`ldapadd online 1 client: ${m[1]} entries in ${seconds} s`);
    // The script's rate is integer division by bc; recompute it from the same numbers.
    return { n: Number(m[1]), seconds, rate: Math.round(Number(m[1]) / seconds) };
  } finally {
    await handle.stop();
  }
}

export function ldapRemove(set: LdapSet): void {
  rmSync(set.dir, { recursive: true, force: true });
}
