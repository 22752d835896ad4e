// Per-tenant OIDC endpoints, addressed by tenant id or domain, as MSAL and azure-identity call them.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from '../domain/errors.js';
import { discoveryDocument, type TokenRequest } from '../identity/tokens.js';
import type { AppDeps } from './app.js';
import { authorizeRoutes } from './authorize.js';

export const originOf = (req: FastifyRequest) => `${req.protocol}://${req.host}`;

export function identityRoutes(deps: AppDeps) {
  return async (app: FastifyInstance) => {
    const discovery = async (req: FastifyRequest<{ Params: { tenant: string } }>) => {
      const tenant = await deps.tokens.tenant(req.params.tenant);
      return discoveryDocument(originOf(req), tenant);
    };
    // MSAL asks for /{tenant}/v2.0/.well-known/…; with protocolMode OIDC, /{tenant}/.well-known/….
    app.get('/:tenant/v2.0/.well-known/openid-configuration', discovery);
    app.get('/:tenant/.well-known/openid-configuration', discovery);
    app.get('/:tenant/discovery/v2.0/keys', async (req: FastifyRequest<{ Params: { tenant: string } }>) => {
      await deps.tokens.tenant(req.params.tenant);
      return deps.tokens.jwks();
    });
    app.post('/:tenant/oauth2/v2.0/token', async (req: FastifyRequest<{ Params: { tenant: string } }>, reply) => {
      const form = readTokenForm(req.body);
      // client_secret_basic: credentials in the Authorization header instead of the form.
      const basic = readBasic(req.headers.authorization);
      if (basic) {
        form.client_id ??= basic.id;
        form.client_secret ??= basic.secret;
      }
      reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
      return deps.tokens.issue(req.params.tenant, form, originOf(req), req.ip);
    });
    // The authorization endpoint (code flow with PKCE): the sign-in page and its post.
    await app.register(authorizeRoutes(deps));
  };
}

const invalidRequest = (text: string) => new DomainError('badRequest', 'invalid_request', `AADSTS900144: ${text}`);

/** Longest form value accepted (scopes, passwords, client secrets and assertions are far shorter). */
const MAX_FIELD = 16 * 1024;

/**
 * The token request as a null-prototype map of single strings: the endpoint takes a form
 * (application/x-www-form-urlencoded), each field once, as Entra does. A field given twice, a JSON
 * body or a non-string value is OAuth's `invalid_request`, never a failure of the server.
 */
export function readTokenForm(body: unknown): TokenRequest {
  const form: TokenRequest = Object.create(null);
  if (body === undefined || body === null) return form;
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw invalidRequest('The request body must be a form (application/x-www-form-urlencoded).');
  }
  for (const [key, value] of Object.entries(body)) {
    if (Array.isArray(value)) throw invalidRequest(`The request body contains the parameter '${key}' more than once.`);
    if (typeof value !== 'string') {
      throw invalidRequest(`The parameter '${key}' must be a string; send the request as a form (application/x-www-form-urlencoded).`);
    }
    if (value.length > MAX_FIELD) throw invalidRequest(`The parameter '${key}' is longer than ${MAX_FIELD} characters.`);
    form[key] = value;
  }
  return form;
}

/**
 * `Authorization: Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1). Any other Basic
 * value — not base64, no colon, a bad percent-escape — is `invalid_request`; no Basic header is none.
 */
export function readBasic(header: string | undefined): { id: string; secret: string } | undefined {
  const m = /^Basic(?:\s+(.*))?$/i.exec(header ?? '');
  if (!m) return undefined;
  const bad = () => invalidRequest('The Authorization header is not valid Basic client authentication (base64 of client_id:client_secret).');
  const encoded = (m[1] ?? '').trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw bad();
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw bad();
  try {
    const id = decodeURIComponent(decoded.slice(0, colon));
    const secret = decodeURIComponent(decoded.slice(colon + 1));
    if (id.includes('\u0000') || secret.includes('\u0000')) throw bad();
    return { id, secret };
  } catch {
    throw bad();
  }
}
