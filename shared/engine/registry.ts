/**
 * The schedule registry as the sweeper reads it: every enabled Batchron schedule of the
 * deployment's group (its target is `fire`) with its definition and its series as
 * GetSchedule describes it (CreationDate and StartDate anchor a rate, LastModificationDate
 * starts the definition in force). EventBridge Scheduler is the registry (see
 * shared/config/definition.ts), on AWS and locally alike.
 */
import { GetScheduleCommand, ListSchedulesCommand, ResourceNotFoundException, type SchedulerClient } from '@aws-sdk/client-scheduler';
import pLimit from 'p-limit';
import * as z from '../zod.ts';
import { ScheduleDefinitionSchema, type ScheduleDefinition } from '../config/definition.ts';
import { seriesOfSchedule, type SeriesSpec } from '../expressions/series.ts';

/** One enabled schedule with what its series depends on. */
export interface RegisteredSchedule {
  name: string;
  definition: ScheduleDefinition;
  series: SeriesSpec;
}

/** Where the sweeper finds the schedules whose fires it checks. */
export interface ScheduleRegistryPort {
  /** Every ENABLED schedule that targets `fire`. */
  listEnabled(): Promise<RegisteredSchedule[]>;
}

const TargetInputSchema = z.object({ schedule: z.string(), definition: ScheduleDefinitionSchema });

/** The registry on EventBridge Scheduler: ListSchedules (State=ENABLED) then GetSchedule, a few at a time. */
export function sdkScheduleRegistry(client: SchedulerClient, where: { groupName: string; fireTargetArn: string }): ScheduleRegistryPort {
  return {
    async listEnabled() {
      const names: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListSchedulesCommand({ GroupName: where.groupName, State: 'ENABLED', NextToken: token }));
        for (const s of page.Schedules ?? []) if (s.Name && s.Target?.Arn === where.fireTargetArn) names.push(s.Name);
        token = page.NextToken;
      } while (token);
      const limit = pLimit(8);
      const found = await Promise.all(
        names.map((name) =>
          limit(async (): Promise<RegisteredSchedule | undefined> => {
            try {
              const out = await client.send(new GetScheduleCommand({ Name: name, GroupName: where.groupName }));
              if (out.State !== 'ENABLED' || out.Target?.Arn !== where.fireTargetArn || !out.Target.Input) return undefined;
              let input: unknown;
              try {
                input = JSON.parse(out.Target.Input);
              } catch {
                return undefined; // not JSON: not a schedule of ours
              }
              const parsed = TargetInputSchema.safeParse(input);
              if (!parsed.success) return undefined;
              return { name, definition: parsed.data.definition, series: seriesOfSchedule(out) };
            } catch (error) {
              if (error instanceof ResourceNotFoundException) return undefined; // deleted meanwhile
              throw error;
            }
          }),
        ),
      );
      return found.filter((s): s is RegisteredSchedule => s !== undefined);
    },
  };
}
