import JSON5 from 'json5';

/** Python's `json.dump` writes bare `NaN` / `Infinity`; every non-finite number is read as `null`. */
const finiteOrNull = (_key: string, value: unknown): unknown =>
  typeof value === 'number' && !Number.isFinite(value) ? null : value;

/**
 * Parses a file written by the Python agents. Strict JSON first (the fast, common case); only if
 * that fails, JSON5, which also accepts the `NaN` / `Infinity` tokens. Throws on anything else.
 */
export function parseLenientJson(text: string): unknown {
  try {
    return JSON.parse(text, finiteOrNull);
  } catch {
    return JSON5.parse(text, finiteOrNull);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
