// What `openmto serve` prints: enough to call the API at once with curl, the Graph SDK or MSAL.
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
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
