import { connect, type Socket } from 'node:net';
import { fixtureWith } from './support/app.js';
import { getJson, postJson, startServer, tempRoot, type RunningServer } from './support/server.js';

const BODY_LIMIT = 16 * 1024; // the fixture (7.6 KB) fits
/** The test's own bound on any one exchange: far above the 1 s request timeout, far below jest's. */
const GIVE_UP_MS = 10_000;

interface Exchange {
  /** Everything the server wrote before the connection closed (or the test gave up). */
  received: string;
  /** The server closed the connection (rather than the test giving up on it). */
  closedByServer: boolean;
}

/** Opens a raw connection, lets `talk` write to it, and collects what comes back until it closes. */
function exchange(port: number, talk: (socket: Socket) => void): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    let gaveUp = false;
    const timer = setTimeout(() => {
      gaveUp = true;
      socket.destroy();
    }, GIVE_UP_MS);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('error', () => undefined); // a reset after the answer is expected
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ received, closedByServer: !gaveUp });
    });
    socket.on('connect', () => talk(socket));
  });
}

/** Status and JSON body of a raw HTTP/1.1 response. */
function parse(raw: string): { status: number; headers: string; body: any } {
  const [head, ...rest] = raw.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  return { status, headers: head.toLowerCase(), body: JSON.parse(rest.join('\r\n\r\n')) };
}

/**
 * The built server over real sockets, with a 1 s request timeout and a 16 KiB body limit: clients
 * that stall, stream too much, or do not speak HTTP are cut off with a 4xx in the error shape,
 * and everyone else keeps being served meanwhile.
 */
