import { Injectable } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';

/**
 * Every route the app serves, recorded as Fastify registers it. Feeds `GET /` (which lists every
 * route) and the 405 answer for a known path asked with the wrong method.
 */
@Injectable()
export class RouteTable {
  private readonly methodsByPath = new Map<string, Set<string>>();
  private readonly hiddenPrefixes: string[] = [];

  /** Starts recording; `configureApp()` calls it before the app registers its routes. */
  attach(fastify: FastifyInstance): void {
    fastify.addHook('onRoute', (route) => {
      if (route.url.includes('*')) return; // Nest's catch-alls are not endpoints
      const key = RouteTable.normalize(route.url);
      if (this.hiddenPrefixes.some((prefix) => key.startsWith(prefix))) return;
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const known = this.methodsByPath.get(key) ?? new Set<string>();
      methods.forEach((m) => known.add(m.toUpperCase()));
      this.methodsByPath.set(key, known);
    });
  }

  /**
   * Leaves the routes below `path` (not `path` itself) out: the files a UI serves under its page,
   * such as the Swagger UI's scripts under `/docs`, are assets rather than endpoints.
   */
  hideBelow(path: string): void {
    this.hiddenPrefixes.push(`${RouteTable.normalize(path)}/`);
  }

  /** Methods allowed on a request path (case-insensitive, trailing slash and query ignored). */
  allowedMethods(url: string): string[] {
    return [...(this.methodsByPath.get(RouteTable.normalize(url)) ?? [])];
  }

  /** `["GET /", "GET /health", "POST /meta/metrics", ...]`, HEAD and OPTIONS left out. */
  endpoints(): string[] {
    const list: string[] = [];
    for (const [path, methods] of this.methodsByPath) {
      for (const m of methods) if (m !== 'HEAD' && m !== 'OPTIONS') list.push(`${m} ${path}`);
    }
    return list.sort((a, b) => a.split(' ')[1].localeCompare(b.split(' ')[1]) || a.localeCompare(b));
  }

  /** As the router matches: case, repeated slashes, a trailing slash and the query do not count. */
  private static normalize(url: string): string {
    const path = url.split('?')[0].toLowerCase().replace(/\/{2,}/g, '/').replace(/\/$/, '');
    return path === '' ? '/' : path;
  }
}
