// Shared plumbing for the benchmark: paths, child processes (and stopping them on any exit), /proc CPU
// accounting, machine facts, and installing the peers' system packages on a fresh machine.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, freemem, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));
/** The shared peers (read-only): OpenLDAP scripts, SQLite near-limit script, data generator, queries. */
export const peersDir = resolve(process.env.OPENMTO_PEERS_DIR ?? join(repoRoot, '../shared/peers'));
/** Scratch space for runs, logs and profiles; OPENMTO_BENCH_DIR moves it (two runs side by side). */
export const dataRoot = process.env.OPENMTO_BENCH_DIR ?? join(repoRoot, 'bench/.data');
export const logDir = join(dataRoot, 'logs');

export const log = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

// ---- cleanup: everything started is registered here and stopped in reverse order, on success or failure

type Cleanup = { name: string; fn: () => Promise<void> | void };
const cleanups: Cleanup[] = [];

export interface CleanupHandle {
  /** Runs the stop action now (once) and unregisters it. */
  stop(): Promise<void>;
  /** Unregisters it without running it (the thing already stopped by itself). */
  drop(): void;
}

export function onCleanup(name: string, fn: () => Promise<void> | void): CleanupHandle {
  const entry: Cleanup = { name, fn };
  cleanups.push(entry);
  const drop = () => {
    const i = cleanups.indexOf(entry);
    if (i >= 0) cleanups.splice(i, 1);
  };
  return {
    drop,
    async stop() {
      if (!cleanups.includes(entry)) return;
      drop();
      await entry.fn();
    },
  };
}

export async function runCleanups(): Promise<void> {
  while (cleanups.length) {
    const c = cleanups.pop() as Cleanup;
    try {
      await c.fn();
    } catch (e) {
      log(`cleanup ${c.name} failed: ${(e as Error).message}`);
    }
  }
}

// ---- child processes

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; rejects with the tail of stderr on a non-zero exit. Output is also logged. */
export function run(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; logName?: string } = {}): Promise<RunResult> {
  mkdirSync(logDir, { recursive: true });
  const logFile = createWriteStream(join(logDir, `${opts.logName ?? cmd.split('/').pop()}.log`), { flags: 'a' });
  logFile.write(`\n$ ${cmd} ${args.join(' ')}  (cwd ${opts.cwd ?? process.cwd()})\n`);
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const handle = onCleanup(`${cmd} ${args[0] ?? ''}`, () => killPid(child.pid));
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; logFile.write(d); });
    child.stderr.on('data', (d: Buffer) => { stderr += d; logFile.write(d); });
    child.on('error', (e) => { handle.drop(); logFile.end(); rej(e); });
    child.on('close', (code, signal) => {
      // The child is gone: drop its cleanup without signalling a pid that may be reused.
      handle.drop();
      logFile.end();
      if (code === 0) res({ stdout, stderr });
      else rej(new Error(`${cmd} ${args.join(' ')} exited ${code ?? signal}: ${(stderr || stdout).trim().split('\n').slice(-8).join('\n')}`));
    });
  });
}