describe('hostile clients over a real socket', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startServer({ NEOLIGHT_ROOT: tempRoot('neolight-sockets-'), REQUEST_TIMEOUT_MS: '1000', BODY_LIMIT_BYTES: String(BODY_LIMIT) });
  });
  afterAll(async () => {
    await server.kill('SIGKILL');
  });

  it('warns at startup that writes are open to anyone, since no WRITE_TOKENS are set', async () => {
    // Arrange: log lines are flushed in batches (at the latest every 250 ms)
    const startupWarnings = () =>
      server.lines.map((line) => JSON.parse(line) as { level: string; message: string }).filter((l) => l.level === 'warn' && !l.message.startsWith('client error'));
    for (let i = 0; i < 40 && startupWarnings().length === 0; i++) await new Promise((r) => setTimeout(r, 50));

    // Act
    const warnings = startupWarnings();

    // Assert
    expect(warnings).toEqual([expect.objectContaining({ message: expect.stringMatching(/^writes are open to anyone .*WRITE_TOKENS/) })]);
  });

  it('cuts off a client that sends its headers and then stalls, with a 408, and keeps serving others', async () => {
    // Arrange
    const stalled = exchange(server.port, (socket) => {
      socket.write('POST /meta/metrics HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"per_agent":');
    });

    // Act: others are served while it stalls
    const health = await getJson(`${server.url}/health`, 2000);
    const post = await postJson(`${server.url}/meta/metrics`, fixtureWith(1), 5000);
    const cutOff = await stalled;

    // Assert
    expect(health.status).toBe(200);
    expect(post.status).toBe(200);
    expect(cutOff.closedByServer).toBe(true);
    const answer = parse(cutOff.received);
    expect(answer.status).toBe(408);
    expect(answer.body).toEqual({ error: expect.stringContaining('timed out'), code: 408 });
    expect((await getJson(`${server.url}/meta/metrics`, 2000)).body.seq).toBe(1);
  });

  it('cuts off a client that stalls in the middle of its headers', async () => {
    // Act
    const cutOff = await exchange(server.port, (socket) => socket.write('GET /meta/metrics HTTP/1.1\r\nHost: x\r\nX-Slow: '));

    // Assert
    expect(cutOff.closedByServer).toBe(true);
    expect(parse(cutOff.received)).toMatchObject({ status: 408, body: { error: expect.any(String), code: 408 } });
    expect((await getJson(`${server.url}/health`, 2000)).status).toBe(200);
  });

  it('answers a chunked body (no content-length) over the limit with 413 before the body has even ended', async () => {
    // Arrange: 1 KiB chunks up to 1 KiB past the limit, and never the final zero-length chunk, so
    // the body is not complete: an answer proves the server did not wait for (or buffer) all of it.
    // (Sending far more would race the server's close: unread bytes make it a reset, and the
    // client's kernel then drops the 413 before the client reads it.)
    const chunks = BODY_LIMIT / 1024 + 1;

    // Act
    const result = await exchange(server.port, (socket) => {
      socket.write('POST /atlas/update HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
      socket.write(`400\r\n${'x'.repeat(1024)}\r\n`.repeat(chunks));
    });

    // Assert
    const answer = parse(result.received);
    expect(answer.status).toBe(413);
    expect(answer.body).toEqual({ error: expect.any(String), code: 413 });
    expect(answer.headers).toContain('connection: close');
    expect(result.closedByServer).toBe(true);
    expect((await postJson(`${server.url}/atlas/update`, { type: 'after_flood' }, 5000)).status).toBe(200);
  });

  it('answers a request that is not HTTP with 400 in the error shape', async () => {
    // Act
    const result = await exchange(server.port, (socket) => socket.write('HELLO THERE\r\n\r\n'));

    // Assert
    expect(result.closedByServer).toBe(true);
    expect(parse(result.received)).toMatchObject({ status: 400, body: { error: expect.any(String), code: 400 } });
  });

  it('answers headers over the size limit with 431 in the error shape', async () => {
    // Act
    const result = await exchange(server.port, (socket) => socket.write(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`));

    // Assert
    expect(parse(result.received)).toMatchObject({ status: 431, body: { error: expect.any(String), code: 431 } });
    expect((await getJson(`${server.url}/health`, 2000)).status).toBe(200);
  });

  it('answers an HTTP/1.1 request without Host with 400 in the error shape, and serves HTTP/1.0 without one', async () => {
    // Act
    const missing = await exchange(server.port, (socket) => socket.write('GET /health HTTP/1.1\r\nConnection: close\r\n\r\n'));
    const old = await exchange(server.port, (socket) => socket.write('GET /health HTTP/1.0\r\n\r\n'));

    // Assert
    expect(parse(missing.received)).toMatchObject({ status: 400, body: { error: expect.stringContaining('Host'), code: 400 } });
    expect(/^HTTP\/1\.1 200 /.test(old.received)).toBe(true);
  });

  it('answers CONNECT with 405 in the error shape and closes, then serves others', async () => {
    // Act
    const result = await exchange(server.port, (socket) => socket.write('CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n'));

    // Assert
    expect(result.closedByServer).toBe(true);
    const answer = parse(result.received);
    expect(answer).toMatchObject({ status: 405, body: { error: expect.stringContaining('CONNECT'), code: 405 } });
    expect(answer.headers).toContain('allow: get, head, post, options');
    expect((await getJson(`${server.url}/health`, 2000)).status).toBe(200);
  });

  it.each([
    ['an unknown path', 'POST /nothere HTTP/1.1\r\nHost: x\r\nContent-Type: application/json', 404],
    ['a wrong content type', 'POST /meta/metrics HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain', 415],
  ])('answers %s before reading a 200 MB body, and closes rather than read it', async (_name, head, status) => {
    // Act
    const result = await exchange(server.port, (socket) => socket.write(`${head}\r\nContent-Length: 200000000\r\n\r\n{"a":`));

    // Assert
    const answer = parse(result.received);
    expect(answer).toMatchObject({ status, body: { code: status } });
    expect(answer.headers).toContain('connection: close');
    expect(result.closedByServer).toBe(true);
  });

  it('answers a malformed URL with 400 in the error shape', async () => {
    // Act
    const result = await exchange(server.port, (socket) => socket.write('GET /meta/%E0%A4%A HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));

    // Assert
    expect(parse(result.received)).toMatchObject({ status: 400, body: { error: expect.any(String), code: 400 } });
  });
});
