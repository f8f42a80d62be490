import { Injectable } from '@nestjs/common';

/**
 * Set once when SIGTERM/SIGINT arrives (or the app closes): readiness turns 503, ingest stops
 * taking documents, and whoever registered with `onBegin` (open event streams) lets go.
 */
@Injectable()
export class ShutdownState {
  private since: Date | undefined;
  private readonly listeners = new Set<() => void>();

  begin(): void {
    if (this.since) return;
    this.since = new Date();
    for (const listener of this.listeners) listener();
    this.listeners.clear();
  }

  get shuttingDown(): boolean {
    return this.since !== undefined;
  }

  /** Calls `listener` once when shutdown begins (at once if it already has); returns an unsubscribe. */
  onBegin(listener: () => void): () => void {
    if (this.since) {
      listener();
      return () => undefined;
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
