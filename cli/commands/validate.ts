/**
 * `batchron validate`: resolves serverless.yml as osls does, checks `custom.batchron` with
 * the same rules as `osls package` and the local start, and prints each schedule's next
 * five fire times in its own zone. Exit 2 with every problem listed when it is invalid.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import pc from 'picocolors';
import { ConfigError, YamlSyntaxError } from '#shared/errors';
import { startsOn } from '#shared/config/dependencies';
import { deploymentContext, deploymentOf, normalizeConfig, parseConfig } from '#shared/config/validate';
import { configWarnings } from '#shared/config/warnings';
import { nextFires } from '#shared/expressions/series';
import { action, EXIT, ExitCodeError, usageExit, UsageError } from './common.ts';
import { inZone, iso, json } from '#cli/format';

interface ValidateOptions {
  dir: string;
  stage?: string;
  json?: boolean;
}

/** Registers `validate`. */
export function validateCommand(): Command {
  const cmd = new Command('validate')
    .description("check serverless.yml's schedules and print each one's next five fire times in its zone")
    .addOption(new Option('--dir <folder>', 'project folder holding serverless.yml').default('.'))
    .option('--stage <stage>', 'stage to resolve serverless.yml for (default: dev)')
    .option('--json', 'print the result as JSON');
  usageExit(cmd);
  cmd.action(
    action(async (opts: ValidateOptions) => {
      const dir = resolve(opts.dir);
      if (!existsSync(resolve(dir, 'serverless.yml'))) throw new UsageError(`no serverless.yml in ${dir}`);
      // Loaded on demand: the local deploy module is large, and only `validate` needs it.
      const { resolveService } = await import('#local/deploy');
      let service;
      try {
        service = await resolveService(dir, opts.stage ? { stage: opts.stage } : {});
      } catch (error) {
        if (error instanceof YamlSyntaxError) {
          if (opts.json) process.stdout.write(json({ valid: false, problems: [error.message.split('\n')[0]] }));
          throw new ExitCodeError(EXIT.usage, `${pc.red(`${error.file}:${error.line}:${error.column}: YAML syntax error:`)} ${error.reason}\n${error.excerpt}`);
        }
        throw new ExitCodeError(EXIT.usage, `${pc.red('serverless.yml could not be resolved')}: ${error instanceof Error ? error.message : String(error)}`);
      }
      const { deployment, defaultQueue } = deploymentOf(service.service, service.provider.stage ?? 'dev', service.custom);
      const ctx = deploymentContext(deployment, defaultQueue);
      let definitions;
      let warnings: string[] = [];
      try {
        const config = parseConfig(service.custom?.batchron, ctx);
        warnings = configWarnings(config);
        definitions = normalizeConfig(config, ctx);
      } catch (error) {
        if (error instanceof ConfigError) {
          if (opts.json) process.stdout.write(json({ valid: false, problems: error.problems }));
          throw new ExitCodeError(
            EXIT.usage,
            `${pc.red(`serverless.yml is invalid (${error.problems.length} problem${error.problems.length === 1 ? '' : 's'}):`)}\n${error.problems.map((p) => `  - ${p}`).join('\n')}`,
          );
        }
        throw error;
      }
      const from = new Date();
      const schedules = Object.values(definitions).map((def) => {
        const spec = (service.custom?.batchron as { schedules?: Record<string, { startDate?: string; endDate?: string }> } | undefined)?.schedules?.[def.name];
        // Not deployed yet: a rate without a startDate would be anchored at its creation, taken as now.
        const times = def.expression === undefined ? [] : nextFires(
          {
            expression: def.expression,
            timezone: def.timezone,
            createdAt: from,
            ...(spec?.startDate ? { startDate: new Date(spec.startDate) } : {}),
            ...(spec?.endDate ? { endDate: new Date(spec.endDate) } : {}),
          },
          from,
          5,
        );
        return { name: def.name, expression: startsOn(def), timezone: def.timezone, tasks: def.tasks.map((t) => t.name), next: times };
      });
      if (opts.json) {
        process.stdout.write(
          json({
            valid: true,
            deployment,
            warnings,
            schedules: schedules.map((s) => ({ ...s, next: s.next.map((t) => iso(t)) })),
          }),
        );
        return;
      }
      for (const w of warnings) process.stderr.write(`${pc.yellow('warning:')} ${w}\n`);
      process.stdout.write(`${pc.green('✓')} serverless.yml is valid: ${schedules.length} schedule${schedules.length === 1 ? '' : 's'} (deployment ${deployment})\n`);
      for (const s of schedules) {
        process.stdout.write(`\n${pc.bold(s.name)}  ${s.expression} ${pc.dim(s.timezone)}  ${pc.dim(`tasks: ${s.tasks.join(', ')}`)}\n`);
        if (s.next.length === 0) process.stdout.write(`  ${pc.dim('no further fire times')}\n`);
        for (const t of s.next) process.stdout.write(`  ${inZone(t, s.timezone)}  ${pc.dim(iso(t))}\n`);
      }
    }),
  );
  return cmd;
}
