import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { InvalidDocumentError } from '../common/domain.error.js';
import { ATLAS_UPDATE_SCHEMA } from '../telemetry/atlas.schema.js';
import { assertMetaDocument, isMetaDocument, META_METRICS_SCHEMA } from './meta-metrics.schema.js';

type Json = Record<string, unknown>;

const FIXTURE = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../test/fixtures/meta_metrics.json', import.meta.url)), 'utf8'),
) as Json;

const AGENT = Object.keys(FIXTURE.per_agent as Json)[0];
const STRATEGY = Object.keys(FIXTURE.per_strategy as Json)[0];

/** The fixture with the value at `keys` set to `value` (removed when `value` is `undefined`). */
function fixtureWith(keys: string[], value: unknown): Json {
  const doc = structuredClone(FIXTURE);
  const parent = keys.slice(0, -1).reduce((node, key) => node[key] as Json, doc);
  if (value === undefined) delete parent[keys.at(-1)!];
  else parent[keys.at(-1)!] = value;
  return doc;
}

/** What `assertMetaDocument` threw, or `undefined` if it accepted the document. */
function rejectionOf(body: unknown): InvalidDocumentError | undefined {
  try {
    assertMetaDocument(body);
    return undefined;
  } catch (error) {
    if (error instanceof InvalidDocumentError) return error;
    throw error;
  }
}

// The service compiles its request schemas without checking them against JSON Schema's meta-schema
// (that cost a tenth of start-up): they are constants, checked here instead.
describe('request schemas', () => {
  it.each([
    ['meta-metrics', META_METRICS_SCHEMA],
    ['atlas update', ATLAS_UPDATE_SCHEMA],
  ])('the %s schema is a valid JSON Schema', (_name, schema) => {
    const ajv = new Ajv({ allowUnionTypes: true });
    expect(ajv.validateSchema(schema)).toBe(true);
    expect(ajv.errors).toBeNull();
  });

  it('a broken schema is caught by that check', () => {
    const ajv = new Ajv();
    expect(ajv.validateSchema({ type: 'object', properties: { x: { type: 'numbr' } } })).toBe(false);
  });
});

describe('assertMetaDocument', () => {
  describe('accepts', () => {
    it('the fixture as the producers post it', () => {
      // Act
      const act = () => assertMetaDocument(structuredClone(FIXTURE));

      // Assert
      expect(act).not.toThrow();
      expect(isMetaDocument(structuredClone(FIXTURE))).toBe(true);
    });

    it("the stress runner's partial document", () => {
      // Arrange
      const body = { stress_last: { scenario: 'flash_crash', max_dd: 12.5, passed: true }, stress_timestamp: '2026-11-21T15:00:00Z' };

      // Act
      const error = rejectionOf(body);

      // Assert
      expect(error).toBeUndefined();
      expect(isMetaDocument(body)).toBe(true);
    });

    it('a document with only some of the sections', () => {
      // Arrange
      const body = { guardian: { is_paused: true, drawdown: 9.1, reason: 'drawdown limit' }, market_regime: {} };

      // Act
      const error = rejectionOf(body);

      // Assert
      expect(error).toBeUndefined();
    });

    it('unknown extra keys at every level, and leaves them in place', () => {
      // Arrange
      const body = fixtureWith(['new_top_level'], { anything: [1, 'two'] });
      ((body.per_agent as Json)[AGENT] as Json).notes = 'added by a newer producer';
      (body.guardian as Json).paused_since = '2026-11-21T14:00:00Z';
      body.mode = 'SOME_FUTURE_MODE';
      const before = structuredClone(body);

      // Act
      const error = rejectionOf(body);

      // Assert
      expect(error).toBeUndefined();
      expect(body).toEqual(before);
    });
  });

  describe('rejects with InvalidDocumentError (400) and a detail naming the path', () => {
    it.each<[string, string[], unknown]>([
      ['per_agent null', ['per_agent'], null],
      ['per_agent an array', ['per_agent'], []],
      ['per_agent a string', ['per_agent'], 'none'],
      ['an agent entry that is not an object', ['per_agent', AGENT], 5],
      ['an agent number null', ['per_agent', AGENT, 'pnl_7d'], null],
      ['an agent number as a string', ['per_agent', AGENT, 'sharpe_30d'], '1.2'],
      ['an agent number that is Infinity', ['per_agent', AGENT, 'max_dd_30d'], Infinity],
      ['an agent number that is NaN', ['per_agent', AGENT, 'winrate_30d'], NaN],
      ['per_strategy null', ['per_strategy'], null],
      ['a strategy number null', ['per_strategy', STRATEGY, 'score'], null],
      ['guardian null', ['guardian'], null],
      ['guardian an array', ['guardian'], [true]],
      ['guardian.is_paused a string', ['guardian', 'is_paused'], 'false'],
      ['guardian.is_paused a number', ['guardian', 'is_paused'], 0],
      ['guardian.is_paused null', ['guardian', 'is_paused'], null],
      ['breakers a string', ['breakers'], 'CLOSED'],
      ['breakers null', ['breakers'], null],
      ['market_regime null', ['market_regime'], null],
      ['market_regime an array', ['market_regime'], []],
      ['market_regime.risk_multiplier a string', ['market_regime', 'risk_multiplier'], '0.85'],
      ['market_regime.risk_multiplier null', ['market_regime', 'risk_multiplier'], null],
      ['summary null', ['summary'], null],
      ['summary an array', ['summary'], []],
    ])('%s', (_label, keys, value) => {
      // Arrange
      const body = fixtureWith(keys, value);
      const path = `/${keys.join('/')}`;

      // Act
      const error = rejectionOf(body);

      // Assert
      expect(error).toBeInstanceOf(InvalidDocumentError);
      expect(error!.code).toBe(400);
      expect(error!.extra.details).toEqual(expect.arrayContaining([expect.objectContaining({ path, message: expect.any(String) })]));
      expect(error!.message).toContain(path);
      expect(isMetaDocument(body)).toBe(false);
    });

    it('guardian without is_paused', () => {
      // Arrange
      const body = fixtureWith(['guardian', 'is_paused'], undefined);

      // Act
      const error = rejectionOf(body);

      // Assert
      expect(error).toBeInstanceOf(InvalidDocumentError);
      expect(error!.extra.details).toEqual([expect.objectContaining({ path: '/guardian', message: expect.stringContaining('is_paused') })]);
      expect(isMetaDocument(body)).toBe(false);
    });

    it.each([
      ['per_agent', ['pnl_1d', 'pnl_7d', 'sharpe_30d', 'winrate_30d', 'max_dd_30d', 'total_decisions', 'revenue_24h', 'revenue_total']],
      ['per_strategy', ['pnl_1d', 'pnl_7d', 'sharpe_30d', 'winrate_30d', 'max_dd_30d', 'trade_count', 'score']],
    ])('a null in any %s numeric field', (section, fields) => {
      // Act
      const accepted = fields.filter((field) => rejectionOf({ [section]: { X: { [field]: null } } }) === undefined);

      // Assert
      expect(accepted).toEqual([]);
    });
  });

  it.each([
    ['null', null],
    ['an array', [FIXTURE]],
    ['a string', '{"per_agent":{}}'],
    ['a number', 42],
  ])('rejects a body that is %s, not an object', (_label, body) => {
    // Act
    const error = rejectionOf(body);

    // Assert
    expect(error).toBeInstanceOf(InvalidDocumentError);
    expect(error!.code).toBe(400);
    expect(isMetaDocument(body)).toBe(false);
  });
});
