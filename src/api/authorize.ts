// The authorization endpoint's sign-in page (GET renders it, POST checks the password and redirects with a
// code). Server-rendered HTML, no script and no external asset; every value shown is HTML-escaped. The rules
// (clients, redirect URIs, PKCE, CSRF, codes) are identity/authorize.ts; the password check is the token
// endpoint's own (TokenService.authenticateUser), lockouts included.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDomainError } from '../domain/errors.js';
import {
  answerUrl, type AuthorizeParams, AuthorizeFatal, AuthorizeRedirect, checkClient, checkRequest, csrfToken, csrfValid, issueCode,
  newBrowserId, readAuthorizeParams,
} from '../identity/authorize.js';
import { ThrottledError } from '../identity/throttle.js';
import type { TenantRecord } from '../store/repos/tenants.js';
import type { AppDeps } from './app.js';
import { originOf } from './identity.js';
import { statusOf } from './render.js';

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STYLE = `body{font-family:system-ui,sans-serif;background:#f3f4f6;margin:0;color:#111}
main{max-width:24rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:.5rem;box-shadow:0 1px 4px #0002}
h1{font-size:1.3rem;margin-top:0}label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.45rem;box-sizing:border-box;font:inherit}
button{margin-top:1.2rem;padding:.55rem 1.4rem;font:inherit}.error{color:#b91c1c}.muted{color:#555;font-size:.9rem}`;
// The one inline style is allowed by its hash, so the policy needs no 'unsafe-inline'.
const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

/** The cookie that ties a page's CSRF token to the browser it was served to (HttpOnly, never sent cross-site). */
const COOKIE = 'openmto_authorize';

function page(req: FastifyRequest, reply: FastifyReply, status: number, title: string, body: string, formTarget = '') {
  return reply.status(status)
    // form-action names where the post may end up: here, then the client's redirect URI.
    .header('Content-Security-Policy', `default-src 'none'; style-src ${STYLE_HASH}; form-action 'self' ${formTarget}; frame-ancestors 'none'; base-uri 'none'`)
    .header('X-Frame-Options', 'DENY')
    .header('X-Content-Type-Options', 'nosniff')
    .header('Referrer-Policy', 'no-referrer')
    .header('Cache-Control', 'no-store')
    .header('request-id', String(req.id))
    .type('text/html; charset=utf-8')
    .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${STYLE}</style></head><body><main><h1>${esc(title)}</h1>${body}</main></body></html>`);
}

function errorPage(req: FastifyRequest, reply: FastifyReply, status: number, message: string) {
  return page(req, reply, status, 'Sign-in failed', `<p class="error" role="alert">${esc(message)}</p>
<p class="muted">The application sent a request this server can't answer. Nothing was sent back to it.</p>`);
}

const hiddenFields = ['client_id', 'redirect_uri', 'response_type', 'response_mode', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'nonce', 'prompt'];

async function signInPage(req: FastifyRequest, reply: FastifyReply, deps: AppDeps, tenant: TenantRecord, p: AuthorizeParams, o: {
  browser: string; username?: string; error?: string; status?: number;
}) {
  const csrf = await csrfToken(deps.store, deps.clock.now(), o.browser, tenant.id, p);
  const secure = req.protocol === 'https' ? '; Secure' : '';
  reply.header('Set-Cookie', `${COOKIE}=${o.browser}; Path=/${encodeURIComponent(tenant.id)}/oauth2/; HttpOnly; SameSite=Strict${secure}; Max-Age=3600`);
  const hidden = hiddenFields.filter((k) => p[k] !== undefined).map((k) => `<input type="hidden" name="${k}" value="${esc(p[k]!)}">`).join('');
  const username = o.username ?? p.login_hint ?? '';
  const target = new URL(p.redirect_uri!).origin;
  return page(req, reply, o.status ?? 200, `Sign in to ${tenant.displayName}`, `
<p class="muted">${esc(tenant.domain)}</p>
${o.error ? `<p class="error" role="alert" id="error">${esc(o.error)}</p>` : ''}
<form method="post" action="/${esc(encodeURIComponent(tenant.id))}/oauth2/v2.0/authorize">${hidden}<input type="hidden" name="csrf" value="${esc(csrf)}">
<label for="username">User name</label><input id="username" type="email" name="username" value="${esc(username)}" autocomplete="username" required${username ? '' : ' autofocus'}${o.error ? ' aria-describedby="error"' : ''}>
<label for="password">Password</label><input id="password" type="password" name="password" autocomplete="current-password" required${username ? ' autofocus' : ''}>
<button type="submit" id="signin">Sign in</button></form>`, target);
}

