import helmet, { type HelmetOptions } from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Security headers for a JSON-only API: no content may load, frame or submit anything. HSTS is
 * left to the TLS terminator: this service speaks plain HTTP, where browsers ignore it anyway.
 * Headers that only matter for HTML pages or legacy browsers (X-XSS-Protection, X-Download-Options,
 * X-DNS-Prefetch-Control, X-Permitted-Cross-Domain-Policies, Origin-Agent-Cluster,
 * Cross-Origin-Opener-Policy) are left out: each costs every response its bytes and validation,
 * and a JSON body gives them nothing to protect.
 */
export const API_SECURITY_HEADERS: HelmetOptions = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] } },
  strictTransportSecurity: false,
  xXssProtection: false,
  xDownloadOptions: false,
  xDnsPrefetchControl: false,
  xPermittedCrossDomainPolicies: false,
  originAgentCluster: false,
  crossOriginOpenerPolicy: false,
};

/** The Swagger UI at /docs is a page: it needs its own scripts, styles and images. */
export const DOCS_SECURITY_HEADERS: HelmetOptions = { strictTransportSecurity: false };

/**
 * The headers `helmet` sets for `options`, computed once. The options are static, so the headers
 * are the same for every request; @fastify/helmet rebuilds them per request (measured: a third of
 * read throughput), while setting a precomputed map costs about a microsecond.
 */
export function securityHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = typeof value === 'object' ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  let failure: unknown;
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (error?: unknown) => (failure = error));
  if (failure instanceof Error) throw failure;
  if (failure !== undefined) throw new Error('helmet refused the security header options');
  return headers;
}
