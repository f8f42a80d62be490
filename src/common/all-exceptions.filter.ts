import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger, NotFoundException } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { DomainError } from './domain.error.js';
import { RouteTable } from './route-table.js';

interface ErrorAnswer {
  status: number;
  message: string;
  details?: unknown[];
  headers?: Record<string, string>;
  /** Additive keys, e.g. terminus' report on a failed probe. */
  extra?: Record<string, unknown>;
}

/**
 * The one place any error leaves the service: `{"error": "...", "code": N}` with `code` equal to
 * the HTTP status, from routing, the body parser, validation, our services or the unexpected.
 * A 500 (and any error we did not raise on purpose) carries a generic message; the detail (stack,
 * paths) goes to the log only.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger(AllExceptionsFilter.name);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly routes: RouteTable,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const request = host.switchToHttp().getRequest<FastifyRequest>();
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const answer = this.describe(exception, request);
    // A fault, with its stack. Not our own 503s (queue full, shutting down, stream cap): they are the
    // answers overload is meant to get, and a stack per refused request would flood the log.
    if (answer.status >= 500 && !(exception instanceof DomainError && answer.status === 503)) {
      this.logger.error({ err: exception, method: request.method, url: request.url }, 'request failed');
    }
    for (const [name, value] of Object.entries(answer.headers ?? {})) httpAdapter.setHeader(reply, name, value);
    const body: Record<string, unknown> = { error: answer.message, code: answer.status };
    if (answer.details?.length) body.details = answer.details;
    Object.assign(body, answer.extra);
    httpAdapter.reply(reply, body, answer.status);
  }

  private describe(exception: unknown, request: FastifyRequest): ErrorAnswer {
    if (exception instanceof DomainError) {
      const status = exception.code;
      return {
        status,
        // Our own 503/507 messages tell the client what to do; a 500 is a fault, its detail is logged only.
        message: status === 500 ? 'Internal Server Error' : exception.message,
        details: exception.extra.details,
        headers: exception.extra.headers,
      };
    }
    if (exception instanceof NotFoundException) {
      const allowed = this.routes.allowedMethods(request.url);
      if (allowed.length > 0 && !allowed.includes(request.method)) {
        return { status: 405, message: `Method ${request.method} not allowed on ${shortPath(request.url)}`, headers: { allow: allowed.join(', ') } };
      }
      return { status: 404, message: `Cannot ${request.method} ${shortPath(request.url)}` };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const report = healthReport(exception.getResponse());
      if (report) return { status, message: report.message, extra: report.extra };
      if (status >= 500) return { status, message: STATUS_CODES[status] ?? 'Internal Server Error' };
      return { status, message: messageOf(exception) };
    }
    if (isClientAbort(exception)) {
      // The client went away (or was cut off by the request timeout) while its body was being read.
      return { status: 400, message: 'request aborted before its body was complete' };
    }
    return { status: 500, message: 'Internal Server Error' };
  }
}

/**
 * A failed terminus health check: keep its report (`status`, `info`, `details`) beside our
 * `error` string, which names the failing indicators (terminus' own `error` object is a subset
 * of `details`).
 */
function healthReport(response: unknown): { message: string; extra: Record<string, unknown> } | undefined {
  const report = response as { status?: unknown; info?: unknown; error?: unknown; details?: unknown };
  if (typeof report !== 'object' || report === null || report.status !== 'error' || typeof report.details !== 'object') return undefined;
  const failing = Object.keys((report.error as object | undefined) ?? {});
  return { message: `not ready: ${failing.join(', ') || 'unknown'}`, extra: { status: report.status, info: report.info, details: report.details } };
}

/** Node's "aborted" error on a request stream whose connection closed mid-body. */
function isClientAbort(exception: unknown): boolean {
  return exception instanceof Error && (exception as NodeJS.ErrnoException).code === 'ECONNRESET';
}

function messageOf(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : exception.message;
}

/** The request path, without the query and capped, for echoing back in an error. */
function shortPath(url: string): string {
  const path = url.split('?')[0];
  return path.length > 200 ? `${path.slice(0, 200)}...` : path;
}
