import { applyMetaDocument, defaultMetaDocument, reviveStoredDocument } from './meta-document.js';

const APPLIED_AT = new Date('2026-11-21T15:00:00.000Z');

const current = () => ({
  timestamp: '2026-11-21T14:30:00+00:00',
  per_agent: { SmartTrader: { pnl_7d: -1189.81, sharpe_30d: 1.648, winrate_30d: 0.377, max_dd_30d: 7.73 } },
  guardian: { is_paused: true, drawdown: 9.5, reason: 'drawdown limit' },
  market_regime: { regime: 'BULL_TRENDING', risk_multiplier: 0.85 },
  stale: true,
  cache_timestamp: '2026-11-21T14:30:01.000Z',
});

describe('applyMetaDocument', () => {
  it("merges a partial document (the stress runner's) at the top level, keeping per_agent and guardian", () => {
    // Arrange
    const incoming = { stress_last: { scenario: 'flash_crash', passed: true }, stress_timestamp: '2026-11-21T14:59:00Z' };

    // Act
    const result = applyMetaDocument(current(), incoming, APPLIED_AT);

    // Assert
    expect(result).toEqual({ ...current(), ...incoming, cache_timestamp: APPLIED_AT.toISOString() });
    expect(result.per_agent).toEqual(current().per_agent);
    expect(result.guardian).toEqual({ is_paused: true, drawdown: 9.5, reason: 'drawdown limit' });
  });

  it('replaces a top-level section a partial document carries, without merging inside it', () => {
    // Arrange
    const incoming = { guardian: { is_paused: false } };

    // Act
    const result = applyMetaDocument(current(), incoming, APPLIED_AT);

    // Assert
    expect(result.guardian).toEqual({ is_paused: false });
    expect(result.per_agent).toEqual(current().per_agent);
  });

  it('replaces the whole document when the incoming one has per_agent', () => {
    // Arrange
    const incoming = { timestamp: '2026-11-21T15:00:00Z', per_agent: { ArbitrageBot: { pnl_7d: 4529.2 } }, mode: 'LIVE_MODE' };

    // Act
    const result = applyMetaDocument(current(), incoming, APPLIED_AT);

    // Assert
    expect(result).toEqual({ ...incoming, cache_timestamp: APPLIED_AT.toISOString() });
    expect(result).not.toHaveProperty('guardian');
    expect(result).not.toHaveProperty('stale');
    expect(result).not.toHaveProperty(['per_agent', 'SmartTrader']);
  });

  it('replaces even when the incoming per_agent is empty', () => {
    // Act
    const result = applyMetaDocument(current(), { per_agent: {} }, APPLIED_AT);

    // Assert
    expect(result).toEqual({ per_agent: {}, cache_timestamp: APPLIED_AT.toISOString() });
  });

  it('sets cache_timestamp to the time it was applied, over any the producer sent', () => {
    // Act
    const result = applyMetaDocument(current(), { cache_timestamp: '1999-01-01T00:00:00Z', mode: 'TEST_MODE' }, APPLIED_AT);

    // Assert
    expect(result.cache_timestamp).toBe('2026-11-21T15:00:00.000Z');
  });

  it('drops a posted age_seconds, which the service computes as it serves the document', () => {
    // Act
    const merged = applyMetaDocument(current(), { age_seconds: 0, mode: 'LIVE_MODE' }, APPLIED_AT);
    const replaced = applyMetaDocument(current(), { per_agent: {}, age_seconds: 0 }, APPLIED_AT);

    // Assert
    expect(merged).not.toHaveProperty('age_seconds');
    expect(merged.mode).toBe('LIVE_MODE');
    expect(replaced).toEqual({ per_agent: {}, cache_timestamp: APPLIED_AT.toISOString() });
  });

  it('changes neither of its inputs', () => {
    // Arrange
    const before = current();
    const partial = { stress_last: { passed: false } };
    const full = { per_agent: { A: { pnl_7d: 1 } } };
    const [partialCopy, fullCopy] = [structuredClone(partial), structuredClone(full)];

    // Act
    const merged = applyMetaDocument(before, partial, APPLIED_AT);
    const replaced = applyMetaDocument(before, full, APPLIED_AT);

    // Assert
    expect(merged).not.toBe(before);
    expect(replaced).not.toBe(full);
    expect(before).toEqual(current());
    expect(partial).toEqual(partialCopy);
    expect(full).toEqual(fullCopy);
  });
});

