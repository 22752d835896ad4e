// The invitation redemption pages: server-rendered HTML and form posts, outside Graph authentication.
// GET /redeem (the inviteRedeemUrl) → sign-in at the home tenant → consent → 302 to inviteRedirectUrl.
// Every value shown is HTML-escaped; the consent form carries only a signed state bound to the ticket.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  acceptInvitation, type ConsentView, openInvitation, type RedeemView, signInAtHome,
} from '../b2b/redemption.js';
import { isDomainError } from '../domain/errors.js';
import type { AppDeps } from './app.js';
import { statusOf } from './render.js';

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const STYLE = `body{font-family:system-ui,sans-serif;background:#f3f4f6;margin:0}
main{max-width:28rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:.5rem;box-shadow:0 1px 4px #0002}
h1{font-size:1.3rem;margin-top:0}label{display:block;margin:.8rem 0 .2rem}input[type=password],input[type=email]{width:100%;padding:.4rem;box-sizing:border-box}
button{margin:1rem .5rem 0 0;padding:.5rem 1.2rem}.error{color:#b91c1c}.muted{color:#555;font-size:.9rem}`;

/** Sends a page. `formTargets` are the origins a form on it may end up at (the consent form redirects away). */
function page(reply: FastifyReply, status: number, title: string, body: string, formTargets = ''): FastifyReply {
  return reply.status(status)
    .header('Content-Security-Policy', `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${formTargets}; frame-ancestors 'none'; base-uri 'none'`)
    .header('X-Frame-Options', 'DENY')
    // The ticket is in the URL: keep it out of Referer headers and caches.
    .header('Referrer-Policy', 'no-referrer')
    .header('Cache-Control', 'no-store')
    .type('text/html; charset=utf-8')
    .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><style>${STYLE}</style></head><body><main><h1>${esc(title)}</h1>${body}</main></body></html>`);
}

function signInPage(reply: FastifyReply, v: RedeemView & { kind: 'signIn' }, q: RedeemQuery, error?: string) {
  const hidden = (['tenant', 'user', 'ticket'] as const).map((k) => `<input type="hidden" name="${k}" value="${esc(q[k])}">`).join('');
  return page(reply, error ? 401 : 200, `Sign in to ${v.homeTenant}`, `
<p>${esc(v.resourceTenant)} invited you. Sign in with your ${esc(v.homeTenant)} account to accept.</p>
${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/redeem/sign-in">${hidden}
<label for="email">Email</label><input id="email" type="email" name="email" value="${esc(v.email)}" readonly>
<label for="password">Password</label><input id="password" type="password" name="password" autocomplete="current-password" required autofocus>
<button type="submit" id="signin">Sign in</button></form>`);
}

function consentPage(reply: FastifyReply, c: ConsentView) {
  return page(reply, 200, 'Review permissions', `
<p><strong>${esc(c.resourceTenant)}</strong> (${esc(c.resourceDomain)}) invited ${esc(c.displayName)} (${esc(c.email)}) of ${esc(c.homeTenant)}.</p>
<p>If you accept, ${esc(c.resourceTenant)} will be able to:</p>
<ul><li>sign you in with your ${esc(c.homeTenant)} account;</li><li>read your name and email address;</li><li>know that your account belongs to ${esc(c.homeTenant)}.</li></ul>
<p class="muted">You become a user of ${esc(c.resourceTenant)}'s directory, managed by its administrators.</p>
<form method="post" action="/redeem/consent"><input type="hidden" name="state" value="${esc(c.state)}">
<button type="submit" name="decision" value="accept" id="accept">Accept</button>
<button type="submit" name="decision" value="cancel" id="cancel">Cancel</button></form>`, c.redirectOrigin);
}

function unsupportedPage(reply: FastifyReply, v: RedeemView & { kind: 'unsupported' }) {
  return page(reply, 200, 'This invitation cannot be redeemed here', `
<p>${esc(v.resourceTenant)} invited ${esc(v.email)}, but <strong>${esc(v.domain)}</strong> is not an organization hosted on this openmto server.</p>
<p>Only users whose home organization is hosted here can redeem invitations; sign-in with a one-time passcode sent by email, or with an outside identity provider, is not available.</p>
<p class="muted">Ask the person who invited you to invite an address of an organization hosted here.</p>`);
}

function errorPage(req: FastifyRequest, reply: FastifyReply, e: unknown) {
  if (isDomainError(e) && e.kind !== 'internal') return page(reply, statusOf[e.kind], 'Something went wrong', `<p class="error">${esc(e.message)}</p>`);
  req.log.error({ err: e }, 'redemption failed');
  return page(reply, 500, 'Something went wrong', '<p class="error">An internal error occurred. Try again later.</p>');
}

interface RedeemQuery {
  tenant: string;
  user: string;
  ticket: string;
}
function readQuery(source: unknown): RedeemQuery | undefined {
  const s = (source ?? {}) as Record<string, unknown>;
  const [tenant, user, ticket] = [s.tenant, s.user, s.ticket];
  // Ids are GUIDs and tickets 43 characters; anything longer is not ours.
  const ok = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 128;
  return ok(tenant) && ok(user) && ok(ticket) ? { tenant, user, ticket } : undefined;
}

/**
 * The Location of a redirect to an invitation's inviteRedirectUrl, in the URL parser's serialization:
 * ASCII only, no CR/LF, so no stored value (even one accepted before invitations checked it) can break
 * the answer. A value that is not an http(s) URL lands on the welcome page instead.
 */
function redirectTo(reply: FastifyReply, url: string): FastifyReply {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  const location = parsed && /^https?:$/.test(parsed.protocol) ? parsed.href : '/redeem/welcome';
  return reply.header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer').redirect(location, 302);
}

const badLink = (reply: FastifyReply) =>
  page(reply, 400, 'Invalid invitation link', '<p class="error">This invitation link is incomplete. Open the full link you received.</p>');

export function redeemRoutes(deps: AppDeps) {
  const ctx = { store: deps.store, clock: deps.clock };
  return async (app: FastifyInstance) => {
    // The default landing page of invitations made with `openmto invite` without --redirect.
    app.get('/redeem/welcome', async (_req, reply) =>
      page(reply, 200, 'Invitation accepted', '<p>You can now use your account in the organization that invited you. You may close this window.</p>'));

    app.get('/redeem', async (req, reply) => {
      const q = readQuery(req.query);
      if (!q) return badLink(reply);
      try {
        const view = await openInvitation(ctx, q.tenant, q.user, q.ticket);
        if (view.kind === 'redirect') return redirectTo(reply, view.url);
        return view.kind === 'signIn' ? signInPage(reply, view, q) : unsupportedPage(reply, view);
      } catch (e) {
        return errorPage(req, reply, e);
      }
    });

    app.post('/redeem/sign-in', async (req, reply) => {
      const q = readQuery(req.body);
      const password = (req.body as Record<string, unknown> | undefined)?.password;
      if (!q) return badLink(reply);
      const wait = deps.tokens.guard.addressWait(req.ip);
      if (wait) {
        return page(reply.header('Retry-After', String(wait)), 429, 'Too many attempts', `<p class="error">Too many failed sign-ins from your address. Try again in ${wait} seconds.</p>`);
      }
      try {
        const result = await signInAtHome(ctx, q.tenant, q.user, q.ticket, typeof password === 'string' ? password : '');
        if (result.kind === 'wrongPassword') {
          deps.tokens.guard.addressFailed('password', req.ip);
          return signInPage(reply, result.view, q, 'Your account or password is incorrect.');
        }
        return consentPage(reply, result.consent);
      } catch (e) {
        return errorPage(req, reply, e);
      }
    });

    app.post('/redeem/consent', async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      if (typeof body.state !== 'string') return badLink(reply);
      if (body.decision !== 'accept') {
        // Nothing is written on cancel; the invitation link keeps working.
        return page(reply, 200, 'Invitation not accepted', '<p>You did not accept the invitation. Nothing was changed; you can open the invitation link again later.</p>');
      }
      try {
        const url = await acceptInvitation(ctx, body.state);
        return redirectTo(reply, url);
      } catch (e) {
        return errorPage(req, reply, e);
      }
    });
  };
}
