import { ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InjectThrottlerOptions, InjectThrottlerStorage, ThrottlerGuard, type ThrottlerLimitDetail, type ThrottlerModuleOptions, type ThrottlerStorage } from '@nestjs/throttler';
import { TooManyRequestsError } from '../common/domain.error.js';
import { AppConfig } from '../config/app.config.js';
import { bearerToken } from './token-set.js';

/**
 * The per-client write rate limit (WRITE_RATE_LIMIT writes per WRITE_RATE_WINDOW_MS, per write
 * route), put on the write handlers only, so reads never pass through it. A client is its write
 * token when it presents a valid one (one per agent: each gets its own budget), else its IP
 * address — an unknown token does not buy a fresh budget. Over the limit: 429 + Retry-After.
 * Off (WRITE_RATE_LIMIT=0, the default): returns at once.
 */
@Injectable()
export class WriteThrottleGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly config: AppConfig,
  ) {
    super(options, storage, reflector);
  }

  protected override async shouldSkip(): Promise<boolean> {
    return this.config.access.writeRateLimit === 0;
  }

  protected override async getTracker(request: { headers: Record<string, string | string[] | undefined> }): Promise<string> {
    const header = request.headers.authorization;
    const token = bearerToken(typeof header === 'string' ? header : undefined);
    const index = token === undefined ? -1 : this.config.access.writeTokens.indexOf(token);
    return index === -1 ? `ip:${await super.getTracker(request)}` : `token:${index}`;
  }

  protected override async throwThrottlingException(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    throw new TooManyRequestsError(Math.max(1, detail.timeToBlockExpire));
  }
}
