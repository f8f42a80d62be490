import { Injectable } from '@nestjs/common';

/** Set once when SIGTERM/SIGINT arrives: readiness turns 503 and ingest stops taking documents. */
@Injectable()
export class ShutdownState {
  private since: Date | undefined;

  begin(): void {
    this.since ??= new Date();
  }

  get shuttingDown(): boolean {
    return this.since !== undefined;
  }
}
