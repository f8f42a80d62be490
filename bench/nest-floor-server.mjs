// The framework floor: what Nest on the same Fastify costs before any of the service's own work.
// It answers the reference's routes with the reference's bytes through one Nest controller, with
// nothing else: no logging, metrics, security headers, hooks, validation or disk. `npm run bench`
// bundles it as the service is bundled (`node scripts/bundle.mjs --nest-floor`, giving
// dist/bundle/nest-floor.mjs); it uses Node's compile cache and gives back its start-up memory as the
// service does, so that its start-up time and idle RSS compare with the service's. Started by
// bench/run.mjs on the port in PORT; the document's file is argv[2].
import 'reflect-metadata';
import { Controller, Get, Header, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { flushCompileCache } from 'node:module';
import { releaseStartupMemory, STARTUP_SETTLE_MS } from '../dist/common/startup-memory.js';
import { doc, health, status } from './bodies.mjs';

class FloorController {
  metrics() {
    return doc;
  }
  health() {
    return health;
  }
  status() {
    return status;
  }
  accept() {
    return { status: 'ok', timestamp: new Date().toISOString() };
  }
}

// Plain JavaScript has no decorator syntax here: Nest's decorators are applied as the functions they are.
const method = (name, ...decorators) => {
  const descriptor = Object.getOwnPropertyDescriptor(FloorController.prototype, name);
  for (const decorate of decorators) decorate(FloorController.prototype, name, descriptor);
};
const json = Header('content-type', 'application/json; charset=utf-8');
method('metrics', Get('meta/metrics'), json);
method('health', Get('health'), json);
method('status', Get('status'), json);
method('accept', Post('meta/metrics'), HttpCode(200));
Controller()(FloorController);

class FloorModule {}
Module({ controllers: [FloorController] })(FloorModule);

const app = await NestFactory.create(FloorModule, new FastifyAdapter({ bodyLimit: 4 * 1024 * 1024 }), { logger: false });
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
// As the service does (src/server.ts); bench/run.mjs turns the cache on through NODE_COMPILE_CACHE.
flushCompileCache();
setTimeout(releaseStartupMemory, STARTUP_SETTLE_MS).unref();
