// The reference: plain Fastify serving the same pre-serialized bytes, no Nest, no logging.
// Started by bench/run.mjs on the port in PORT.
import Fastify from 'fastify';
import { doc, health, status } from './bodies.mjs';

const app = Fastify({ logger: false, bodyLimit: 4 * 1024 * 1024 });
app.get('/meta/metrics', (_req, reply) => reply.type('application/json').send(doc));
app.get('/health', (_req, reply) => reply.type('application/json').send(health));
app.get('/status', (_req, reply) => reply.type('application/json').send(status));
app.post('/meta/metrics', (_req, reply) => reply.send({ status: 'ok', timestamp: new Date().toISOString() }));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
