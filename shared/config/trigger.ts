/**
 * What an event trigger's EventBridge rule sends to the `trigger` function (the
 * InputTransformer template of validate.ts#triggerInputTemplate, with the event in it), and
 * what a batch window's one-time close schedule sends. zod/mini: in the function's bundle.
 */
import * as z from '../zod.ts';
import { ScheduleDefinitionSchema } from './definition.ts';

const nonEmpty = () => z.string().check(z.minLength(1));
const int = () => z.number().check(z.int());

/** A trigger's settings, as normalized from `on[i]` (./schema.ts EventTriggerSchema). */
export const TriggerSettingsSchema = z.object({
  parameters: z._default(z.record(z.string(), z.string()), {}),
  idempotencyKey: z._default(nonEmpty(), '$.id'),
  batchWindow: z.optional(z.object({ seconds: int().check(z.positive()), maxEvents: int().check(z.positive()) })),
});
export type TriggerSettings = z.infer<typeof TriggerSettingsSchema>;

/** The fields of an EventBridge event the engine reads (the rest is kept, unread). */
export const TriggerEventSchema = z.looseObject({
  id: nonEmpty(),
  source: z.string(),
  'detail-type': z.string(),
  time: z.iso.datetime({ offset: true }),
});

/** The rule's target input: the schedule, which trigger, its settings and the event. */
export const TriggerInputSchema = z.object({
  schedule: nonEmpty(),
  trigger: int().check(z.minimum(0)),
  settings: TriggerSettingsSchema,
  definition: ScheduleDefinitionSchema,
  event: TriggerEventSchema,
});
export type TriggerInput = z.infer<typeof TriggerInputSchema>;

/** The one-time schedule at a batch window's end: close that window. */
export const WindowCloseInputSchema = z.object({
  closeWindow: z.object({ schedule: nonEmpty(), trigger: int().check(z.minimum(0)), window: int().check(z.minimum(0)) }),
});
export type WindowCloseInput = z.infer<typeof WindowCloseInputSchema>;

/** Either input of the `trigger` function. */
export const TriggerFunctionInputSchema = z.union([WindowCloseInputSchema, TriggerInputSchema]);
