import { isPlainObject, parseLenientJson } from './lenient-json.js';

describe('parseLenientJson', () => {
  it('parses strict JSON exactly as JSON.parse does', () => {
    // Arrange
    const text = '{"regime":"BULL","risk_multiplier":1.25,"strategy":{"weights":[0.5,0.5]},"note":null,"on":true}';

    // Act
    const result = parseLenientJson(text);

    // Assert
    expect(result).toEqual(JSON.parse(text));
  });

  it("reads Python's NaN, Infinity and -Infinity tokens as null", () => {
    // Arrange
    const text = '{"sharpe": NaN, "upside": Infinity, "downside": -Infinity, "pnl": 12.5}';

    // Act
    const result = parseLenientJson(text);

    // Assert
    expect(result).toEqual({ sharpe: null, upside: null, downside: null, pnl: 12.5 });
  });

  it('reads non-finite tokens as null inside nested objects and arrays', () => {
    // Arrange
    const text = '{"per_agent": {"A": {"sharpe_30d": NaN, "series": [1, Infinity, -Infinity, 2]}}}';

    // Act
    const result = parseLenientJson(text);

    // Assert
    expect(result).toEqual({ per_agent: { A: { sharpe_30d: null, series: [1, null, null, 2] } } });
  });

  it('reads an overflowing number such as 1e999 as null', () => {
    // Arrange
    const text = '{"big": 1e999, "small": -1e999, "ok": 1e3}';

    // Act
    const result = parseLenientJson(text);

    // Assert
    expect(result).toEqual({ big: null, small: null, ok: 1000 });
  });

  it.each([
    ['a truncated document', '{"allocations": {"A": 0.5,'],
    ['plain garbage', 'not json at all'],
    ['an empty file', ''],
    ['a NaN spelled wrong', '{"x": nan}'],
  ])('throws on %s', (_label, text) => {
    // Act / Assert
    expect(() => parseLenientJson(text)).toThrow();
  });
});

describe('isPlainObject', () => {
  it.each([
    [{}, true],
    [{ a: 1 }, true],
    [[], false],
    [null, false],
    ['{}', false],
    [42, false],
  ])('isPlainObject(%j) is %s', (value, expected) => {
    // Act
    const result = isPlainObject(value);

    // Assert
    expect(result).toBe(expected);
  });
});
