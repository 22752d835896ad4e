// The HTTPS floor for measurement 3: a bare node:https server that answers each request with the bytes
// openmto answered the same request with (recorded during the run), and does nothing else: no auth, no
// routing, no query. Its CPU per request is what any Node.js HTTPS service pays before doing any work.
//
//   node bench/floor-server.mjs PORT TLS_DIR RESPONSES.json
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { join } from 'node:path';

const [port, tlsDir, responsesFile] = process.argv.slice(2);
/** @type {Record<string, string>} */
const responses = JSON.parse(readFileSync(responsesFile, 'utf8'));
const bodies = new Map(Object.entries(responses).map(([path, body]) => [path, Buffer.from(body)]));
const notFound = Buffer.from('{"error":{"code":"NotRecorded","message":"no recorded response for this path"}}');

const server = createServer({ key: readFileSync(join(tlsDir, 'key.pem')), cert: readFileSync(join(tlsDir, 'cert.pem')) }, (req, res) => {
  const body = bodies.get(req.url ?? '');
  res.writeHead(body ? 200 : 404, { 'content-type': 'application/json; charset=utf-8', 'content-length': (body ?? notFound).length });
  res.end(body ?? notFound);
});
server.listen(Number(port), '127.0.0.1');
