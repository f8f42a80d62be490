import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FileCalls, replaceFile, tempPrefix, writeFileAtomic, type WriteMode } from './atomic-write.js';

describe.each<WriteMode>(['threadpool', 'inline'])('writeFileAtomic (%s)', (mode) => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'atomic-write-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const tempSiblings = () => readdirSync(dir).filter((name) => name.includes('.tmp-'));

  it('writes exactly the given bytes to a new file', async () => {
    // Arrange
    const target = join(dir, 'meta_metrics.json');
    const data = Buffer.from([0x7b, 0x22, 0xc3, 0xa9, 0x22, 0x3a, 0x00, 0xff, 0x7d]);

    // Act
    await writeFileAtomic(target, data, { mode });

    // Assert
    expect(readFileSync(target).equals(data)).toBe(true);
    expect(tempSiblings()).toEqual([]);
  });

  it('writes a large document in full', async () => {
    // Arrange
    const target = join(dir, 'big.json');
    const data = Buffer.alloc(3 * 1024 * 1024 + 7, 0x61);

    // Act
    await writeFileAtomic(target, data, { mode });

    // Assert
    expect(readFileSync(target).equals(data)).toBe(true);
  });

  it('replaces an existing file, shorter content included', async () => {
    // Arrange
    const target = join(dir, 'meta_metrics.json');
    writeFileSync(target, '{"per_agent":{"a very long old document":1}}');

    // Act
    await writeFileAtomic(target, Buffer.from('{}'), { mode });

    // Assert
    expect(readFileSync(target, 'utf8')).toBe('{}');
    expect(readdirSync(dir)).toEqual(['meta_metrics.json']);
  });

  it('writes an empty buffer as an empty file', async () => {
    // Arrange
    const target = join(dir, 'empty.json');

    // Act
    await writeFileAtomic(target, Buffer.alloc(0), { mode });

    // Assert
    expect(readFileSync(target).length).toBe(0);
    expect(tempSiblings()).toEqual([]);
  });

  it('leaves no temp sibling behind after many writes', async () => {
    // Arrange
    const target = join(dir, 'atlas_state.json');

    // Act
    await Promise.all(Array.from({ length: 20 }, (_, i) => writeFileAtomic(target, Buffer.from(JSON.stringify({ i })), { mode })));

    // Assert
    expect(readdirSync(dir)).toEqual(['atlas_state.json']);
    expect(JSON.parse(readFileSync(target, 'utf8'))).toEqual({ i: expect.any(Number) });
  });

  it('rejects, keeps the target and removes its temp file when the rename cannot happen', async () => {
    // Arrange: a non-empty directory where the file should go cannot be replaced by a file
    const target = join(dir, 'meta_metrics.json');
    mkdirSync(target);
    writeFileSync(join(target, 'keep.txt'), 'old contents');

    // Act
    const write = writeFileAtomic(target, Buffer.from('{"new":true}'), { mode });

    // Assert
    await expect(write).rejects.toThrow();
    expect(readFileSync(join(target, 'keep.txt'), 'utf8')).toBe('old contents');
    expect(tempSiblings()).toEqual([]);
    expect(readdirSync(dir)).toEqual(['meta_metrics.json']);
  });

  it('rejects and creates nothing when the directory does not exist', async () => {
    // Arrange
    const target = join(dir, 'missing', 'meta_metrics.json');

    // Act
    const write = writeFileAtomic(target, Buffer.from('{}'), { mode });

    // Assert
    await expect(write).rejects.toMatchObject({ code: 'ENOENT' });
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });
});

describe('writeFileAtomic, where it runs', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'atomic-write-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** Whether the new file is in place when the event loop next turns (a setImmediate callback). */
  async function inPlaceAtNextTurn(mode: WriteMode): Promise<boolean> {
    const target = join(dir, `${mode}.json`);
    const write = writeFileAtomic(target, Buffer.from('{"n":1}'), { mode });
    const seen = await new Promise<boolean>((resolve) => setImmediate(() => resolve(existsSync(target))));
    await write;
    return seen;
  }

  it('inline: every call is made before the event loop turns', async () => {
    expect(await inPlaceAtNextTurn('inline')).toBe(true);
  });

  it('threadpool: the event loop turns while the calls run', async () => {
    expect(await inPlaceAtNextTurn('threadpool')).toBe(false);
  });
});

describe('replaceFile, when a call fails', () => {
  /** Calls on a pretend file system that record what they were asked, failing `failing` with EIO. */
  function recordingCalls(failing: keyof FileCalls<number>): { calls: FileCalls<number>; made: string[] } {
    const made: string[] = [];
    const call =
      <R>(name: keyof FileCalls<number>, result: R) =>
      (): R => {
        made.push(name);
        if (name === failing) throw Object.assign(new Error(`EIO: i/o error, ${name}`), { code: 'EIO' });
        return result;
      };
    const calls: FileCalls<number> = {
      open: call('open', 7),
      write: (_fd, _data, _offset, length) => call('write', length)(),
      fsync: call('fsync', undefined),
      fstat: call('fstat', { size: 2 } as Stats),
      close: call('close', undefined),
      rename: call('rename', undefined),
      unlink: call('unlink', undefined),
    };
    return { calls, made };
  }

  it.each(['write', 'fsync', 'fstat', 'rename'] as const)('closes the file once and removes it when %s fails', async (failing) => {
    // Arrange
    const { calls, made } = recordingCalls(failing);

    // Act
    const write = replaceFile(calls, '/state/doc.json', Buffer.from('{}'), undefined, 3);

    // Assert
    await expect(write).rejects.toMatchObject({ code: 'EIO' });
    expect(made.filter((name) => name === 'close')).toHaveLength(1);
    expect(made.at(-1)).toBe('unlink');
  });

  it('never closes the file a second time when close itself fails (its number may already be reused)', async () => {
    // Arrange
    const { calls, made } = recordingCalls('close');

    // Act
    const write = replaceFile(calls, '/state/doc.json', Buffer.from('{}'), undefined, 3);

    // Assert
    await expect(write).rejects.toMatchObject({ code: 'EIO' });
    expect(made).toEqual(['open', 'write', 'fsync', 'fstat', 'close', 'unlink']);
  });
});

describe('tempPrefix', () => {
  it('names temp files after the target, so boot recovery can find them', () => {
    // Act
    const prefix = tempPrefix('/srv/neolight/state/meta_metrics.json');

    // Assert
    expect(prefix).toBe('meta_metrics.json.tmp-');
  });
});