describe('defaultMetaDocument', () => {
  const NOW = new Date('2026-11-21T15:00:00.000Z');
  const seconds = (date: Date) => date.getTime() / 1000;

  it('has every key of the contract, well-formed and marked stale', () => {
    // Act
    const result = defaultMetaDocument(NOW);

    // Assert
    expect(result).toEqual({
      timestamp: NOW.toISOString(),
      per_agent: {},
      per_strategy: {},
      guardian: { is_paused: false, drawdown: 0, reason: expect.any(String) },
      breakers: { quote_state: 'CLOSED', trade_state: 'CLOSED' },
      mode: 'TEST_MODE',
      market_regime: { regime: expect.any(String), risk_multiplier: expect.any(Number) },
      summary: { total_agents: 0, total_strategies: 0, top_agent: null, top_strategy: null },
      stale: true,
      cache_timestamp: NOW.toISOString(),
    });
  });

  it('is not paused when there is no guardian pause file', () => {
    // Act
    const result = defaultMetaDocument(NOW, undefined);

    // Assert
    expect(result.guardian).toMatchObject({ is_paused: false, reason: '' });
  });

  it('is not paused when the file says paused: false', () => {
    // Act
    const result = defaultMetaDocument(NOW, { paused: false, reason: 'resumed', until: null });

    // Assert
    expect(result.guardian).toMatchObject({ is_paused: false });
  });

  it('is paused, with the reason, by a pause with no end', () => {
    // Act
    const result = defaultMetaDocument(NOW, { paused: true, reason: 'manual halt' });

    // Assert
    expect(result.guardian).toEqual({ is_paused: true, drawdown: 0, reason: 'manual halt' });
  });

  it('is paused with a generic reason when the file gives none', () => {
    // Act
    const result = defaultMetaDocument(NOW, { paused: true, reason: 42 });

    // Assert
    expect(result.guardian).toMatchObject({ is_paused: true, reason: expect.stringMatching(/\S/) });
  });

  it('is paused until a future ISO time', () => {
    // Act
    const result = defaultMetaDocument(NOW, { paused: true, reason: 'cool-down', until: '2026-11-21T16:00:00Z' });

    // Assert
    expect(result.guardian).toMatchObject({ is_paused: true, reason: 'cool-down' });
  });

  it('is paused until a future time in epoch seconds', () => {
    // Act
    const result = defaultMetaDocument(NOW, { paused: true, until: seconds(NOW) + 600 });

    // Assert
    expect(result.guardian).toMatchObject({ is_paused: true });
  });

  it.each([
    ['an ISO time', '2026-11-21T14:00:00Z'],
    ['epoch seconds', seconds(new Date('2026-11-21T14:00:00Z'))],
    ['exactly now', '2026-11-21T15:00:00.000Z'],
  ])('is not paused once the pause has expired (until as %s)', (_label, until) => {
    // Act
    const result = defaultMetaDocument(NOW, { paused: true, reason: 'cool-down', until });

    // Assert
    expect(result.guardian).toMatchObject({ is_paused: false, reason: '' });
  });

  it('stays paused when until cannot be read (fails safe)', () => {
    // Act
    const result = defaultMetaDocument(NOW, { paused: true, until: 'whenever' });

    // Assert
    expect(result.guardian).toMatchObject({ is_paused: true });
  });

  it('only counts paused: true, not a truthy string', () => {
    // Act
    const result = defaultMetaDocument(NOW, { paused: 'yes' });

    // Assert
    expect(result.guardian).toMatchObject({ is_paused: false });
  });
});

describe('reviveStoredDocument', () => {
  it('keeps a valid cache_timestamp', () => {
    const doc = { timestamp: '2026-01-01T00:00:00Z', cache_timestamp: '2026-02-02T00:00:00.000Z' };
    expect(reviveStoredDocument(doc)).toBe(doc);
  });

  it('takes the producer timestamp when cache_timestamp is missing', () => {
    expect(reviveStoredDocument({ timestamp: '2026-11-21T14:30:00+00:00' }).cache_timestamp).toBe('2026-11-21T14:30:00.000Z');
  });

  it('falls back to the epoch when there is no usable timestamp, so the document reads as old', () => {
    expect(reviveStoredDocument({ timestamp: 'yesterday' }).cache_timestamp).toBe('1970-01-01T00:00:00.000Z');
  });

  it('drops a stored age_seconds and keeps the rest', () => {
    const stored = { per_agent: {}, age_seconds: 3, cache_timestamp: '2026-02-02T00:00:00.000Z' };
    expect(reviveStoredDocument(stored)).toEqual({ per_agent: {}, cache_timestamp: '2026-02-02T00:00:00.000Z' });
    expect(stored).toHaveProperty('age_seconds', 3);
  });
});
