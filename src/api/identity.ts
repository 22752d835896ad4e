// Per-tenant OIDC endpoints, addressed by tenant id or domain, as MSAL and azure-identity call them.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { discoveryDocument, type TokenRequest } from '../identity/tokens.js';
import type { AppDeps } from './app.js';

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
    app.post('/:tenant/oauth2/v2.0/token', async (req: FastifyRequest<{ Params: { tenant: string }; Body: TokenRequest }>, reply) => {
      const form = { ...(req.body ?? {}) } as TokenRequest;
      // client_secret_basic: credentials in the Authorization header instead of the form.
      const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
      if (basic) {
        const [id, secret] = Buffer.from(basic, 'base64').toString().split(':').map(decodeURIComponent);
        form.client_id ??= id;
        form.client_secret ??= secret;
      }
      reply.header('Cache-Control', 'no-store').header('Pragma', 'no-cache');
      return deps.tokens.issue(req.params.tenant, form, originOf(req));
    });
  };
}
