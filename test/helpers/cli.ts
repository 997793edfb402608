/**
 * Runs the `batchron` CLI in this process as bin/batchron.mjs would, capturing what it writes
 * and the exit code (process.exit is stubbed to throw), so CLI behaviour is tested in
 * milliseconds. Call `inProcessCli()` at a test file's top level: it installs the hooks.
 */
import { afterEach, beforeEach, vi } from 'vitest';
import { buildProgram } from '#cli/main';

export interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

class Exited extends Error {
  constructor(readonly code: number) {
    super(`process.exit(${code})`);
  }
}

/**
 * @returns a runner; with `refusedWithinMs`, a command still running after that long fails
 *   the test (for command lines that must be refused at once)
 */
export function inProcessCli(): (args: string[], opts?: { refusedWithinMs?: number }) => Promise<CliOutcome> {
  let out = { stdout: '', stderr: '' };
  beforeEach(() => {
    out = { stdout: '', stderr: '' };
    vi.spyOn(process, 'exit').mockImplementation(((code?: number) => {
      throw new Exited(code ?? 0);
    }) as never);
    vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: unknown) => ((out.stdout += String(chunk)), true)) as never);
    vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: unknown) => ((out.stderr += String(chunk)), true)) as never);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });
  return async (args, opts = {}) => {
    out = { stdout: '', stderr: '' };
    process.exitCode = undefined;
    let code: number | undefined;
    const parsing = buildProgram().parseAsync(['node', 'batchron', ...args]);
    try {
      await (opts.refusedWithinMs === undefined
        ? parsing
        : Promise.race([
            parsing,
            new Promise((_, reject) =>
              setTimeout(() => reject(new Error(`batchron ${args.join(' ')} was not refused: still running after ${opts.refusedWithinMs! / 1000} s`)), opts.refusedWithinMs).unref(),
            ),
          ]));
    } catch (error) {
      if (!(error instanceof Exited)) throw error;
      code = error.code;
    }
    const exitCode = code ?? (typeof process.exitCode === 'number' ? process.exitCode : 0);
    process.exitCode = undefined;
    return { code: exitCode, ...out };
  };
}
