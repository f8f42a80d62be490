// The reference: plain Fastify serving the same pre-serialized bytes, no Nest, no logging.
// Started by bench/run.mjs on the port in PORT.
import Fastify from 'fastify';
import { readFileSync } from 'node:fs';

const doc = readFileSync(process.argv[2]);
const health = JSON.stringify({ status: 'ok', uptime: '0h0m', version: '1.0.0', timestamp: new Date().toISOString() });
const status = JSON.stringify({ system: { cpu: 1, memory: 2, disk: 3, uptime: new Date().toISOString() }, guardian: { logs: {}, agents: [] } });
const app = Fastify({ logger: false, bodyLimit: 4 * 1024 * 1024 });
app.get('/meta/metrics', (_req, reply) => reply.type('application/json').send(doc));
app.get('/health', (_req, reply) => reply.type('application/json').send(health));
app.get('/status', (_req, reply) => reply.type('application/json').send(status));
app.post('/meta/metrics', (_req, reply) => reply.send({ status: 'ok', timestamp: new Date().toISOString() }));
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
