/**
 * An error our own code raises on purpose. Services throw these (never Nest `HttpException`s);
 * the global filter maps them to `{"error", "code"}` with `code` as the HTTP status.
 */
export class DomainError extends Error {
  constructor(
    message: string,
    readonly code: number,
    readonly extra: { details?: unknown[]; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The document is malformed or breaks the contract's type rules: 400, nothing changed. */
export class InvalidDocumentError extends DomainError {
  constructor(message: string, details?: unknown[]) {
    super(message, 400, { details });
  }
}

/** We cannot take the document now (queue full, shutting down, disk full): 503 + Retry-After. */
export class UnavailableError extends DomainError {
  constructor(message: string, retryAfterSeconds: number) {
    super(message, 503, { headers: { 'retry-after': String(retryAfterSeconds) } });
  }
}

/** A file the agents write exists but nothing good could ever be read from it. */
export class UnreadableSourceError extends DomainError {
  constructor(message: string) {
    super(message, 500);
  }
}

/** No bearer token, or not one that opens this route: 401 with the `WWW-Authenticate` challenge. */
export class UnauthorizedError extends DomainError {
  constructor(message: string, invalidToken = false) {
    super(message, 401, { headers: { 'www-authenticate': invalidToken ? 'Bearer error="invalid_token"' : 'Bearer' } });
  }
}

/** This client sent more writes than its rate limit allows: 429 + Retry-After. */
export class TooManyRequestsError extends DomainError {
  constructor(retryAfterSeconds: number) {
    super(`rate limit exceeded: retry in ${retryAfterSeconds} s`, 429, { headers: { 'retry-after': String(retryAfterSeconds) } });
  }
}
