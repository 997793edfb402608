/**
 * The `batchron` command line: one commander program; each command lives in its own
 * module and exports a factory returning its `Command`, registered below.
 */
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { localCommand } from '#cli/local';
import { startCommand } from '#cli/start';
import { registerCommands } from '#cli/commands/index';
import { usageExit } from '#cli/commands/common';

/** Builds the program with every command registered; exported for tests. */
export function buildProgram(): Command {
  const { version } = createRequire(import.meta.url)('../package.json') as { version: string };
  return registerCommands(
    usageExit(new Command('batchron'))
      .description('Batchron: a serverless job scheduler for AWS, and its local stack')
      .version(version, '-V, --version', 'print the version')
      .showHelpAfterError()
      // Exit 2 on a bad flag, like every other command (commander's own default is 1, "run failed").
      .addCommand(usageExit(startCommand()))
      .addCommand(usageExit(localCommand())),
  );
}

/** Entry point used by bin/batchron.mjs. */
export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv);
}
