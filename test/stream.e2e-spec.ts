import { request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { fixtureWith } from './support/app.js';
import { OpenApiValidator } from './support/openapi.js';
import { getJson, postJson, type RunningServer, startServer, tempRoot } from './support/server.js';
import { SseClient } from './support/sse.js';

const idNumber = (id: string | undefined) => Number(id?.split('-')[1]);

/** Connects until the server takes the stream (it may not have seen a closed one go yet); bounded. */
async function connectWhenFree(url: string, attempts = 100): Promise<SseClient> {
  for (let i = 1; ; i++) {
    const client = await SseClient.connect(url);
    if (client.status === 200 || i === attempts) return client;
    await sleep(20);
  }
}

function head(url: string): Promise<{ status?: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'HEAD', agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode, headers: res.headers }));
    });
    req.once('error', reject);
    req.end();
  });
}

/** `GET /meta/stream` the way a dashboard or a new agent uses it: a real socket, a real HTTP client. */
describe('GET /meta/stream over a real socket', () => {
  describe('live updates', () => {
    let server: RunningServer;
    let api: OpenApiValidator;
    const clients: SseClient[] = [];
    const connect = async (headers: Record<string, string> = {}) => {
      const client = await SseClient.connect(`${server.url}/meta/stream`, headers);
      clients.push(client);
      return client;
    };

    beforeAll(async () => {
      server = await startServer({
        NEOLIGHT_ROOT: tempRoot('neolight-sse-'),
        META_STREAM_HEARTBEAT_MS: '200',
        SHUTDOWN_GRACE_MS: '8000',
        SHUTDOWN_LINGER_MS: '2000',
      });
      api = new OpenApiValidator((await getJson(`${server.url}/docs-json`)).body);
    });
    afterEach(() => {
      clients.splice(0).forEach((c) => c.close());
    });
    afterAll(async () => {
      await server.kill('SIGKILL');
    });

    it('answers with an event stream, CORS and a request id, and sends the current documents first', async () => {
      const client = await connect({ origin: 'http://dashboard.local' });

      expect(client.status).toBe(200);
      expect(client.headers['content-type']).toMatch(/^text\/event-stream/);
      expect(Object.keys(api.operation('GET', '/meta/stream')!.responses['200'].content)).toEqual(['text/event-stream']);
      expect(client.headers['cache-control']).toBe('no-cache');
      expect(client.headers['access-control-allow-origin']).toBeDefined();
      expect(client.headers['x-request-id']).toEqual(expect.any(String));

      const first = await client.event();
      const second = await client.event(() => true, 2);
      expect([first.event, second.event]).toEqual(['meta', 'atlas']);
      expect(first.id).toMatch(/^[0-9a-z]+-\d+$/);
      expect(idNumber(second.id)).toBeGreaterThan(idNumber(first.id));
      const meta = api.component('MetaMetrics');
      expect({ valid: meta(JSON.parse(first.data)), errors: meta.errors ?? null }).toEqual({ valid: true, errors: null });
      expect(JSON.parse(first.data)).toMatchObject({ stale: true, per_agent: {} });
      const atlas = api.component('AtlasState');
      expect({ valid: atlas(JSON.parse(second.data)), errors: atlas.errors ?? null }).toEqual({ valid: true, errors: null });
    });

    it('pushes a posted meta-metrics document to every open stream', async () => {
      const [a, b] = await Promise.all([connect(), connect()]);
      await Promise.all([a.event(() => true, 2), b.event(() => true, 2)]);

      const posted = await postJson(`${server.url}/meta/metrics`, fixtureWith(1));
      expect(posted.status).toBe(200);

      for (const client of [a, b]) {
        const pushed = await client.event((e) => e.event === 'meta' && JSON.parse(e.data).seq === 1);
        expect(JSON.parse(pushed.data).per_agent).toEqual(fixtureWith(1).per_agent);
        expect(idNumber(pushed.id)).toBeGreaterThan(idNumber(client.events[1].id));
      }
    });

    it('pushes atlas updates as their own event type, and never as meta', async () => {
      const client = await connect();
      await client.event(() => true, 2);

      const trade = { type: 'trade', symbol: 'ETH-USD', side: 'sell', qty: 2 };
      expect((await postJson(`${server.url}/atlas/update`, trade)).status).toBe(200);

      const pushed = await client.event((e) => e.event === 'atlas' && 'trade' in JSON.parse(e.data).latest);
      expect(JSON.parse(pushed.data).latest.trade.payload).toEqual(trade);
      expect(client.events.filter((e) => e.event === 'meta')).toHaveLength(1);
    });

    it('sends heartbeat comment lines', async () => {
      const client = await connect();

      await expect(client.comment(/^heartbeat \d{4}-/)).resolves.toEqual(expect.any(String));
    });

    it('resumes from Last-Event-ID: only what changed since, nothing already seen', async () => {
      const first = await connect();
      const lastSeen = (await first.event(() => true, 2)).id!;
      first.close();

      const upToDate = await connect({ 'last-event-id': lastSeen });
      await upToDate.comment(/^heartbeat/);
      expect(upToDate.events).toEqual([]);

      expect((await postJson(`${server.url}/meta/metrics`, fixtureWith(2))).status).toBe(200);
      const behind = await connect({ 'last-event-id': lastSeen });
      const resumed = await behind.event();
      await behind.comment(/^heartbeat/);
      expect(behind.events.map((e) => e.event)).toEqual(['meta']);
      expect(JSON.parse(resumed.data).seq).toBe(2);
      expect(idNumber(resumed.id)).toBeGreaterThan(idNumber(lastSeen));
    });

    it('sends everything again for an id from another server process', async () => {
      const [boot] = (await (await connect()).event()).id!.split('-');

      const client = await connect({ 'last-event-id': `${boot}x-1` });

      await client.event(() => true, 2);
      expect(client.events.map((e) => e.event).sort()).toEqual(['atlas', 'meta']);
    });

    it('lets SIGTERM through with streams open: they end cleanly and the process exits 0', async () => {
      const open = await Promise.all([connect(), connect(), connect()]);
      await Promise.all(open.map((c) => c.event(() => true, 2)));

      const exit = server.kill('SIGTERM');

      expect(await Promise.all(open.map((c) => c.closed))).toEqual(['end', 'end', 'end']);
      // Ended as shutdown began, not when the listener closes: the service still answers meanwhile (linger),
      // refusing new streams.
      expect((await getJson(`${server.url}/health`)).status).toBe(200);
      const late = await SseClient.connect(`${server.url}/meta/stream`);
      expect([late.status, JSON.parse(late.body!).error]).toEqual([503, expect.stringContaining('shutting down')]);
      expect(await exit).toBe(0);
      expect(server.lines.some((l) => l.includes('closing event streams'))).toBe(true);
      expect(server.lines.some((l) => l.includes('stopped cleanly'))).toBe(true);
    });
  });

  describe('cap on concurrent streams', () => {
    let server: RunningServer;
    const clients: SseClient[] = [];

    beforeAll(async () => {
      server = await startServer({ NEOLIGHT_ROOT: tempRoot('neolight-sse-cap-'), META_STREAM_MAX_CLIENTS: '2', LOG_LEVEL: 'info' });
    });
    afterAll(async () => {
      clients.forEach((c) => c.close());
      await server.kill('SIGKILL');
    });

    it('answers a stream beyond META_STREAM_MAX_CLIENTS with 503, Retry-After and the error shape, and takes one again once a stream closes', async () => {
      const url = `${server.url}/meta/stream`;
      clients.push(await SseClient.connect(url), await SseClient.connect(url));
      expect(clients.map((c) => c.status)).toEqual([200, 200]);

      const refused = await SseClient.connect(url);
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toMatch(/^\d+$/);
      expect(refused.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(refused.body!)).toEqual({ error: expect.stringContaining('too many open event streams'), code: 503 });

      clients.shift()!.close();
      const again = await connectWhenFree(url);
      clients.push(again);
      expect(again.status).toBe(200);
    });

    it('does not hold a slot for a HEAD request', async () => {
      clients.splice(0).forEach((c) => c.close());
      const url = `${server.url}/meta/stream`;
      expect((await head(url)).status).toBe(200);
      expect((await head(url)).status).toBe(200);

      clients.push(await connectWhenFree(url), await connectWhenFree(url));

      expect(clients.map((c) => c.status)).toEqual([200, 200]);
    });
  });
});
