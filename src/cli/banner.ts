// What `openmto serve` prints: enough to call the API at once with curl, the Graph SDK or MSAL, and to
// see the demo's point: Annie, signed in to Tenant A, finds the people of B and C (shared to A as B2B members).
import type { DemoTenant } from '../demo.js';
import type { RunningServer } from '../server.js';

export function printBanner(server: RunningServer, demo: DemoTenant[] | null, startupMs: number): void {
  const lines = [
    `openmto is listening on ${server.url} (ready in ${startupMs} ms)`,
    server.certPath ? `CA certificate to trust: ${server.certPath}   (export NODE_EXTRA_CA_CERTS=${server.certPath})` : 'plain HTTP (no TLS)',
    `operator key: ${server.operatorKeyPath}`,
  ];
  for (const t of demo ?? []) {
    lines.push('', `${t.name}  id ${t.tenantId}  domain ${t.domain}`);
    lines.push(`  admin app  client id ${t.adminApp.clientId}`);
    lines.push(`             secret    ${t.adminApp.clientSecret}`);
    lines.push(`  public client id ${t.publicClientId} (password grant)`);
    for (const u of t.users) lines.push(`  user ${u.userPrincipalName}  password ${u.password}`);
  }
  const first = demo?.[0];
  if (first) {
    lines.push('', 'Try:', `  curl --cacert ${server.certPath} -d grant_type=client_credentials -d client_id=${first.adminApp.clientId} \\`,
      `    --data-urlencode client_secret='${first.adminApp.clientSecret}' -d scope=https://graph.microsoft.com/.default \\`,
      `    ${server.url}/${first.tenantId}/oauth2/v2.0/token`);
    lines.push(...searchAsAnnie(server, first));
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Sign in as the demo tenant's first person (Annie) with the password grant, and search people as her. */
function searchAsAnnie(server: RunningServer, t: DemoTenant): string[] {
  const annie = t.users[0];
  if (!annie) return [];
  const ca = server.certPath ? ` --cacert ${server.certPath}` : '';
  const token = `${server.url}/${t.tenantId}/oauth2/v2.0/token`;
  return [
    '', `Sign in as ${annie.displayName} and search ${t.name} (B and C share their people with it: they are B2B members here):`,
    `  TOKEN=$(curl -s${ca} -d grant_type=password -d client_id=${t.publicClientId} -d username=${annie.userPrincipalName} \\`,
    `    --data-urlencode password='${annie.password}' -d scope=https://graph.microsoft.com/.default \\`,
    `    ${token} | node -p 'JSON.parse(require("fs").readFileSync(0)).access_token')`,
    `  curl -s${ca} -H "Authorization: Bearer $TOKEN" -H 'ConsistencyLevel: eventual' -G \\`,
    `    --data-urlencode '$search="displayName:bob"' ${server.url}/v1.0/users`,
    '', 'With the Graph SDK (@microsoft/microsoft-graph-client) and her delegated token:',
    `  const graph = Client.init({ authProvider: (done) => done(null, token), baseUrl: '${server.url}/', defaultVersion: 'v1.0' });`,
    `  await graph.api('/users').header('ConsistencyLevel', 'eventual').search('"displayName:bob"').get();`,
  ];
}
