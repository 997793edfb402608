/**
 * The deadline record of one schedule's deadline (shared/engine/deadline.ts): whether the run
 * it names succeeded in time, and the claim state of its two messages (the alert and the
 * "met late" one), so each goes out once however many sweepers look.
 *
 * | item     | pk                    | sk                 | TTL |
 * |----------|-----------------------|--------------------|-----|
 * | deadline | `DEADLINE#<schedule>` | `<deadline ISO>`   | deadline + retention |
 *
 * Read by key range (the deadlines of a schedule in a time span, newest first for the
 * listing's "last deadline"): no index, no scan.
 */
import * as z from '../zod.ts';

/** A message owed: PENDING, claimed (SENDING until `until`, epoch ms), or SENT. */
export const DeadlineSlotSchema = z.object({
  status: z.enum(['PENDING', 'SENDING', 'SENT']),
  until: z.optional(z.number()),
  lastError: z.optional(z.string()),
});
export type DeadlineSlot = z.infer<typeof DeadlineSlotSchema>;

/** `MET`: succeeded by the deadline; `MISSED`: not (yet); `MET_LATE`: succeeded after it. */
export const DeadlineStatusSchema = z.enum(['MET', 'MISSED', 'MET_LATE']);
export type DeadlineStatus = z.infer<typeof DeadlineStatusSchema>;

export const DeadlineRecordSchema = z.object({
  schedule: z.string(),
  /** The deadline, UTC ISO. */
  deadlineAt: z.string(),
  /** `at` deadlines: the logical date whose run it is about. */
  logicalDate: z.optional(z.string()),
  /** `after` deadlines: the fire whose run it is about. */
  scheduledTime: z.optional(z.string()),
  status: DeadlineStatusSchema,
  /** The run that met it (on time or late). */
  runId: z.optional(z.string()),
  succeededAt: z.optional(z.string()),
  /** When the sweeper found it missed. */
  missedAt: z.optional(z.string()),
  alert: z.optional(DeadlineSlotSchema),
  metLate: z.optional(DeadlineSlotSchema),
  version: z.number(),
});
export type DeadlineRecord = z.infer<typeof DeadlineRecordSchema>;

export const deadlineKey = (schedule: string, deadlineAt: string) => ({ pk: `DEADLINE#${schedule}`, sk: deadlineAt });
export const deadlinePk = (schedule: string) => `DEADLINE#${schedule}`;
