import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/** The token in an `Authorization: Bearer <token>` header, if that is what the header holds. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer +([\x21-\x7e]+) *$/i.exec(header);
  return match?.[1];
}

/**
 * A set of bearer tokens (WRITE_TOKENS, READ_TOKENS), and the service's one constant-time secret
 * comparison. Only the tokens' SHA-256 digests are kept; a presented token is hashed the same way
 * and compared with every one of them by `crypto.timingSafeEqual`, which needs inputs of equal
 * length — hashing gives that, so neither where a guess first differs nor how long it is shows in
 * the time taken (comparing raw strings would throw on a length mismatch, revealing the length).
 * A dump of this object gives no token away either.
 */
export class TokenSet {
  private readonly digests: readonly Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map(digest);
  }

  get size(): number {
    return this.digests.length;
  }

  /** Position of the matching token (a stable client id for rate limits), or -1. */
  indexOf(presented: string): number {
    const candidate = digest(presented);
    let found = -1;
    // No early exit: the time taken does not tell which token (if any) matched.
    this.digests.forEach((known, index) => {
      if (timingSafeEqual(known, candidate) && found === -1) found = index;
    });
    return found;
  }

  has(presented: string): boolean {
    return this.indexOf(presented) !== -1;
  }
}
