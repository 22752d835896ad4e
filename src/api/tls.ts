// The server's TLS certificate: made once per data directory and reused, so a client that trusts
// DIR/tls/cert.pem (NODE_EXTRA_CA_CERTS) keeps trusting the server across restarts.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import selfsigned from 'selfsigned';

export interface TlsMaterial {
  cert: string;
  key: string;
  certPath: string;
}

export async function ensureCertificate(dataDir: string, hostnames: readonly string[] = []): Promise<TlsMaterial> {
  const dir = join(dataDir, 'tls');
  const certPath = join(dir, 'cert.pem');
  const keyPath = join(dir, 'key.pem');
  if (existsSync(certPath) && existsSync(keyPath)) {
    return { cert: await readFile(certPath, 'utf8'), key: await readFile(keyPath, 'utf8'), certPath };
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const notBeforeDate = new Date(Date.now() - 86_400_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 825 * 86_400_000);
  const pems = await selfsigned.generate([{ name: 'commonName', value: 'openmto local' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      // CA:TRUE lets the one file serve as the trust anchor clients add (NODE_EXTRA_CA_CERTS).
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', keyCertSign: true, digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
          ...hostnames.map((value) => ({ type: 2 as const, value })),
        ],
      },
    ],
  });
  await writeFile(keyPath, pems.private, { mode: 0o600 });
  await writeFile(certPath, pems.cert);
  return { cert: pems.cert, key: pems.private, certPath };
}
