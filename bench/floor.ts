// Measurement 3's floor: what a bare Node.js HTTPS server costs per request when it returns exactly the
// bytes openmto returned for the same request (bench/floor-server.mjs), measured with the same client,
// passes (one unmeasured, then the measured one) and CPU accounting as openmto and OpenLDAP. openmto's server CPU minus this is what its own
// work (auth, query parsing, SQL, rendering) costs; the floor alone says how close any Node.js HTTPS
// service can come to a C server speaking binary LDAP without TLS.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, log, repoRoot, sleep, startChild } from './env.js';
import { type QueryKind, type SearchResult, steadySearch } from './search.js';
import { HttpsClient } from './server.js';

export async function measureFloor(
  tlsDir: string, work: string, recorded: ReadonlyMap<QueryKind, Map<string, string>>, queries: readonly string[], users: number,
): Promise<SearchResult[]> {
  const out: SearchResult[] = [];
  for (const [kind, responses] of recorded) {
    const file = join(work, `floor-${kind}.json`);
    writeFileSync(file, JSON.stringify(Object.fromEntries(responses)));
    const port = await freePort();
    const s = startChild(process.execPath, ['--max-semi-space-size=64', join(repoRoot, 'bench/floor-server.mjs'), String(port), tlsDir, file], {
      cwd: repoRoot, logName: `floor-${kind}`,
    });
    const client = new HttpsClient(port, readFileSync(join(tlsDir, 'cert.pem'), 'utf8'));
    try {
      for (let tries = 0; ; tries++) {
        try {
          await client.send('GET', '/');
          break;
        } catch (e) {
          if (tries > 100) throw e;
          await sleep(100);
        }
      }
      const r = await steadySearch(client, 'unused', s.pid, kind, queries, users);
      log(`node:https floor ${kind}: p50 ${r.p50_ms} p99 ${r.p99_ms} ms, ${r.server_cpu_us_per_query} µs server CPU/q (passes ${r.passes?.join(', ')})`);
      out.push(r);
    } finally {
      client.close();
      await s.stop();
    }
  }
  return out;
}
