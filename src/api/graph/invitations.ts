// POST /invitations: Graph's invitation manager. The redeem URL points at this server's /redeem pages.
import type { FastifyInstance } from 'fastify';
import { createInvitation } from '../../b2b/invitations.js';
import type { GraphContext } from './index.js';
import { serviceRoot, tenantOf } from './index.js';

export function invitationRoutes(ctx: GraphContext) {
  return async (app: FastifyInstance) => {
    app.post('/invitations', async (req, reply) => {
      const origin = `${req.protocol}://${req.host}`;
      const invitation = await createInvitation(ctx.dir, tenantOf(req), req.actor, req.body, origin);
      return reply.status(201).send({ '@odata.context': `${serviceRoot(req, ctx.version)}/$metadata#invitations/$entity`, ...invitation });
    });
  };
}
