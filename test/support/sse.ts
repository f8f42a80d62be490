import { type IncomingHttpHeaders, request as httpRequest, type ClientRequest } from 'node:http';

export interface SseEvent {
  id?: string;
  event?: string;
  data: string;
}

/** What a chunk of `text/event-stream` holds: events, and comment lines (without the leading colon). */
export interface SseParsed {
  events: SseEvent[];
  comments: string[];
}

/**
 * An incremental `text/event-stream` parser, as the WHATWG spec reads the format (enough of it for
 * our stream: `id`, `event`, `data`, comments; LF line ends). Feed it text as it arrives.
 */
export class SseParser {
  private buffer = '';

  push(text: string): SseParsed {
    this.buffer += text;
    const blocks = this.buffer.split('\n\n');
    this.buffer = blocks.pop() ?? '';
    const parsed: SseParsed = { events: [], comments: [] };
    for (const block of blocks) {
      const event: SseEvent = { data: '' };
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) {
          parsed.comments.push(line.slice(1).trim());
          continue;
        }
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') data.push(value);
        else if (field === 'id') event.id = value;
        else if (field === 'event') event.event = value;
      }
      if (data.length > 0) parsed.events.push({ ...event, data: data.join('\n') });
    }
    return parsed;
  }
}

/**
 * An SSE client over a real socket with `node:http` (no EventSource polyfill): what an agent or a
 * browser sees, including status and headers. Waits are bounded so a broken stream fails a test
 * instead of hanging it.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  /** Resolves when the server ends the stream (`end`) or the connection breaks (`error`). */
  readonly closed: Promise<'end' | 'error'>;
  private readonly parser = new SseParser();
  private waiters: (() => void)[] = [];
  private done = false;

  private constructor(
    private readonly req: ClientRequest,
    readonly status: number,
    readonly headers: IncomingHttpHeaders,
    readonly body: string | undefined,
    closed: Promise<'end' | 'error'>,
  ) {
    this.closed = closed.then((how) => {
      this.done = true;
      this.notify();
      return how;
    });
  }

  /** Opens `url`; resolves once the response head arrived (a non-200 answer is read to its end). */
  static connect(url: string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false });
      const timer = setTimeout(() => req.destroy(new Error(`no response from ${url} in ${timeoutMs} ms`)), timeoutMs);
      req.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      req.once('response', (res) => {
        clearTimeout(timer);
        res.setEncoding('utf8');
        if (res.statusCode !== 200) {
          let body = '';
          res.on('data', (chunk: string) => (body += chunk));
          res.once('end', () => resolve(new SseClient(req, res.statusCode ?? 0, res.headers, body, Promise.resolve('end'))));
          return;
        }
        const closed = new Promise<'end' | 'error'>((settle) => {
          res.once('end', () => settle('end'));
          res.once('error', () => settle('error'));
          res.once('aborted', () => settle('error'));
        });
        const client = new SseClient(req, 200, res.headers, undefined, closed);
        res.on('data', (chunk: string) => client.receive(chunk));
        resolve(client);
      });
      req.end();
    });
  }

  /** Waits for the `n`-th event (1-based) matching `predicate`, counting from the start of the stream. */
  async event(predicate: (e: SseEvent) => boolean = () => true, n = 1, timeoutMs = 10_000): Promise<SseEvent> {
    const found = () => this.events.filter(predicate)[n - 1];
    await this.until(() => found() !== undefined, `event #${n} matching ${predicate.toString()}`, timeoutMs);
    return found();
  }

  /** Waits for a comment line matching `pattern`. */
  async comment(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const found = () => this.comments.find((c) => pattern.test(c));
    await this.until(() => found() !== undefined, `a comment matching ${pattern}`, timeoutMs);
    return found()!;
  }

  close(): void {
    this.req.destroy();
  }

  private receive(chunk: string): void {
    const parsed = this.parser.push(chunk);
    this.events.push(...parsed.events);
    this.comments.push(...parsed.comments);
    this.notify();
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((wake) => wake());
  }

  private async until(condition: () => boolean, what: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (this.done)
        throw new Error(`stream closed before ${what}; got ${JSON.stringify({ events: this.events.length, comments: this.comments })}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms; got ${this.events.length} events`);
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          wake();
        });
      });
    }
  }
}
