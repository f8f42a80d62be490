import { Logger } from '@nestjs/common';
import { flushCompileCache } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApp } from './app.factory.js';
import { flushLogsSync } from './common/logger.options.js';
import { ShutdownState } from './common/shutdown.state.js';
import { releaseStartupMemory, STARTUP_SETTLE_MS } from './common/startup-memory.js';
import { AppConfig, ConfigError } from './config/app.config.js';

async function main(): Promise<void> {
  const app = await createApp().catch(failStart);
  const config = app.get(AppConfig);
  const logger = new Logger('Main');
  await app.listen({ port: config.port, host: config.host }).catch(failStart);
  // Node writes its compile cache (main.ts) at a clean exit; a process killed after a new build
  // would leave every later start without it (~60 ms and ~5 MB more). A no-op when it is current.
  flushCompileCache();
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.log(
    { host: config.host, port, root: config.root, ack: config.ingestAck, writes: config.stateWrites },
    `listening on ${config.host}:${port}`,
  );
  // Memory only: a failure is logged, never fatal. A shutdown that begins first cancels it.
  const release = setTimeout(() => {
    try {
      logger.debug(releaseStartupMemory(), 'released start-up memory');
    } catch (error) {
      logger.warn({ err: error }, 'could not release start-up memory');
    }
  }, STARTUP_SETTLE_MS).unref();
  if (config.access.writeTokens.size === 0) {
    logger.warn(
      { host: config.host, port },
      `writes are open to anyone who can reach ${config.host}:${port}: set WRITE_TOKENS to require a bearer token (README, "Security")`,
    );
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'already shutting down: the drain goes on');
      return;
    }
    stopping = true;
    clearTimeout(release);
    logger.log({ signal, graceMs: config.shutdownGraceMs }, 'shutting down: draining the ingest queue');
    setTimeout(() => {
      logger.error({ graceMs: config.shutdownGraceMs }, 'shutdown grace period exceeded; exiting');
      flushLogsSync();
      process.exit(1);
    }, config.shutdownGraceMs).unref();
    app.get(ShutdownState).begin();
    sleep(config.shutdownLingerMs)
      .then(() => app.close())
      .then(() => {
        logger.log('stopped cleanly');
        flushLogsSync();
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'error while shutting down');
        flushLogsSync();
        process.exit(1);
      });
  };
  // `on`, not `once`: a second signal (a supervisor's retry, Ctrl-C twice) would otherwise get Node's
  // default action and kill the process in the middle of its drain.
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/**
 * A bad variable, or what the system refuses (a state file it may not read, a port in use): one
 * line the operator can act on, not a stack. Anything else is thrown on.
 */
function failStart(error: unknown): never {
  if (error instanceof ConfigError) process.stderr.write(`${error.message}\n`);
  else if (isSystemError(error)) process.stderr.write(`could not start: ${error.message}\n`);
  else throw error;
  flushLogsSync();
  process.exit(1);
}

function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && /^E[A-Z]+$/.test(String((error as NodeJS.ErrnoException).code));
}

void main();
