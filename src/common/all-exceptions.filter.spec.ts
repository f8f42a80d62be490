import { jest } from '@jest/globals';
import { BadRequestException, HttpException, HttpStatus, Logger, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import type { ArgumentsHost } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { AllExceptionsFilter } from './all-exceptions.filter.js';
import { DomainError, InvalidDocumentError, UnavailableError, UnreadableSourceError } from './domain.error.js';
import { RouteTable } from './route-table.js';

type OnRoute = (route: { method: string | string[]; url: string }) => void;

/** A RouteTable that has seen `routes` registered, through the same `onRoute` hook Fastify calls. */
function routeTableWith(routes: { method: string | string[]; url: string }[]): RouteTable {
  const addHook = jest.fn<(name: string, hook: OnRoute) => void>();
  const table = new RouteTable();
  table.attach({ addHook } as unknown as FastifyInstance);
  const [name, onRoute] = addHook.mock.calls[0];
  expect(name).toBe('onRoute');
  routes.forEach(onRoute);
  return table;
}

describe('AllExceptionsFilter', () => {
  const reply = { raw: 'the fastify reply' };
  let httpAdapter: {
    reply: jest.Mock<(res: unknown, body: unknown, status: number) => void>;
    setHeader: jest.Mock<(res: unknown, name: string, value: string) => void>;
  };
  let logError: jest.SpiedFunction<Logger['error']>;
  let sut: AllExceptionsFilter;

  const hostFor = (method: string, url: string): ArgumentsHost =>
    ({ switchToHttp: () => ({ getRequest: () => ({ method, url }), getResponse: () => reply }) }) as unknown as ArgumentsHost;

  /** Runs the filter and returns what it answered: status, body, headers set. */
  function answer(exception: unknown, method = 'GET', url = '/x') {
    sut.catch(exception, hostFor(method, url));
    expect(httpAdapter.reply).toHaveBeenCalledTimes(1);
    const [res, body, status] = httpAdapter.reply.mock.calls[0];
    expect(res).toBe(reply);
    const headers = Object.fromEntries(
      httpAdapter.setHeader.mock.calls.map(([target, name, value]) => {
        expect(target).toBe(reply);
        return [name.toLowerCase(), value];
      }),
    );
    return { status, body: body as Record<string, unknown>, headers };
  }

  beforeEach(() => {
    logError = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    httpAdapter = { reply: jest.fn(), setHeader: jest.fn() };
    const routes = routeTableWith([
      { method: 'GET', url: '/meta/metrics' },
      { method: 'HEAD', url: '/meta/metrics' },
      { method: 'POST', url: '/meta/metrics' },
      { method: ['GET', 'HEAD'], url: '/health' },
      { method: 'POST', url: '/atlas/update' },
      { method: ['GET', 'HEAD'], url: '/assets/*' },
    ]);
    sut = new AllExceptionsFilter({ httpAdapter } as unknown as HttpAdapterHost, routes);
  });

  afterEach(() => {
    logError.mockRestore();
  });

  describe('domain errors', () => {
    it('keeps the message and status of a 4xx', () => {
      // Act
      const { status, body, headers } = answer(
        new DomainError('Content-Type must be application/json (got none)', 415),
        'POST',
        '/meta/metrics',
      );

      // Assert
      expect(status).toBe(415);
      expect(body).toEqual({ error: 'Content-Type must be application/json (got none)', code: 415 });
      expect(headers).toEqual({});
    });

    it('passes validation details through', () => {
      // Arrange
      const details = [{ path: '/per_agent', message: 'must be object' }];

      // Act
      const { status, body } = answer(new InvalidDocumentError('invalid meta-metrics document', details), 'POST', '/meta/metrics');

      // Assert
      expect(status).toBe(400);
      expect(body).toEqual({ error: 'invalid meta-metrics document', code: 400, details });
    });

    it('leaves out an empty details array', () => {
      // Act
      const { body } = answer(new InvalidDocumentError('bad', []));

      // Assert
      expect(body).toEqual({ error: 'bad', code: 400 });
    });

    it('sets the headers a domain error carries, such as retry-after on a 503', () => {
      // Act
      const { status, body, headers } = answer(new UnavailableError('ingest queue is full; retry later', 1), 'POST', '/meta/metrics');

      // Assert
      expect(status).toBe(503);
      expect(headers).toEqual({ 'retry-after': '1' });
      expect(body).toEqual({ error: 'ingest queue is full; retry later', code: 503 });
    });

    it('answers a 5xx with a generic message and logs the detail', () => {
      // Arrange
      const error = new UnreadableSourceError('/home/trader/neolight/runtime/market_regime.json is unreadable');

      // Act
      const { status, body } = answer(error, 'GET', '/meta/regime');

      // Assert
      expect(status).toBe(500);
      expect(body).toEqual({ error: 'Internal Server Error', code: 500 });
      expect(logError).toHaveBeenCalledWith(
        expect.objectContaining({ err: error, method: 'GET', url: '/meta/regime' }),
        expect.any(String),
      );
    });

    it('does not log a 4xx as an error', () => {
      // Act
      answer(new InvalidDocumentError('bad'));

      // Assert
      expect(logError).not.toHaveBeenCalled();
    });

    it('does not log our own 503 (overload, shutdown) as an error with a stack', () => {
      // Act
      const { status } = answer(new UnavailableError('ingest queue is full; retry later', 1), 'POST', '/meta/metrics');

      // Assert
      expect(status).toBe(503);
      expect(logError).not.toHaveBeenCalled();
    });
  });

  describe('routing misses', () => {
    it('answers an unknown path with 404 "Cannot <METHOD> <path>"', () => {
      // Act
      const { status, body, headers } = answer(new NotFoundException('Cannot GET /x'), 'GET', '/x');

      // Assert
      expect(status).toBe(404);
      expect(body).toEqual({ error: 'Cannot GET /x', code: 404 });
      expect(headers).toEqual({});
    });

    it('leaves the query string out of the 404 message', () => {
      // Act
      const { body } = answer(new NotFoundException(), 'GET', '/nope?token=secret');

      // Assert
      expect(body).toEqual({ error: 'Cannot GET /nope', code: 404 });
    });

    it('caps a very long path in the message', () => {
      // Arrange
      const url = `/${'a'.repeat(5000)}`;

      // Act
      const { body } = answer(new NotFoundException(), 'GET', url);

      // Assert
      expect(String(body.error).length).toBeLessThan(300);
      expect(body.error).toMatch(/^Cannot GET \/a+\.\.\.$/);
    });

    it('answers a known path asked with another method with 405 and an allow header', () => {
      // Act
      const { status, body, headers } = answer(new NotFoundException(), 'DELETE', '/meta/metrics');

      // Assert
      expect(status).toBe(405);
      expect(body).toEqual({ error: 'Method DELETE not allowed on /meta/metrics', code: 405 });
      expect(headers.allow.split(', ').sort()).toEqual(['GET', 'HEAD', 'POST']);
    });

    it('matches the known path case-insensitively, with a trailing slash and a query', () => {
      // Act
      const { status, headers } = answer(new NotFoundException(), 'POST', '/HEALTH/?verbose=1');

      // Assert
      expect(status).toBe(405);
      expect(headers.allow.split(', ').sort()).toEqual(['GET', 'HEAD']);
    });

    it('keeps 404 when the method is one the path allows', () => {
      // Act
      const { status, headers } = answer(new NotFoundException(), 'GET', '/health');

      // Assert
      expect(status).toBe(404);
      expect(headers).toEqual({});
    });

    it('does not treat a wildcard route as a known path', () => {
      // Act
      const { status } = answer(new NotFoundException(), 'POST', '/assets/*');

      // Assert
      expect(status).toBe(404);
    });
  });

  describe('HTTP exceptions', () => {
    it('keeps the message of a 4xx built from a string', () => {
      // Act
      const { status, body } = answer(new HttpException('Request body is too large', HttpStatus.PAYLOAD_TOO_LARGE));

      // Assert
      expect(status).toBe(413);
      expect(body).toEqual({ error: 'Request body is too large', code: 413 });
    });

    it('takes the message out of an object response', () => {
      // Act
      const { status, body } = answer(new BadRequestException('Unexpected token } in JSON at position 12'));

      // Assert
      expect(status).toBe(400);
      expect(body).toEqual({ error: 'Unexpected token } in JSON at position 12', code: 400 });
    });

    it('joins an array of messages', () => {
      // Act
      const { body } = answer(new BadRequestException(['type must be a string', 'brain must be an object']));

      // Assert
      expect(body).toEqual({ error: 'type must be a string; brain must be an object', code: 400 });
    });

    it('falls back to the exception message when the response object has none', () => {
      // Act
      const { status, body } = answer(new HttpException({ reason: 'teapot' }, 418));

      // Assert
      expect(status).toBe(418);
      expect(typeof body.error).toBe('string');
      expect(body.error).not.toBe('');
      expect(body.code).toBe(418);
    });

    it('answers a 5xx with a generic message only', () => {
      // Act
      const { status, body } = answer(new ServiceUnavailableException('pool exhausted at /opt/app/src/db.ts:12'));

      // Assert
      expect(status).toBe(503);
      expect(body).toEqual({ error: 'Service Unavailable', code: 503 });
    });
  });

  describe('the unexpected', () => {
    it('answers 500 with a generic message and no path or stack in the body', () => {
      // Arrange
      const error = new Error("ENOENT: no such file or directory, open '/home/trader/neolight/state/meta_metrics.json'");
      expect(error.stack).toContain('all-exceptions.filter.spec');

      // Act
      const { status, body, headers } = answer(error, 'GET', '/meta/metrics');

      // Assert
      expect(status).toBe(500);
      expect(body).toEqual({ error: 'Internal Server Error', code: 500 });
      const text = JSON.stringify(body);
      expect(text).not.toContain('/home/');
      expect(text).not.toContain('ENOENT');
      expect(text).not.toMatch(/\bat \S+ \(/);
      expect(headers).toEqual({});
      expect(logError).toHaveBeenCalledWith(expect.objectContaining({ err: error }), expect.any(String));
    });

    it('answers a request body cut off by the client (ECONNRESET) with 400 and logs no error', () => {
      // Arrange
      const aborted = Object.assign(new Error('aborted'), { code: 'ECONNRESET', statusCode: 400 });

      // Act
      const { status, body } = answer(aborted, 'POST', '/meta/metrics');

      // Assert
      expect(status).toBe(400);
      expect(body).toEqual({ error: 'request aborted before its body was complete', code: 400 });
      expect(logError).not.toHaveBeenCalled();
    });

    it('answers 500 for a thrown non-Error value', () => {
      // Act
      const { status, body } = answer('a string was thrown');

      // Assert
      expect(status).toBe(500);
      expect(body).toEqual({ error: 'Internal Server Error', code: 500 });
    });
  });
});
