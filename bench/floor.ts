// Measurement 3's floor: what a bare Node.js HTTPS server costs per request when it returns exactly the
// bytes openmto returned for the same request (bench/floor-server.mjs), measured with the same client,
// interleaved passes and CPU accounting as openmto and OpenLDAP. openmto's server CPU minus this is what
// its own work (auth, query parsing, the page, rendering) costs; the floor alone says how close any
// Node.js HTTPS service can come to a C server speaking binary LDAP without TLS.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, repoRoot, sleep, startChild } from './env.js';
import { type QueryKind, runSearch, type SearchResult, type Side } from './search.js';
import { HttpsClient } from './server.js';

/** A floor server replaying `responses` (path → body) for one query kind, as a side of the interleaved rounds. */
export async function floorSide(
  tlsDir: string, work: string, kind: QueryKind, responses: ReadonlyMap<string, string>, queries: readonly string[], users: number,
): Promise<Side<SearchResult> & { stop(): Promise<void> }> {
  const file = join(work, `floor-${kind}.json`);
  writeFileSync(file, JSON.stringify(Object.fromEntries(responses)));
  const port = await freePort();
  const s = startChild(process.execPath, ['--max-semi-space-size=64', join(repoRoot, 'bench/floor-server.mjs'), String(port), tlsDir, file], {
    cwd: repoRoot, logName: `floor-${kind}`,
  });
  const client = new HttpsClient(port, readFileSync(join(tlsDir, 'cert.pem'), 'utf8'));
  for (let tries = 0; ; tries++) {
    try {
      await client.send('GET', '/');
      break;
    } catch (e) {
      if (tries > 100) {
        client.close();
        await s.stop();
        throw e;
      }
      await sleep(100);
    }
  }
  return {
    name: `node:https floor ${kind}`,
    pass: () => runSearch(client, 'unused', s.pid, kind, queries, users),
    async stop() {
      client.close();
      await s.stop();
    },
  };
}
