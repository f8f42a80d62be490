import { isUtf8 } from 'node:buffer';
import { InvalidDocumentError } from './domain.error.js';

/** Bounds on the shape of a JSON request body (`JSON_MAX_*` in the configuration). */
export interface JsonLimits {
  /** Objects and arrays nested deeper than this are refused (the top-level object is depth 1). */
  readonly maxDepth: number;
  /** Object keys plus array items, counted over the whole body. */
  readonly maxKeys: number;
  /** Longest string value or key, in UTF-16 code units. */
  readonly maxStringLength: number;
}

/**
 * Parses a JSON request body and refuses, with a 400, what the rest of the service should never
 * see: bytes that are not UTF-8, nesting deeper than `maxDepth` (JSON.stringify recurses and would
 * overflow the stack when the document is stored), more than `maxKeys` keys and items, strings
 * longer than `maxStringLength`, numbers outside the double range (`1e999` parses as Infinity and
 * would be stored as null), and the prototype-poisoning keys `__proto__` and
 * `constructor.prototype` (Fastify's `onProtoPoisoning: 'error'` policy, kept by this parser).
 *
 * All of it happens here, before any route's validation runs. `JSON.parse` itself does not
 * recurse, so the checks run on the parsed value: one iterative walk with an explicit stack, which
 * stops at the first problem. A typical 6 KB document has a few hundred values: microseconds.
 * A large body is first scanned byte by byte for depth and item count, so that 4 MiB of `[` or
 * of `"k":0,` is refused in milliseconds instead of being parsed (0.6 s and 100 MB) first.
 */
export function parseJsonBody(body: Buffer, limits: JsonLimits): unknown {
  if (body.length === 0) throw new InvalidDocumentError('request body is empty; expected a JSON object');
  if (!isUtf8(body)) throw new InvalidDocumentError('request body is not valid UTF-8');
  const early = body.length > PRESCAN_BYTES ? scanShape(body, limits) : undefined;
  if (early) throw new InvalidDocumentError(`request body refused: ${early}`);
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8', hasBom(body) ? 3 : 0));
  } catch (error) {
    throw new InvalidDocumentError(`request body is not valid JSON: ${(error as Error).message.slice(0, 200)}`);
  }
  const problem = findProblem(value, limits);
  if (problem) throw new InvalidDocumentError(`request body refused: ${problem}`);
  return value;
}

/** Bodies up to this size are parsed straight away: even a hostile one parses in a few ms. */
const PRESCAN_BYTES = 64 * 1024;

/**
 * Depth and item count read off the raw bytes, skipping strings (UTF-8 continuation bytes are
 * never ASCII, so byte-wise is exact). Sound as a shortcut: a body refused here would be refused
 * by `findProblem` too (there is at least one item per comma), and invalid JSON would fail to parse.
 */
function scanShape(body: Buffer, limits: JsonLimits): string | undefined {
  let depth = 0;
  let commas = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limits.maxDepth) return `nested deeper than ${limits.maxDepth} levels`;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x2c && ++commas > limits.maxKeys) {
      return `more than ${limits.maxKeys} keys and items`;
    }
  }
  return undefined;
}

function hasBom(body: Buffer): boolean {
  return body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf;
}

/** The first limit `root` breaks, described for the client; `undefined` when it keeps them all. */
function findProblem(root: unknown, limits: JsonLimits): string | undefined {
  const values: unknown[] = [root];
  const depths: number[] = [0];
  let keys = 0;
  while (values.length > 0) {
    const value = values.pop();
    const depth = depths.pop()!;
    if (typeof value === 'string') {
      if (value.length > limits.maxStringLength) return `a string is longer than ${limits.maxStringLength} characters`;
      continue;
    }
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return 'a number is out of range';
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= limits.maxDepth) return `nested deeper than ${limits.maxDepth} levels`;
    if (Array.isArray(value)) {
      keys += value.length;
      if (keys > limits.maxKeys) return `more than ${limits.maxKeys} keys and items`;
      for (const item of value) {
        values.push(item);
        depths.push(depth + 1);
      }
      continue;
    }
    const object = value as Record<string, unknown>;
    for (const key of Object.keys(object)) {
      if (++keys > limits.maxKeys) return `more than ${limits.maxKeys} keys and items`;
      if (key.length > limits.maxStringLength) return `a key is longer than ${limits.maxStringLength} characters`;
      const item = object[key];
      if (key === '__proto__') return 'the key "__proto__" is not allowed';
      if (key === 'constructor' && typeof item === 'object' && item !== null && Object.hasOwn(item, 'prototype')) {
        return 'the key "constructor.prototype" is not allowed';
      }
      values.push(item);
      depths.push(depth + 1);
    }
  }
  return undefined;
}
