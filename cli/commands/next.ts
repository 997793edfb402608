/**
 * `batchron next <expression>`: the fire times of a Scheduler expression, one ISO-8601
 * instant (UTC) per line, computed by the same code the local Scheduler and the API use.
 */
import { Command, Option } from 'commander';
import { ExpressionError, isValidTimezone } from '#shared/expressions/index';
import { nextFires } from '#shared/expressions/series';
import { action, IsoInstant, parseFlag, PositiveInt, usageExit, UsageError } from './common.ts';
import { inZone, iso, json } from '#cli/format';

interface NextOptions {
  tz: string;
  from?: string;
  count: string;
  json?: boolean;
  local?: boolean;
  start?: string;
  end?: string;
  created?: string;
}

/** Registers `next`. */
export function nextCommand(): Command {
  const cmd = new Command('next')
    .description('print the next fire times of a schedule expression, one ISO-8601 instant per line')
    .argument('<expression>', "cron(...), rate(...) or at(...), e.g. 'cron(0 9 ? * MON-FRI *)'")
    .addOption(new Option('--tz <zone>', 'IANA time zone the expression is evaluated in').default('UTC'))
    .option('--from <instant>', 'list times strictly after this ISO-8601 instant (default: now)')
    .addOption(new Option('--count <n>', 'how many times (1-1000)').default('5'))
    .option('--start <instant>', "the schedule's StartDate (ISO-8601): a rate is anchored here")
    .option('--end <instant>', "the schedule's EndDate (ISO-8601)")
    .option('--created <instant>', 'when the schedule was created (ISO-8601): a rate without --start is anchored here (default: --from)')
    .option('--local', 'also show each time on the wall clock of --tz')
    .option('--json', 'print a JSON array of instants');
  usageExit(cmd);
  cmd.action(
    action(async (expression: string, opts: NextOptions) => {
      const count = parseFlag('--count', PositiveInt(1000), opts.count);
      const from = opts.from === undefined ? new Date() : new Date(parseFlag('--from', IsoInstant, opts.from));
      if (!isValidTimezone(opts.tz)) {
        throw new UsageError(`--tz '${opts.tz}' is not a time zone; use an IANA name such as UTC, Europe/Berlin or Asia/Tokyo`);
      }
      let times: Date[];
      try {
        const start = opts.start === undefined ? undefined : new Date(parseFlag('--start', IsoInstant, opts.start));
        const end = opts.end === undefined ? undefined : new Date(parseFlag('--end', IsoInstant, opts.end));
        const created = opts.created === undefined ? from : new Date(parseFlag('--created', IsoInstant, opts.created));
        times = nextFires(
          { expression, timezone: opts.tz, createdAt: created, ...(start ? { startDate: start } : {}), ...(end ? { endDate: end } : {}) },
          from,
          count,
        );
      } catch (error) {
        if (error instanceof ExpressionError) throw new UsageError(error.message, { cause: error });
        throw error;
      }
      if (opts.json) {
        process.stdout.write(json(times.map((t) => iso(t))));
        return;
      }
      const lines = times.map((t) => (opts.local ? `${iso(t)}  ${inZone(t, opts.tz)}` : iso(t)));
      if (lines.length > 0) process.stdout.write(`${lines.join('\n')}\n`);
      else process.stderr.write(`${expression} does not fire after ${iso(from)}\n`);
    }),
  );
  return cmd;
}
