import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

type Json = Record<string, any>;

/** A JSON pointer segment: `~` → `~0`, `/` → `~1`. */
const pointer = (segment: string) => segment.replace(/~/g, '~0').replace(/\//g, '~1');

export interface DeclaredResponse {
  /** The key it is declared under: the status, or `default`. */
  key: string;
  response: Json;
}

/**
 * Validates real answers against an OpenAPI 3.1 document: the whole document is registered with
 * ajv (JSON Schema 2020-12, formats checked), so every `$ref` resolves inside it as it would for a
 * client generator. An unresolvable `$ref` throws when its schema is compiled.
 */
export class OpenApiValidator {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true, validateSchema: false });
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(readonly document: Json) {
    addFormats.default(this.ajv);
    this.ajv.addSchema(document, 'openapi.json');
  }

  /** `GET /x` style keys of every operation in the document. */
  operations(): string[] {
    return Object.entries(this.document.paths as Json).flatMap(([path, item]) =>
      Object.keys(item as Json)
        .filter((m) => ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'].includes(m))
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
  }

  operation(method: string, path: string): Json | undefined {
    return this.document.paths[path]?.[method.toLowerCase()];
  }

  /** The response an operation declares for `status`: its own entry, else `default` for an error. */
  declared(method: string, path: string, status: number): DeclaredResponse | undefined {
    const responses = this.operation(method, path)?.responses as Json | undefined;
    if (!responses) return undefined;
    if (responses[String(status)]) return { key: String(status), response: responses[String(status)] };
    if (status >= 400 && responses.default) return { key: 'default', response: responses.default };
    return undefined;
  }

  /** The validator of what an operation declares for `status` and media type. */
  responseValidator(method: string, path: string, key: string, mediaType: string): ValidateFunction {
    return this.compile(
      `openapi.json#/paths/${pointer(path)}/${method.toLowerCase()}/responses/${key}/content/${pointer(mediaType)}/schema`,
    );
  }

  /** The validator of a named component schema. */
  component(name: string): ValidateFunction {
    return this.compile(`openapi.json#/components/schemas/${pointer(name)}`);
  }

  private compile(ref: string): ValidateFunction {
    let validate = this.cache.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.cache.set(ref, validate);
    }
    return validate;
  }
}

/** Every `$ref` in a document that does not point at something inside it. */
export function danglingRefs(document: Json): string[] {
  const missing: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (typeof node !== 'object' || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && resolve(document, value) === undefined) missing.push(value);
      else walk(value);
    }
  };
  walk(document);
  return missing;
}

function resolve(document: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  return ref
    .slice(2)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, segment) => (node as Json | undefined)?.[segment], document);
}
