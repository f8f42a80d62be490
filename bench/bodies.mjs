// The bytes the reference and the Nest floor both serve, built once at start: the service's own
// meta-metrics document (argv[2], written by bench/run.mjs), and /health and /status of its shape.
import { readFileSync } from 'node:fs';

export const doc = readFileSync(process.argv[2]);
export const health = JSON.stringify({ status: 'ok', uptime: '0h0m', version: '1.0.0', timestamp: new Date().toISOString() });
export const status = JSON.stringify({ system: { cpu: 1, memory: 2, disk: 3, uptime: new Date().toISOString() }, guardian: { logs: {}, agents: [] } });
