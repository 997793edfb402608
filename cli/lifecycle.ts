/**
 * What the long-running commands (`start`, `local`) share: stopping cleanly on Ctrl-C or
 * SIGTERM (a second signal forces), timestamped live lines, and their option parsers.
 */
import { InvalidArgumentError } from 'commander';
import pc from 'picocolors';

/**
 * Resolves once the process got SIGINT or SIGTERM and `stop` finished. A second signal
 * exits at once with 130 (exit handlers still kill child process groups).
 */
export function runUntilSignal(opts: { command: string; graceMs: number; stop: () => Promise<void>; stopped: string }): Promise<void> {
  return new Promise<void>((done) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        console.error(pc.red(`\n${signal} again: stopping now, without waiting for jobs.`));
        process.exit(130);
      }
      stopping = true;
      console.error(pc.dim(`\n${signal}: stopping (jobs get SIGTERM, SIGKILL after ${opts.graceMs} ms; ${signal} again forces)...`));
      opts
        .stop()
        .then(
          () => console.error(pc.dim(opts.stopped)),
          (error: unknown) => {
            console.error(pc.red(`batchron ${opts.command}: stop failed: ${error instanceof Error ? error.message : String(error)}`));
            process.exitCode = 1;
          },
        )
        .finally(() => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          done();
        });
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** Prints a live line behind the wall-clock time. */
export function line(text: string): void {
  console.log(`${pc.dim(new Date().toISOString().slice(11, 19))} ${text}`);
}

/** commander parser for a TCP port (0 picks a free one). */
export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('expected a port number (0-65535)');
  return n;
}

/** commander parser for a whole, non-negative number of milliseconds. */
export function nonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number of milliseconds');
  return n;
}
