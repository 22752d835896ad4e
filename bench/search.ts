// Measurements 3 and 4: people search over HTTPS against the real server (a child process), 1 client,
// closed loop, one keep-alive connection. One pass is 200 warm-up queries, then the 2,000 prefixes of
// queries.txt; every side runs ROUNDS passes, interleaved with the others, and is judged on the median of
// its last MEASURED (interleaved): V8 keeps tiering the request path up over thousands of requests,
// OpenLDAP (C) does not.
//
//   filter: GET /v1.0/users?$filter=startsWith(displayName,'<p>')&$top=25&$select=id,displayName,mail
//   search: GET /v1.0/users?$search="displayName:<p>" OR "mail:<p>"&$top=25&$select=…  (ConsistencyLevel: eventual)
//
// Server CPU per query is the server child's utime+stime (/proc) across a pass's timed 2,000 queries only.
import { performance } from 'node:perf_hooks';
import { log, pct, procCpuSec, round, type SearchStats } from './env.js';
import type { HttpsClient } from './server.js';

export type QueryKind = 'filter' | 'search';
export const TOP = 25;
const WARMUP = 200;
/**
 * Wall-time bounds so a pathological plan can't hold the whole run for hours: the warm-up stops after
 * WARMUP_BUDGET_S, the timed loop after BUDGET_S; a cut run reports the queries it completed and says so.
 */
export const WARMUP_BUDGET_S = 30;
export const BUDGET_S = 120;

const enc = (s: string) => encodeURIComponent(s).replace(/%24/g, '$');

export function queryPath(kind: QueryKind, p: string): { path: string; headers: Record<string, string> } {
  const select = `&$top=${TOP}&$select=id,displayName,mail`;
  if (kind === 'filter') return { path: `/v1.0/users?$filter=${enc(`startsWith(displayName,'${p}')`)}${select}`, headers: {} };
  return { path: `/v1.0/users?$search=${enc(`"displayName:${p}" OR "mail:${p}"`)}${select}`, headers: { consistencylevel: 'eventual' } };
}

export interface SearchResult extends SearchStats {
  kind: QueryKind;
  users: number;
  queries: number;
  /** Set when the time budget stopped the run before all prefixes were sent. */
  truncated?: string;
  max_ms: number;
  /** interleaved: the first pass on the same server (JIT still compiling), unmeasured. */
  firstPass?: SearchResult;
  /** interleaved: server CPU µs per query of every pass. */
  passes?: number[];
  /** openmto: the people index the searches ran on, and how long the bench waited for it after start. */
  people_index?: { waited_s: number; status: string; users?: number };
}

/** Passes every side runs; the measurement is the median of the last MEASURED, the first is the cold pass. */
export const ROUNDS = 5;
export const MEASURED = 3;

/** One thing measured pass after pass: openmto, the floor, or OpenLDAP, with one query set. */
export interface Side<T extends SearchStats> {
  readonly name: string;
  /** Runs one full pass (200 warm-up + every prefix) and returns its statistics. */
  pass(round: number): Promise<T>;
}

export interface Measured<T> {
  /** The pass whose server CPU per query is the median of the last MEASURED passes. */
  result: T;
  firstPass: T;
  /** Server CPU µs per query of every pass, in order. */
  passes: number[];
}

/**
 * Runs every side's passes in interleaved rounds (round r: each side's r-th pass, in the order given)
 * and takes, per side, the median of its last MEASURED passes by server CPU per query. Interleaving
 * puts every side through the same spells of machine noise (other tenants of a VM); the median of the
 * last passes measures a long-running server in steady state, the same for everyone: V8 keeps
 * optimizing a request path over thousands of requests, while compiled C is steady from its first pass.
 * `onRound` may add sides (returned) after a round, which take part from the next one: the floor, once
 * openmto's first pass has recorded the bodies it replays.
 */
export async function interleaved<T extends SearchStats>(
  sides: readonly Side<T>[], onRound?: (round: number) => Promise<Side<T>[]>,
): Promise<Map<string, Measured<T>>> {
  const all = [...sides];
  const runs = new Map<string, T[]>();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const side of all) {
      const r = await side.pass(round);
      runs.set(side.name, [...(runs.get(side.name) ?? []), r]);
      log(`${side.name}: pass ${round}, ${r.server_cpu_us_per_query} µs server CPU/q, p50 ${r.p50_ms} p99 ${r.p99_ms} ms`);
    }
    if (onRound) all.push(...(await onRound(round)));
  }
  const out = new Map<string, Measured<T>>();
  for (const [name, list] of runs) {
    const last = list.slice(-MEASURED).sort((a, b) => a.server_cpu_us_per_query - b.server_cpu_us_per_query);
    out.set(name, { result: last[Math.floor(last.length / 2)] as T, firstPass: list[0] as T, passes: list.map((r) => r.server_cpu_us_per_query) });
  }
  return out;
}

/** A measured side as the report wants it: the median pass, with its first pass and every pass's CPU. */
export const asResult = <T extends SearchStats>(m: Measured<T>): T & { firstPass: T; passes: number[] } => ({ ...m.result, firstPass: m.firstPass, passes: m.passes });

/** `record`: keeps each response body by request path (the HTTPS floor replays them, bench/floor.ts). */
export async function runSearch(
  client: HttpsClient, token: string, serverPid: number, kind: QueryKind, queries: readonly string[], users: number,
  record?: Map<string, string>,
): Promise<SearchResult> {
  const one = async (p: string) => {
    const { path, headers } = queryPath(kind, p);
    const r = await client.send('GET', path, { token, headers });
    if (r.status !== 200) throw new Error(`${kind} '${p}': HTTP ${r.status} ${r.body.slice(0, 300)}`);
    record?.set(path, r.body);
    return (JSON.parse(r.body) as { value: unknown[] }).value.length;
  };
  const w0 = performance.now();
  for (let k = 0; k < WARMUP && performance.now() - w0 < WARMUP_BUDGET_S * 1000; k++) await one(queries[k % queries.length] as string);
  const lat: number[] = [];
  let hits = 0;
  let full = 0;
  let zero = 0;
  const s0 = procCpuSec(serverPid);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let k = 0; k < queries.length; k++) {
    if (performance.now() - t0 > BUDGET_S * 1000) break;
    const s = performance.now();
    const n = await one(queries[k] as string);
    lat.push(performance.now() - s);
    hits += n;
    if (n >= TOP) full++;
    if (n === 0) zero++;
  }
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const serverCpu = procCpuSec(serverPid) - s0;
  const sorted = lat.sort((a, b) => a - b);
  const n = lat.length;
  return {
    kind, users, queries: n,
    ...(n < queries.length ? { truncated: `stopped by the ${BUDGET_S} s budget after ${n} of ${queries.length} queries (the first ${n} prefixes)` } : {}),
    p50_ms: round(pct(sorted, 50)), p90_ms: round(pct(sorted, 90)), p99_ms: round(pct(sorted, 99)), max_ms: round(sorted[n - 1] ?? 0),
    qps: Math.round(n / wall),
    avg_returned: round(hits / n, 1), pct_at_limit: round((100 * full) / n, 1), zero_hit: zero,
    server_cpu_us_per_query: Math.round((1e6 * serverCpu) / n),
    client_cpu_us_per_query: Math.round((c.user + c.system) / n),
  };
}