const cookieOf = (req: FastifyRequest) => {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === COOKIE && v && /^[A-Za-z0-9_-]{32}$/.test(v)) return v;
  }
  return undefined;
};

/** Human words for an OAuth error: the AADSTS text without its code, which the page shows apart. */
const words = (message: string) => message.replace(/^AADSTS(\d+): (.*)$/s, '$2 ($1)');

export function authorizeRoutes(deps: AppDeps) {
  return async (app: FastifyInstance) => {
    type Req = FastifyRequest<{ Params: { tenant: string } }>;
    /** Runs the checks every request shares; answers fatal errors and redirects itself and returns undefined then. */
    const prepare = async (req: Req, reply: FastifyReply, source: unknown) => {
      const { params, repeated } = readAuthorizeParams(source);
      let tenant: TenantRecord;
      try {
        tenant = await deps.tokens.tenant(req.params.tenant);
        const client = await checkClient(deps.tokens, tenant, params, originOf(req), repeated);
        try {
          return { tenant, params, client, request: checkRequest(params, repeated) };
        } catch (e) {
          if (!(e instanceof AuthorizeRedirect)) throw e;
          reply.redirect(answerUrl(client.redirectUri, { error: e.error, error_description: e.description, state: params.state }), 302);
          return undefined;
        }
      } catch (e) {
        if (e instanceof AuthorizeRedirect || !isDomainError(e)) throw e;
        errorPage(req, reply, e instanceof AuthorizeFatal ? 400 : statusOf[e.kind], words(e.message));
        return undefined;
      }
    };

    app.get('/:tenant/oauth2/v2.0/authorize', async (req: Req, reply) => {
      const ready = await prepare(req, reply, req.query);
      if (!ready) return reply;
      return signInPage(req, reply, deps, ready.tenant, ready.params, { browser: cookieOf(req) ?? newBrowserId() });
    });

    app.post('/:tenant/oauth2/v2.0/authorize', async (req: Req, reply) => {
      const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
      const { username, password, csrf, ...rest } = body;
      const ready = await prepare(req, reply, rest);
      if (!ready) return reply;
      const { tenant, params, client, request } = ready;
      const name = typeof username === 'string' ? username.slice(0, 256) : '';
      const browser = cookieOf(req);
      const again = (error: string, status: number) =>
        signInPage(req, reply, deps, tenant, params, { browser: browser ?? newBrowserId(), username: name, error, status });
      if (!(await csrfValid(deps.store, deps.clock.now(), browser, typeof csrf === 'string' ? csrf : undefined, tenant.id, params))) {
        return again('This sign-in page expired or was opened in another browser. Sign in again.', 400);
      }
      if (!name || typeof password !== 'string' || !password) return again('Enter your user name and password.', 400);
      let userId: string;
      try {
        userId = (await deps.tokens.authenticateUser(tenant.id, name, password.slice(0, 1024), req.ip)).user.id;
      } catch (e) {
        if (!isDomainError(e)) throw e;
        if (e instanceof ThrottledError) reply.header('Retry-After', String(e.retryAfterS));
        return again(words(e.message), e instanceof ThrottledError && e.kind === 'tooManyRequests' ? 429 : 400);
      }
      const code = await issueCode(deps.store, deps.clock, tenant.id, {
        clientId: client.app.clientId, redirectUri: client.redirectUri, challenge: request.challenge, userId, scope: request.scope,
        ...(request.nonce ? { nonce: request.nonce } : {}),
      });
      return reply.header('Cache-Control', 'no-store').redirect(answerUrl(client.redirectUri, { code, state: request.state }), 302);
    });
  };
}
