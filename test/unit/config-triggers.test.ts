/**
 * Event triggers in the config: bad patterns and mappings refused with the field named; a
 * schedule with triggers only; the rule's input template, once EventBridge substitutes the
 * event (the local bus's InputTransformer), is what the trigger function parses.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '#shared/errors';
import { buildResources, templateContext } from '#shared/config/cloudformation';
import { TriggerFunctionInputSchema, TriggerInputSchema } from '#shared/config/trigger';
import { deploymentContext, normalizeSchedule, parseConfig, triggerInputTemplate } from '#shared/config/validate';
import { eventParameters, eventValue } from '#shared/engine/trigger';
import { transformInput } from '#local/eventbus';
import { loadEvent } from '#test/helpers/events';

const ctx = deploymentContext('batchron-dev');
const job = { definition: 'extract' };
const jobDefinitions = { extract: { image: 'alpine', command: ['sh', 'jobs/etl.sh'] } };
const S3_PATTERN = {
  source: ['aws.s3'],
  'detail-type': ['Object Created'],
  detail: { bucket: { name: ['batchron-example-inbox'] }, object: { key: [{ prefix: 'incoming/' }] } },
};

function problemsOf(schedules: Record<string, unknown>): string[] {
  try {
    parseConfig({ jobDefinitions, schedules }, ctx);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected parseConfig to throw');
}

describe('event triggers in the config', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    [
      'a pattern value that is not a list of matchers',
      { x: { on: [{ event: { source: 'aws.s3' } }], job } },
      'schedules.x.on[0].event: not a valid EventBridge event pattern: source: a pattern value must be an array of matchers or a nested object.',
    ],
    [
      'a numeric matcher comparing with text',
      { x: { on: [{ event: { detail: { size: [{ numeric: ['>', 'x'] }] } } }], job } },
      'schedules.x.on[0].event: not a valid EventBridge event pattern: detail.size: "numeric" compares with "x", which is not a number.',
    ],
    [
      'an empty pattern',
      { x: { on: [{ event: {} }], job } },
      'schedules.x.on[0].event: not a valid EventBridge event pattern: Event pattern must be a non-empty JSON object.',
    ],
    ['neither an expression nor triggers', { x: { job } }, 'schedules.x: needs expression (cron, rate or at), event triggers (on), upstream schedules (after), or a combination'],
    [
      'a trigger parameter the schedule does not declare',
      { x: { on: [{ event: S3_PATTERN, parameters: { key: '$.detail.object.key' } }], job } },
      'schedules.x.on[0].parameters.key: not a parameter of this schedule (declare it under parameters; declared: none)',
    ],
    [
      'a path that is not JSONPath',
      { x: { parameters: { key: {} }, on: [{ event: S3_PATTERN, parameters: { key: 'detail.object.key' } }], job } },
      'schedules.x.on[0].parameters.key: must be a path into the event such as $.detail.object.key or $.resources[0] (got "detail.object.key")',
    ],
    [
      'a batch window of 0 seconds',
      { x: { on: [{ event: S3_PATTERN, batchWindow: { seconds: 0 } }], job } },
      'schedules.x.on[0].batchWindow.seconds: must be between 1 and 86400 (got 0)',
    ],
    [
      'a batch window larger than one item holds',
      { x: { on: [{ event: S3_PATTERN, batchWindow: { seconds: 10, maxEvents: 5000 } }], job } },
      'schedules.x.on[0].batchWindow.maxEvents: must be between 1 and 1000 (got 5000)',
    ],
    [
      'a required parameter no trigger fills',
      { x: { parameters: { day: { required: true } }, on: [{ event: S3_PATTERN }], job } },
      'schedules.x.on[0].parameters: the required parameter "day" takes no value from the event; map it to a path (e.g. day: $.detail.day)',
    ],
  ];

  it.each(cases)('rejects %s', (_, schedules, message) => {
    expect(problemsOf(schedules)).toContain(message);
  });

  it('accepts a schedule with triggers and no expression, and one with both', () => {
    // Act
    const config = parseConfig(
      {
        jobDefinitions,
        schedules: {
          'on-upload': { parameters: { keys: {} }, on: [{ event: S3_PATTERN, parameters: { keys: '$.detail.object.key' }, batchWindow: { seconds: 10 } }], job },
          both: { expression: 'rate(1 hour)', on: [{ event: { source: ['my.app'] } }], job },
        },
      },
      ctx,
    );
    // Assess
    expect(config.schedules['on-upload']!.on![0]).toMatchObject({ idempotencyKey: '$.id', batchWindow: { seconds: 10, maxEvents: 1000 } });
    expect(normalizeSchedule('on-upload', config.schedules['on-upload']!, config, ctx).expression).toBeUndefined();
    const resources = buildResources(config, templateContext({ deployment: 'batchron-dev' }));
    const types = Object.values(resources).map((r) => `${r.Type} ${String(r.Properties.Name ?? '')}`);
    expect(types.filter((t) => t.startsWith('AWS::Scheduler::Schedule '))).toEqual(['AWS::Scheduler::Schedule both', 'AWS::Scheduler::Schedule _sweep']);
    expect(types.filter((t) => t.startsWith('AWS::Events::Rule'))).toEqual(['AWS::Events::Rule batchron-dev-on-upload-on0', 'AWS::Events::Rule batchron-dev-both-on0']);
  });

  it('delivers to trigger, through the bus InputTransformer, the S3 event with the definition and settings', () => {
    // Prepare
    const config = parseConfig(
      { jobDefinitions, schedules: { 'on-upload': { parameters: { keys: {} }, on: [{ event: S3_PATTERN, parameters: { keys: '$.detail.object.key' } }], job } } },
      ctx,
    );
    const def = normalizeSchedule('on-upload', config.schedules['on-upload']!, config, ctx);
    const template = triggerInputTemplate(def, 0, config.schedules['on-upload']!.on![0]!);
    const event = loadEvent('s3', 'object-created');
    // Act
    const delivered = transformInput({ inputPathsMap: {}, inputTemplate: template }, event as never, { name: 'r', arn: 'arn:aws:events:us-east-1:000000000000:rule/r' }, 0);
    const parsed = TriggerFunctionInputSchema.parse(delivered);
    // Assess
    const input = TriggerInputSchema.parse(parsed);
    expect(input).toMatchObject({ schedule: 'on-upload', trigger: 0, settings: { idempotencyKey: '$.id' }, event: { id: event.id } });
    expect(eventParameters(input.event, input.settings)).toEqual({ keys: 'incoming/orders-2026-11-29.csv' });
  });

  it('reads values at paths of an event, numbers and lists as JSON, absent ones as undefined', () => {
    const event = loadEvent('s3', 'object-created');
    expect(eventValue(event, '$.detail.object.size')).toBe('5');
    expect(eventValue(event, '$.resources[0]')).toBe('arn:aws:s3:::batchron-example-inbox');
    expect(eventValue(event, '$.resources')).toBe('["arn:aws:s3:::batchron-example-inbox"]');
    expect(eventValue(event, '$.detail.missing.key')).toBeUndefined();
  });
});
