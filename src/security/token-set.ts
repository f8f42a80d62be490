import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Whether two secrets are equal, in time that depends neither on where they first differ nor on
 * their lengths: both are hashed to 32 bytes and those compared with `crypto.timingSafeEqual`
 * (which itself requires equal lengths, and would otherwise leak the secret's length by throwing).
 */
export function constantTimeEquals(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** The token in an `Authorization: Bearer <token>` header, if that is what the header holds. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer +([\x21-\x7e]+) *$/i.exec(header);
  return match?.[1];
}

/**
 * A set of bearer tokens (WRITE_TOKENS, READ_TOKENS). Only their SHA-256 digests are kept, and a
 * presented token is compared with every one of them in constant time, so neither the answer's
 * timing nor a dump of this object gives a token away.
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
