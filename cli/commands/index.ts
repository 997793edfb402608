/**
 * The API and config commands of `batchron`, registered on the program in one call so
 * cli/main.ts stays a list of one line per module.
 */
import type { Command } from 'commander';
import { emitCommand } from './emit.ts';
import { nextCommand } from './next.ts';
import { validateCommand } from './validate.ts';
import { cancelCommand, logsCommand, rerunCommand, runCommand, runsCommand, triggerCommand } from './runs.ts';
import { backfillCommand, pauseCommand, resumeCommand, schedulesCommand } from './schedules.ts';

/** Adds validate, next, trigger, runs, run, logs, cancel, rerun, pause, resume, backfill and schedules. */
export function registerCommands(program: Command): Command {
  for (const make of [
    validateCommand,
    nextCommand,
    schedulesCommand,
    triggerCommand,
    runsCommand,
    runCommand,
    logsCommand,
    cancelCommand,
    rerunCommand,
    pauseCommand,
    resumeCommand,
    backfillCommand,
    emitCommand,
  ]) {
    program.addCommand(make());
  }
  return program;
}
