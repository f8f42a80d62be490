import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import type { SchedulerRegistry } from '@nestjs/schedule';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { UnreadableSourceError } from '../common/domain.error.js';
import { type AgentFile, type AppConfig, loadConfig } from '../config/app.config.js';
import { AgentFileCache } from './agent-file.cache.js';

describe('AgentFileCache', () => {
  let root: string;
  let config: AppConfig;
  let sut: AgentFileCache;
  let warn: jest.SpiedFunction<Logger['warn']>;

  /** Writes `text` as the agent file (creating its folder), the way a Python agent would. */
  const write = (file: AgentFile, text: string) => {
    const path = config.agentFiles[file];
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  };
  const json = (value: unknown) => JSON.stringify(value, null, 2);
  const REGIME = { regime: 'BULL_TRENDING', risk_multiplier: 0.85, timestamp: '2026-11-21T14:30:00' };
  const ALLOCATIONS = { allocations: { SmartTrader: 0.4, ArbitrageBot: 0.6 }, source: 'capital_governor' };
  const OVERRIDE = { allocations: { SmartTrader: 1 }, source: 'operator' };

  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    root = mkdtempSync(join(tmpdir(), 'agent-files-'));
    config = loadConfig({ NEOLIGHT_ROOT: root });
    sut = new AgentFileCache(config, { addInterval: jest.fn() } as unknown as SchedulerRegistry);
  });

  afterEach(() => {
    warn.mockRestore();
    rmSync(root, { recursive: true, force: true });
  });

  describe('one file', () => {
    it('is missing, and reads as nothing, when the agent has not written it', async () => {
      // Act
      await sut.refresh();

      // Assert
      expect(sut.get('regime')).toEqual({ status: 'missing' });
      expect(sut.read(['regime'])).toBeUndefined();
    });

    it('serves a valid file', async () => {
      // Arrange
      write('regime', json(REGIME));

      // Act
      await sut.refresh();

      // Assert
      expect(sut.get('regime')).toEqual({ status: 'good', value: REGIME });
      expect(sut.read(['regime'])).toEqual(REGIME);
    });

    it("reads Python's NaN, Infinity and -Infinity as null", async () => {
      // Arrange
      write(
        'performance',
        '{"decisions": [{"agent": "A", "pnl": NaN, "pnl_attributed": Infinity, "sharpe": -Infinity}], "last_update": null}',
      );

      // Act
      await sut.refresh();

      // Assert
      expect(sut.get('performance')).toEqual({
        status: 'good',
        value: { decisions: [{ agent: 'A', pnl: null, pnl_attributed: null, sharpe: null }], last_update: null },
      });
    });

    it('picks up a changed file on the next refresh', async () => {
      // Arrange
      write('regime', json(REGIME));
      await sut.refresh();
      const changed = { ...REGIME, regime: 'BEAR_VOLATILE', risk_multiplier: 0.4 };
      write('regime', json(changed));

      // Act
      await sut.refresh();

      // Assert
      expect(sut.read(['regime'])).toEqual(changed);
    });

    it('goes back to missing when the file is removed', async () => {
      // Arrange
      write('regime', json(REGIME));
      await sut.refresh();
      unlinkSync(config.agentFiles.regime);

      // Act
      await sut.refresh();

      // Assert
      expect(sut.get('regime')).toEqual({ status: 'missing' });
      expect(sut.read(['regime'])).toBeUndefined();
    });

    it('keeps serving the last good copy when the file is caught half-written', async () => {
      // Arrange
      write('regime', json(REGIME));
      await sut.refresh();
      write('regime', json(REGIME).slice(0, 40));

      // Act
      await sut.refresh();

      // Assert
      expect(sut.get('regime')).toEqual({ status: 'corrupt', lastGood: REGIME });
      expect(sut.read(['regime'])).toEqual(REGIME);
      expect(warn).toHaveBeenCalled();
    });

    it('keeps the last good copy across further corrupt versions', async () => {
      // Arrange
      write('regime', json(REGIME));
      await sut.refresh();
      write('regime', '{"regime": "BEA');
      await sut.refresh();
      write('regime', '');

      // Act
      await sut.refresh();

      // Assert
      expect(sut.get('regime')).toEqual({ status: 'corrupt', lastGood: REGIME });
    });

    it('recovers once the file is whole again', async () => {
      // Arrange
      write('regime', '{"regime": "BEA');
      await sut.refresh();
      write('regime', json(REGIME));

      // Act
      await sut.refresh();

      // Assert
      expect(sut.get('regime')).toEqual({ status: 'good', value: REGIME });
    });

    it('throws UnreadableSourceError (500) when the file is corrupt and nothing good was ever read', async () => {
      // Arrange
      write('performance', '{"decisions": [{"agent": "A", "pnl": 1.');

      // Act
      await sut.refresh();

      // Assert
      expect(sut.get('performance')).toEqual({ status: 'corrupt', lastGood: undefined });
      expect(() => sut.read(['performance'])).toThrow(UnreadableSourceError);
      expect(() => sut.read(['performance'])).toThrow(expect.objectContaining({ code: 500 }));
    });

    it.each([
      ['an array', '[1, 2, 3]'],
      ['a string', '"BULL"'],
      ['null', 'null'],
    ])('counts a file holding %s, not an object, as corrupt', async (_label, text) => {
      // Arrange
      write('regime', text);

      // Act
      await sut.refresh();

      // Assert
      expect(sut.get('regime')).toMatchObject({ status: 'corrupt' });
      expect(() => sut.read(['regime'])).toThrow(UnreadableSourceError);
    });
  });

  describe('the allocations chain (primary, then override)', () => {
    const CHAIN: AgentFile[] = ['allocations', 'allocationsOverride'];

    it('serves the primary when it reads well', async () => {
      // Arrange
      write('allocations', json(ALLOCATIONS));
      write('allocationsOverride', json(OVERRIDE));

      // Act
      await sut.refresh();

      // Assert
      expect(sut.read(CHAIN)).toEqual(ALLOCATIONS);
    });

    it('falls back to the override when the primary is missing', async () => {
      // Arrange
      write('allocationsOverride', json(OVERRIDE));

      // Act
      await sut.refresh();

      // Assert
      expect(sut.read(CHAIN)).toEqual(OVERRIDE);
    });

    it('falls back to the override when the primary is corrupt and was never good', async () => {
      // Arrange
      write('allocations', '{"allocations": {"SmartTrader": 0.4,');
      write('allocationsOverride', json(OVERRIDE));

      // Act
      await sut.refresh();

      // Assert
      expect(sut.read(CHAIN)).toEqual(OVERRIDE);
    });

    it('reads as nothing (the caller default) when the primary is corrupt and the override missing', async () => {
      // Arrange
      write('allocations', '{"allocations": {"SmartTrader": 0.4,');

      // Act
      await sut.refresh();

      // Assert
      expect(sut.read(CHAIN)).toBeUndefined();
    });

    it('reads as nothing when both files are missing', async () => {
      // Act
      await sut.refresh();

      // Assert
      expect(sut.read(CHAIN)).toBeUndefined();
    });

    it('serves the last good primary when both are caught unreadable', async () => {
      // Arrange
      write('allocations', json(ALLOCATIONS));
      await sut.refresh();
      write('allocations', '{"alloc');
      write('allocationsOverride', '{"alloc');

      // Act
      await sut.refresh();

      // Assert
      expect(sut.read(CHAIN)).toEqual(ALLOCATIONS);
    });

    it('throws when the last link is corrupt and nothing good was ever read', async () => {
      // Arrange
      write('allocationsOverride', '{"allocations": ');

      // Act
      await sut.refresh();

      // Assert
      expect(() => sut.read(CHAIN)).toThrow(UnreadableSourceError);
    });
  });

  it('registers its refresh timer with the scheduler on module init, after a first refresh', async () => {
    // Arrange
    const addInterval = jest.fn<(name: string, timer: NodeJS.Timeout) => void>();
    const cache = new AgentFileCache(config, { addInterval } as unknown as SchedulerRegistry);
    write('regime', json(REGIME));

    // Act
    await cache.onModuleInit();

    // Assert
    try {
      expect(cache.read(['regime'])).toEqual(REGIME);
      expect(addInterval).toHaveBeenCalledWith('AgentFileCache', expect.anything());
    } finally {
      addInterval.mock.calls.forEach(([, timer]) => clearInterval(timer));
    }
  });
});