/** SIGTERM, then SIGKILL after 5 s; only ever the one pid given. */
export async function killPid(pid: number | undefined): Promise<void> {
  if (!pid || !alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a long-running child (a server); the caller stops it with the returned function. */
export function startChild(cmd: string, args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; logName: string }) {
  mkdirSync(logDir, { recursive: true });
  const logFile = createWriteStream(join(logDir, `${opts.logName}.log`), { flags: 'a' });
  const child: ChildProcess = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(logFile);
  child.stderr?.pipe(logFile);
  const handle = onCleanup(opts.logName, () => killPid(child.pid));
  child.once('exit', () => handle.drop());
  return { child, pid: child.pid as number, stop: () => handle.stop() };
}

/** utime + stime of a process in seconds (USER_HZ = 100 on Linux, so 10 ms resolution). */
export function procCpuSec(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A port nobody listens on right now (bound and released; the window for a race is tiny on loopback). */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

// ---- statistics

export const pct = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
export const round = (x: number, digits = 3) => Number(x.toFixed(digits));

// ---- the shared data generator (peers/openldap/gen-users.mjs), imported so every peer and we see the same people

export interface GenUser {
  i: number;
  uid: string;
  tenant: string;
  given: string;
  sn: string;
  displayName: string;
  mail: string;
  extra: { jobTitle: string; department: string; accountEnabled: boolean };
}

export async function loadGenerator(): Promise<{ makeUser: (i: number, tenants?: number) => GenUser }> {
  return import(pathToFileURL(join(peersDir, 'openldap/gen-users.mjs')).href);
}

export function loadQueries(): string[] {
  return readFileSync(join(peersDir, 'openldap/queries.txt'), 'utf8').trim().split('\n');
}

// ---- machine

export interface Machine {
  date: string;
  nproc: number;
  cpuModel: string;
  ramGiB: number;
  freeGiBAtStart: number;
  kernel: string;
  node: string;
  loadAvgAtStart: string;
  commit: string;
  slapd?: string;
}

export function machine(): Machine {
  const sh = (c: string, a: string[]) => {
    try {
      return execFileSync(c, a, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '?';
    }
  };
  return {
    date: new Date().toISOString(),
    nproc: Number(sh('nproc', [])) || cpus().length,
    cpuModel: cpus()[0]?.model.trim() ?? '?',
    ramGiB: round(totalmem() / 2 ** 30, 1),
    freeGiBAtStart: round(freemem() / 2 ** 30, 1),
    kernel: sh('uname', ['-r']),
    node: process.version,
    loadAvgAtStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    // read-only: which tree was measured
    commit: treeState(),
  };
}

/** Which tree was measured (read-only git). Others commit while a long run goes on, so run.ts reads it again at the end. */
export function treeState(): string {
  const sh = (a: string[]) => {
    try {
      return execFileSync('git', a, { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '?';
    }
  };
  // The report itself (rewritten by every full run) doesn't make the measured code uncommitted.
  return sh(['rev-parse', '--short', 'HEAD']) + (sh(['status', '--porcelain', '--', '.', ':(exclude)BENCHMARKS.md']) ? ' (+ uncommitted changes)' : '');
}

// ---- system packages for the OpenLDAP peer (fresh machine)

const which = (bin: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

/**
 * Installs slapd + ldap-utils (and bc, which ldap-peer.sh uses) when missing. slapd's own configuration
 * is skipped by preseeding `slapd/no_configuration`, so no system directory or service is set up: the
 * peer runs slapd as a plain process on its own config.
 */
export async function ensureLdapPackages(): Promise<string> {
  const missing = [['/usr/sbin/slapd', 'slapd'], ['ldapadd', 'ldap-utils'], ['bc', 'bc']]
    .filter(([bin]) => !(bin!.startsWith('/') ? existsSync(bin!) : which(bin!)))
    .map(([, pkg]) => pkg!);
  if (missing.length) {
    log(`installing ${missing.join(' ')} with apt-get`);
    const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const sh = (script: string) => run(sudo[0] ?? 'sh', sudo.length ? [...sudo.slice(1), 'sh', '-c', script] : ['-c', script], { env, logName: 'apt' });
    await sh('echo "slapd slapd/no_configuration boolean true" | debconf-set-selections');
    const install = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
    try {
      await sh(install);
    } catch {
      await sh(`apt-get update && ${install}`);
    }
  }
  const v = spawnSync('/usr/sbin/slapd', ['-VV'], { encoding: 'utf8' });
  return `${v.stdout}${v.stderr}`.split('\n').find((l) => l.includes('slapd'))?.trim() ?? '?';
}

/** ldapts is a devDependency; a checkout installed without dev dependencies gets it here. */
export async function ensureLdapts(): Promise<void> {
  try {
    await import('ldapts');
  } catch {
    log('ldapts missing: running npm install (devDependencies)');
    await run('npm', ['install', '--include=dev', '--no-audit', '--no-fund'], { cwd: repoRoot, logName: 'npm' });
  }
}

/** What every people-search run reports, ours and the OpenLDAP peer's alike, so the report compares like with like. */
export interface SearchStats {
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  qps: number;
  avg_returned: number;
  pct_at_limit: number;
  zero_hit: number;
  server_cpu_us_per_query: number;
  client_cpu_us_per_query: number;
}
