import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { SseParser, type SseParsed } from '../../test/support/sse.js';
import { UnavailableError } from '../common/domain.error.js';
import { ShutdownState } from '../common/shutdown.state.js';
import { loadConfig } from '../config/app.config.js';
import type { AgentFileCache } from '../state/agent-file.cache.js';
import { InMemoryStateStore } from '../state/in-memory.state.store.js';
import { AtlasService } from '../telemetry/atlas.service.js';
import { IngestQueue } from '../telemetry/ingest.queue.js';
import { MetaStreamService } from './meta-stream.service.js';
import { MetaService } from './meta.service.js';

/** Lets queued work (stream callbacks, drain, close) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Everything a stream has buffered so far, parsed. */
function readAll(stream: Readable, parser: SseParser): SseParsed {
  let text = '';
  for (let chunk = stream.read() as Buffer | null; chunk !== null; chunk = stream.read() as Buffer | null) text += chunk.toString();
  return parser.push(text);
}

const agent = (pnl: number) => ({ pnl_7d: pnl, sharpe_30d: 1, winrate_30d: 0.5, max_dd_30d: 2 });

describe('MetaStreamService', () => {
  let shutdown: ShutdownState;
  let ingest: IngestQueue;
  let meta: MetaService;
  let atlas: AtlasService;
  let sut: MetaStreamService;
  const opened: Readable[] = [];

  async function build(env: Record<string, string> = {}): Promise<void> {
    const config = loadConfig({ LOG_LEVEL: 'silent', ...env });
    shutdown = new ShutdownState();
    ingest = new IngestQueue(new InMemoryStateStore(), config, shutdown);
    meta = new MetaService(ingest, { get: () => ({ status: 'missing' }) } as unknown as AgentFileCache);
    atlas = new AtlasService(ingest);
    await meta.onModuleInit();
    await atlas.onModuleInit();
    sut = new MetaStreamService(ingest, meta, config, shutdown);
  }

  /** Opens a stream the test reads by hand (paused: nothing is consumed until `readAll`). */
  function open(lastEventId?: string): { stream: Readable; read: () => SseParsed } {
    const stream = sut.open(lastEventId);
    opened.push(stream);
    const parser = new SseParser();
    return { stream, read: () => readAll(stream, parser) };
  }

  const idNumber = (id: string | undefined) => Number(id?.split('-')[1]);
  const bootOf = (id: string | undefined) => String(id?.split('-')[0]);

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    await build();
  });
  afterEach(async () => {
    jest.useRealTimers();
    opened.splice(0).forEach((s) => s.destroy());
    await sut.onModuleDestroy();
    await ingest.onModuleDestroy();
    jest.restoreAllMocks();
  });

  describe('on connect', () => {
    it('sends the current meta-metrics document, then the atlas state, each with an id', async () => {
      // Act
      const { read } = open();

      // Assert
      const { events, comments } = read();
      expect(comments).toHaveLength(1);
      expect(events.map((e) => e.event)).toEqual(['meta', 'atlas']);
      expect(JSON.parse(events[0].data)).toMatchObject({ per_agent: {}, stale: true, age_seconds: expect.any(Number) });
      expect(JSON.parse(events[1].data)).toEqual({ updated_at: null, latest: {} });
      expect(events.map((e) => idNumber(e.id))).toEqual([1, 2]);
      expect(events[0].id).toMatch(/^[0-9a-z]+-1$/);
    });

    it('sends the documents as their GET routes serve them', async () => {
      // Arrange
      await meta.accept({ per_agent: { A: agent(5) }, guardian: { is_paused: true, drawdown: 3, reason: 'dd' } });

      // Act
      const { events } = open().read();

      // Assert
      const metaEvent = events.find((e) => e.event === 'meta')!;
      const served = JSON.parse(meta.render(meta.current()).toString());
      expect({ ...JSON.parse(metaEvent.data), age_seconds: 0 }).toEqual({ ...served, age_seconds: 0 });
      expect(events.find((e) => e.event === 'atlas')!.data).toBe(atlas.state().toString());
    });

    it('sends the document changed longest ago first, so ids only grow along a stream', async () => {
      // Arrange: meta changes after atlas
      await atlas.accept({ type: 'trade', qty: 1 });
      await meta.accept({ per_agent: { A: agent(1) } });

      // Act
      const { events } = open().read();

      // Assert
      expect(events.map((e) => e.event)).toEqual(['atlas', 'meta']);
      expect(idNumber(events[0].id)).toBeLessThan(idNumber(events[1].id));
    });
  });

  describe('live updates', () => {
    it('pushes each change of either document as its own event with a growing id', async () => {
      // Arrange
      const { read } = open();
      const initial = read().events;

      // Act
      await meta.accept({ per_agent: { A: agent(7) } });
      await atlas.accept({ brain: 'b', allocations: { A: 1 } });
      const { events } = read();

      // Assert
      expect(events.map((e) => e.event)).toEqual(['meta', 'atlas']);
      expect(JSON.parse(events[0].data).per_agent).toEqual({ A: agent(7) });
      expect(JSON.parse(events[1].data).latest.bridge.payload).toEqual({ brain: 'b', allocations: { A: 1 } });
      const ids = [...initial, ...events].map((e) => idNumber(e.id));
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('sends a reader that fell behind only the latest version of what changed, once it drains', async () => {
      // Arrange: nothing reads the stream while large documents arrive
      const { read } = open();
      const padding = 'x'.repeat(40 * 1024);

      // Act
      for (let seq = 1; seq <= 8; seq++) await meta.accept({ per_agent: { A: agent(seq) }, seq, padding });
      const events = read().events;
      for (let round = 0; round < 5; round++) {
        await settle();
        events.push(...read().events);
      }

      // Assert: the default document, the first updates until the buffer filled, then the latest only
      const seqs = events.filter((e) => e.event === 'meta').map((e) => JSON.parse(e.data).seq as number | undefined);
      expect(seqs[0]).toBeUndefined();
      const updates = seqs.slice(1) as number[];
      expect(updates[0]).toBe(1);
      expect(updates.at(-1)).toBe(8);
      expect(updates.length).toBeLessThan(8);
      expect(updates).toEqual([...updates].sort((a, b) => a - b));
      expect(sut.size).toBe(1);
    });

    it('renders nothing per change while no stream is open', async () => {
      // Arrange
      const render = jest.spyOn(meta, 'render');

      // Act
      await meta.accept({ per_agent: { A: agent(1) } });

      // Assert
      expect(render).not.toHaveBeenCalled();
    });

    it('serializes a change once, whatever the number of streams', async () => {
      // Arrange
      const streams = [open(), open(), open()];
      streams.forEach(({ read }) => read());
      const render = jest.spyOn(meta, 'render');

      // Act
      await meta.accept({ per_agent: { A: agent(3) } });

      // Assert
      expect(render).toHaveBeenCalledTimes(1);
      for (const { read } of streams) expect(read().events.map((e) => JSON.parse(e.data).per_agent)).toEqual([{ A: agent(3) }]);
    });

    it('writes a heartbeat comment every META_STREAM_HEARTBEAT_MS', async () => {
      // Arrange
      jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
      await build({ META_STREAM_HEARTBEAT_MS: '1000' });
      const { read } = open();
      read();

      // Act
      jest.advanceTimersByTime(3000);

      // Assert
      const { events, comments } = read();
      expect(events).toEqual([]);
      expect(comments).toHaveLength(3);
      for (const comment of comments) expect(comment).toMatch(/^heartbeat \d{4}-\d\d-\d\dT/);
    });
  });

  describe('Last-Event-ID', () => {
    it('sends nothing already seen when resuming from the last id', async () => {
      // Arrange
      const first = open();
      const last = first.read().events.at(-1)!.id;
      first.stream.destroy();

      // Act
      const { events, comments } = open(last).read();

      // Assert
      expect(events).toEqual([]);
      expect(comments).toHaveLength(1);
    });

    it('sends only the documents that changed after the id', async () => {
      // Arrange
      const first = open();
      const last = first.read().events.at(-1)!.id;
      first.stream.destroy();
      await meta.accept({ per_agent: { A: agent(9) } });

      // Act
      const { events } = open(last).read();

      // Assert
      expect(events.map((e) => e.event)).toEqual(['meta']);
      expect(JSON.parse(events[0].data).per_agent).toEqual({ A: agent(9) });
      expect(idNumber(events[0].id)).toBeGreaterThan(idNumber(last));
    });

    it.each([
      ['an id from another server process', (boot: string) => `${boot === 'zzzz' ? 'yyyy' : 'zzzz'}-2`],
      ['an id from the future of this process', (boot: string) => `${boot}-999`],
      ['garbage', () => 'not-an-id!'],
      ['an empty header', () => ''],
    ])('sends every document again for %s', async (_label, idFor) => {
      // Arrange
      const first = open();
      const boot = bootOf(first.read().events[0].id);

      // Act
      const { events } = open(idFor(boot)).read();

      // Assert
      expect(events.map((e) => e.event)).toEqual(['meta', 'atlas']);
    });
  });

  describe('limits and shutdown', () => {
    it('refuses a stream beyond META_STREAM_MAX_CLIENTS with 503 and Retry-After, and takes one again once a stream closes', async () => {
      // Arrange
      await build({ META_STREAM_MAX_CLIENTS: '2' });
      const [first] = [open(), open()];

      // Act
      const refused = (() => {
        try {
          open();
        } catch (error) {
          return error;
        }
        return undefined;
      })();
      first.stream.destroy();
      await settle();

      // Assert
      expect(refused).toBeInstanceOf(UnavailableError);
      expect(refused).toMatchObject({ code: 503, extra: { headers: { 'retry-after': expect.stringMatching(/^\d+$/) } } });
      expect(sut.size).toBe(1);
      expect(() => open()).not.toThrow();
    });

    it('ends every stream when shutdown begins, and opens none after', async () => {
      // Arrange
      const streams = [open(), open()];
      const ended = streams.map(({ stream }) => new Promise<void>((resolve) => stream.once('end', resolve)));

      // Act
      shutdown.begin();
      streams.forEach(({ stream }) => stream.resume());
      await Promise.all(ended);
      await settle();

      // Assert
      expect(sut.size).toBe(0);
      expect(() => open()).toThrow(UnavailableError);
      expect(() => open()).toThrow(/shutting down/);
    });

    it('sends nothing after a stream ended for shutdown, such as a document flushed during the drain', async () => {
      // Arrange: a document accepted before SIGTERM, written (and published) after it
      const { stream, read } = open();
      read();
      const errors: unknown[] = [];
      stream.on('error', (error) => errors.push(error));
      const accepted = meta.accept({ per_agent: { A: agent(4) } });

      // Act
      shutdown.begin();
      await accepted;
      const { events } = read();
      stream.resume();
      await new Promise<void>((resolve) => stream.once('close', resolve));

      // Assert
      expect(events).toEqual([]);
      expect(errors).toEqual([]);
    });

    it('on module destroy ends the streams and stops listening for changes', async () => {
      // Arrange
      const { stream, read } = open();
      read();
      stream.resume();
      const ended = new Promise<void>((resolve) => stream.once('end', resolve));

      // Act
      await sut.onModuleDestroy();
      await ended;
      const render = jest.spyOn(meta, 'render');
      await meta.accept({ per_agent: { A: agent(1) } });

      // Assert
      expect(sut.size).toBe(0);
      expect(render).not.toHaveBeenCalled();
    });
  });
});
