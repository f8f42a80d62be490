import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { UnauthorizedError } from '../common/domain.error.js';
import { closeAfterAnswer } from '../common/early-errors.js';
import type { AccessConfig } from '../config/app.config.js';
import { bearerToken } from './token-set.js';

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Routes that stay open even when reads need a token: Kubernetes probes and shell health checks
 * carry no token, and `/` is the service banner. Matched on the route template, so case, trailing
 * slash and query string do not matter.
 */
const OPEN_ROUTES: ReadonlySet<string> = new Set(['/', '/health', '/health/live', '/health/ready', '/health/startup']);

/**
 * Bearer tokens (README, "Security"): with WRITE_TOKENS set, writes need one of them; with
 * READ_TOKENS set, reads (but not `OPEN_ROUTES`) need a read or a write token. Checked in
 * `onRequest`, before the body is read, so an unknown writer cannot make us parse 4 MiB; a 401
 * carries `WWW-Authenticate: Bearer` and closes the connection rather than read the refused body.
 * With neither set no hook is added: requests pay nothing. CORS preflights (which never carry
 * credentials) are let through; unknown paths never get here (`refuseEarly()` answered them).
 */
export function registerAccessControl(fastify: FastifyInstance, access: AccessConfig): void {
  const { writeTokens, readTokens } = access;
  if (writeTokens.size === 0 && readTokens.size === 0) return;
  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method === 'OPTIONS') return;
    const write = WRITE_METHODS.has(request.method);
    const locked = write ? writeTokens.size > 0 : readTokens.size > 0 && !OPEN_ROUTES.has(request.routeOptions.url ?? '');
    if (!locked) return;
    const action = write ? 'writing' : 'reading';
    const presented = bearerToken(request.headers.authorization);
    const writer = presented !== undefined && writeTokens.has(presented);
    const reader = presented !== undefined && !write && readTokens.has(presented);
    if (writer || reader) return;
    closeAfterAnswer(request, reply);
    if (presented === undefined) throw new UnauthorizedError(`${action} requires a bearer token (Authorization: Bearer <token>)`);
    throw new UnauthorizedError(`the bearer token does not allow ${action}`, true);
  });
}
