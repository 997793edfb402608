/**
 * The local default event bus: rules with EventBridge event patterns, Lambda targets
 * invoked asynchronously (so Lambda's own retry rules apply), and the delivery faults a
 * real bus can show, injected from `faults.events`:
 *
 *   publish ─▶ match rules ─▶ per target: drop? ─▶ duplicate? ─▶ delay (Clock)? ─▶ reorder? ─▶ Lambda invokeAsync
 *
 * Reordering holds a delivery back until the next delivery for the same rule target has
 * gone out (or a hold time passes, or `idle()` flushes it), so that target sees the two
 * out of order. Every injected fault is counted in `faults.counters` (`event:dropped`,
 * `event:duplicated`, `event:delayed`, `event:reordered`) and reported to `onEvent`.
 *
 * It also answers the EventBridge API for events, rules and buses (PutEvents, PutRule,
 * DescribeRule, EnableRule, DisableRule, DeleteRule, ListRules, PutTargets, RemoveTargets,
 * ListTargetsByRule, ListRuleNamesByTarget, TestEventPattern, Create/Delete/Describe/
 * ListEventBuses, Tag/Untag/ListTagsForResource) so scripts, the AWS CLI and the SDKs can
 * publish events and manage rules on the default bus and on custom buses. Scheduled rules
 * (ScheduleExpression) are refused with a message pointing at EventBridge Scheduler.
 */
import { randomUUID } from 'node:crypto';
import type { Clock, Timer } from './clock.ts';
import {
  AwsError,
  DEFAULT_REGION,
  LOCAL_ACCOUNT,
  type AwsRequest,
  type AwsResponse,
  type EventBridgeEvent,
  type EventSink,
  type LambdaInvoker,
  type LocalService,
} from './contracts.ts';
import { compilePattern, EventPatternError, parseEventJson, type EventMatcher } from './event-pattern.ts';
import type { Faults } from './faults.ts';
import { jsonBody } from './endpoint.ts';

/** A rule target; only Lambda function ARNs can be delivered to locally. */
export interface RuleTarget {
  id: string;
  arn: string;
  /** Constant input sent instead of the event: JSON text (as the API takes it) or a value. */
  input?: unknown;
  /** JSONPath (`$`, `$.detail`, `$.detail.status`) selecting part of the event as input. */
  inputPath?: string;
  /**
   * EventBridge's InputTransformer: `<name>` placeholders in `inputTemplate` take the value at
   * `inputPathsMap[name]` in the event, or a reserved variable (`aws.events.event.json`,
   * `aws.events.rule-name`, `aws.events.rule-arn`, `aws.events.event.ingestion-time`).
   */
  inputTransformer?: { inputPathsMap?: Record<string, string>; inputTemplate: string };
}

export interface RuleDefinition {
  name: string;
  /** The bus the rule is on; `default` when absent. */
  eventBusName?: string;
  /** The event pattern, as an object or JSON text. */
  pattern: unknown;
  targets: RuleTarget[];
  /** Default true. */
  enabled?: boolean;
  description?: string;
}

/** What the bus did, for live output and tests. */
export type BusActivity =
  | { kind: 'published'; event: EventBridgeEvent; rules: string[] }
  | {
      kind: 'delivered';
      event: EventBridgeEvent;
      rule: string;
      targetId: string;
      arn: string;
      payload: unknown;
      /** Set when this delivery was shaped by an injected fault. */
      fault?: 'duplicated' | 'delayed' | 'reordered';
    }
  | { kind: 'dropped'; event: EventBridgeEvent; rule: string; targetId: string; arn: string }
  | { kind: 'failed'; event: EventBridgeEvent; rule: string; targetId: string; arn: string; error: string };

export interface LocalEventBusOptions {
  clock: Clock;
  faults: Faults;
  lambda: LambdaInvoker;
  region?: string;
  account?: string;
  /** Longest a reordered delivery is held waiting for a successor, in clock ms (default 5,000). */
  reorderHoldMs?: number;
}

interface Rule {
  name: string;
  bus: string;
  arn: string;
  tags: Tag[];
  pattern: unknown;
  matcher: EventMatcher;
  targets: RuleTarget[];
  enabled: boolean;
  description?: string;
}

interface Delivery {
  event: EventBridgeEvent;
  rule: Rule;
  target: RuleTarget;
  fault?: 'duplicated' | 'delayed' | 'reordered';
}

const DEFAULT_DELAY: [number, number] = [100, 1_000];
const DEFAULT_BUS = 'default';
/** EventBridge quotas ("Amazon EventBridge quotas"): targets per rule. */
const MAX_TARGETS_PER_RULE = 5;
const BUS_NAME = /^[/.\-_A-Za-z0-9]{1,256}$/;
const RULE_NAME = /^[.\-_A-Za-z0-9]{1,64}$/;
const ARN = /^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:.+$/;

interface Tag {
  Key: string;
  Value: string;
}

interface Bus {
  name: string;
  arn: string;
  description?: string;
  tags: Tag[];
  creationTime: number;
}

const ruleKey = (bus: string, name: string) => `${bus}\u0000${name}`;

export class LocalEventBus implements EventSink, LocalService {
  readonly signingName = 'events';
  private readonly rulesByName = new Map<string, Rule>();
  private readonly buses = new Map<string, Bus>();
  private readonly listeners = new Set<(a: BusActivity) => void>();
  private readonly delayed = new Set<Timer>();
  private readonly held = new Map<string, { delivery: Delivery; timer: Timer }>();
  private inflight = 0;
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  private readonly region: string;
  private readonly account: string;

  constructor(private readonly opts: LocalEventBusOptions) {
    this.region = opts.region ?? DEFAULT_REGION;
    this.account = opts.account ?? LOCAL_ACCOUNT;
    this.buses.set(DEFAULT_BUS, { name: DEFAULT_BUS, arn: this.busArn(DEFAULT_BUS), tags: [], creationTime: opts.clock.now() });
  }

  private busArn(name: string): string {
    return `arn:aws:events:${this.region}:${this.account}:event-bus/${name}`;
  }

  /**
   * Creates or replaces a rule.
   * @throws EventPatternError when the pattern is invalid
   */
  putRule(def: RuleDefinition): string {
    const bus = def.eventBusName ?? DEFAULT_BUS;
    const arn = `arn:aws:events:${this.region}:${this.account}:rule/${bus === DEFAULT_BUS ? '' : `${bus}/`}${def.name}`;
    const existing = this.rulesByName.get(ruleKey(bus, def.name));
    this.rulesByName.set(ruleKey(bus, def.name), {
      name: def.name,
      bus,
      arn,
      tags: existing?.tags ?? [],
      pattern: def.pattern,
      matcher: compilePattern(def.pattern),
      targets: def.targets.map((t) => ({ ...t })),
      enabled: def.enabled ?? true,
      ...(def.description === undefined ? {} : { description: def.description }),
    });
    return arn;
  }

  /** Deletes a rule; false when there was none. */
  removeRule(name: string, eventBusName = DEFAULT_BUS): boolean {
    return this.rulesByName.delete(ruleKey(eventBusName, name));
  }

  /** The rules, as declared. */
  rules(): RuleDefinition[] {
    return [...this.rulesByName.values()].map((r) => ({
      name: r.name,
      ...(r.bus === DEFAULT_BUS ? {} : { eventBusName: r.bus }),
      pattern: r.pattern,
      targets: r.targets.map((t) => ({ ...t })),
      enabled: r.enabled,
      ...(r.description === undefined ? {} : { description: r.description }),
    }));
  }

  /** Observes bus activity; returns an unsubscribe function. */
  onEvent(cb: (activity: BusActivity) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /**
   * Stops delivering: events published from now on match no rule (the stack is stopping,
   * and what the stop itself causes must not run the functions; see LocalStack.stop).
   */
  close(): void {
    this.closed = true;
  }

  /**
   * Matches the event against every enabled rule and delivers it to their targets.
   * @param detailText the detail's JSON as sent (PutEvents), so matching sees its numbers digit for digit
   */
  publish(event: EventBridgeEvent, detailText?: string, eventBusName = DEFAULT_BUS): void {
    const view = detailText === undefined ? event : { ...event, detail: parseEventJson(detailText) };
    const matched = this.closed ? [] : [...this.rulesByName.values()].filter((r) => r.bus === eventBusName && r.enabled && r.matcher(view));
    this.emit({ kind: 'published', event, rules: matched.map((r) => r.name) });
    for (const rule of matched) {
      for (const target of rule.targets) this.route({ event, rule, target });
    }
  }

  /**
   * Resolves when no delivery is delayed, held or being handed to Lambda. Held (reordered)
   * deliveries are released at once: nothing else is coming to overtake them.
   */
  idle(): Promise<void> {
    for (const key of [...this.held.keys()]) this.releaseHeld(key);
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops every delayed and held delivery. */
  stop(): void {
    for (const t of this.delayed) t.cancel();
    this.delayed.clear();
    for (const { timer } of this.held.values()) timer.cancel();
    this.held.clear();
    this.checkIdle();
  }

  private route(delivery: Delivery): void {
    const { faults, clock } = this.opts;
    const f = faults.events;
    if (faults.chance(f.dropRate)) {
      faults.count('event:dropped');
      this.emit({ kind: 'dropped', ...this.where(delivery) });
      return;
    }
    const copies: Delivery[] = [delivery];
    if (faults.chance(f.duplicateRate)) {
      faults.count('event:duplicated');
      copies.push({ ...delivery, fault: 'duplicated' });
    }
    for (const copy of copies) {
      if (faults.chance(f.delayRate)) {
        faults.count('event:delayed');
        const [min, max] = f.delayMs ?? DEFAULT_DELAY;
        const ms = min + Math.floor(faults.random() * Math.max(0, max - min + 1));
        const timer = clock.after(ms, () => {
          this.delayed.delete(timer);
          this.sendInOrder({ ...copy, fault: copy.fault ?? 'delayed' });
          this.checkIdle();
        });
        this.delayed.add(timer);
      } else {
        this.sendInOrder(copy);
      }
    }
  }

  /** Applies the reorder fault: hold this one, or let it overtake the one already held. */
  private sendInOrder(delivery: Delivery): void {
    const key = `${delivery.rule.name}\u0000${delivery.target.id}`;
    if (this.held.has(key)) {
      this.send(delivery);
      this.releaseHeld(key);
      return;
    }
    const { faults, clock } = this.opts;
    if (faults.chance(faults.events.reorderRate)) {
      faults.count('event:reordered');
      const timer = clock.after(this.opts.reorderHoldMs ?? 5_000, () => this.releaseHeld(key));
      this.held.set(key, { delivery: { ...delivery, fault: 'reordered' }, timer });
      return;
    }
    this.send(delivery);
  }

  private releaseHeld(key: string): void {
    const h = this.held.get(key);
    if (!h) return;
    this.held.delete(key);
    h.timer.cancel();
    this.send(h.delivery);
    this.checkIdle();
  }

  private send(delivery: Delivery): void {
    const { target } = delivery;
    let payload: unknown;
    try {
      payload = this.inputFor(delivery);
    } catch (error) {
      this.fail(delivery, error);
      return;
    }
    if (!/^arn:aws[a-z-]*:lambda:/.test(target.arn)) {
      this.fail(delivery, new Error(`target ${target.arn} is not a Lambda function; the local bus delivers only to Lambda`));
      return;
    }
    // Every invokeAsync must be numbered: `idle()` waits for the hand-over, which is where faults and throttles show.
    this.inflight += 1;
    let accepted: Promise<void>;
    try {
      accepted = this.opts.lambda.invokeAsync(target.arn, payload);
    } catch (error) {
      accepted = Promise.reject(error);
    }
    accepted
      .then(
        () => this.emit({ kind: 'delivered', ...this.where(delivery), payload, ...(delivery.fault ? { fault: delivery.fault } : {}) }),
        (error: unknown) => this.fail(delivery, error),
      )
      .finally(() => {
        this.inflight -= 1;
        this.checkIdle();
      });
  }

  private fail(delivery: Delivery, error: unknown): void {
    this.opts.faults.count('event:failed');
    this.emit({ kind: 'failed', ...this.where(delivery), error: error instanceof Error ? error.message : String(error) });
  }

  private inputFor({ event, target, rule }: Delivery): unknown {
    if (target.input !== undefined) {
      return typeof target.input === 'string' ? JSON.parse(target.input) : target.input;
    }
    if (target.inputPath) return selectPath(event, target.inputPath);
    if (target.inputTransformer) return transformInput(target.inputTransformer, event, rule, this.opts.clock.now());
    return event;
  }

  private where(d: Delivery) {
    return { event: d.event, rule: d.rule.name, targetId: d.target.id, arn: d.target.arn };
  }

  private emit(activity: BusActivity): void {
    for (const cb of this.listeners) {
      try {
        cb(activity);
      } catch {
        // A listener's bug must not change what the bus delivers.
      }
    }
  }

  /** True when nothing is queued, held or running right now. */
  isIdle(): boolean {
    return this.delayed.size === 0 && this.held.size === 0 && this.inflight === 0;
  }

  private checkIdle(): void {
    if (!this.isIdle() || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  // ---- EventBridge API (awsJson1_1, X-Amz-Target: AWSEvents.<Operation>) ----

  async handle(req: AwsRequest): Promise<AwsResponse> {
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('AWSEvents.') ? target.slice('AWSEvents.'.length) : '';
    this.opts.faults.check('events', operation);
    const body = jsonBody<Record<string, unknown>>(req);
    const result = this.operation(operation, body);
    return { status: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: result };
  }

  private operation(op: string, body: Record<string, unknown>): unknown {
    switch (op) {
      case 'PutEvents':
        return this.putEvents(body);
      case 'PutRule': {
        const name = requireString(body, 'Name');
        if (!RULE_NAME.test(name)) throw constraint(name, 'name', 'Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+');
        const bus = this.busNamed(body.EventBusName);
        if (typeof body.ScheduleExpression === 'string' && body.ScheduleExpression !== '') {
          if (bus !== DEFAULT_BUS) throw new AwsError('ValidationException', 'ScheduleExpression is supported only on the default event bus.', 400);
          throw new AwsError(
            'ValidationException',
            'The local event bus does not run scheduled rules (ScheduleExpression): create the schedule with EventBridge Scheduler (CreateSchedule), which the local stack runs, or test the rule on AWS.',
            400,
          );
        }
        if (typeof body.EventPattern !== 'string' || body.EventPattern === '') {
          throw new AwsError('ValidationException', 'Parameter(s) EventPattern or ScheduleExpression must be specified.', 400);
        }
        const pattern = body.EventPattern;
        const existing = this.rulesByName.get(ruleKey(bus, name));
        const arn = this.withPattern(() =>
          this.putRule({
            name,
            eventBusName: bus,
            pattern,
            targets: existing?.targets ?? [],
            enabled: body.State !== 'DISABLED',
            ...(typeof body.Description === 'string' ? { description: body.Description } : {}),
          }),
        );
        const rule = this.requireRule(name, bus);
        if (Array.isArray(body.Tags)) rule.tags = mergeTags(rule.tags, body.Tags);
        return { RuleArn: arn };
      }
      case 'DescribeRule': {
        const rule = this.requireRule(requireString(body, 'Name'), this.busNamed(body.EventBusName));
        return {
          Name: rule.name,
          Arn: rule.arn,
          EventPattern: typeof rule.pattern === 'string' ? rule.pattern : JSON.stringify(rule.pattern),
          State: rule.enabled ? 'ENABLED' : 'DISABLED',
          EventBusName: rule.bus,
          CreatedBy: this.account,
          ...(rule.description === undefined ? {} : { Description: rule.description }),
        };
      }
      case 'EnableRule':
      case 'DisableRule': {
        const rule = this.requireRule(requireString(body, 'Name'), this.busNamed(body.EventBusName));
        rule.enabled = op === 'EnableRule';
        return {};
      }
      case 'PutTargets': {
        const rule = this.requireRule(requireString(body, 'Rule'), this.busNamed(body.EventBusName));
        const targets = Array.isArray(body.Targets) ? (body.Targets as Record<string, unknown>[]) : [];
        if (targets.length === 0) throw constraint(undefined, 'targets', 'Member must not be null');
        for (const [i, t] of targets.entries()) {
          if (typeof t.Id !== 'string' || !/^[.\-_A-Za-z0-9]{1,64}$/.test(t.Id)) {
            throw constraint(t.Id, `targets.${i + 1}.member.id`, 'Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+');
          }
          if (typeof t.Arn !== 'string' || !ARN.test(t.Arn)) {
            throw new AwsError('ValidationException', `Parameter ${String(t.Arn)} is not valid. Reason: Provided Arn is not in correct format.`, 400);
          }
        }
        const next = [...rule.targets];
        for (const t of targets) {
          const target: RuleTarget = { id: t.Id as string, arn: t.Arn as string };
          if (typeof t.Input === 'string') target.input = t.Input;
          if (typeof t.InputPath === 'string') target.inputPath = t.InputPath;
          const it = t.InputTransformer as { InputPathsMap?: Record<string, string>; InputTemplate?: unknown } | undefined;
          if (it && typeof it.InputTemplate === 'string') {
            target.inputTransformer = { inputTemplate: it.InputTemplate, ...(it.InputPathsMap ? { inputPathsMap: it.InputPathsMap } : {}) };
          }
          const at = next.findIndex((x) => x.id === target.id);
          if (at >= 0) next[at] = target;
          else next.push(target);
        }
        if (next.length > MAX_TARGETS_PER_RULE) {
          throw new AwsError('LimitExceededException', `The requested resource exceeds the maximum number allowed: a rule has at most ${MAX_TARGETS_PER_RULE} targets.`, 400);
        }
        rule.targets = next;
        return { FailedEntryCount: 0, FailedEntries: [] };
      }
      case 'RemoveTargets': {
        const rule = this.requireRule(requireString(body, 'Rule'), this.busNamed(body.EventBusName));
        const ids = Array.isArray(body.Ids) ? body.Ids.map(String) : [];
        rule.targets = rule.targets.filter((t) => !ids.includes(t.id));
        return { FailedEntryCount: 0, FailedEntries: [] };
      }
      case 'DeleteRule': {
        const bus = this.busNamed(body.EventBusName);
        const rule = this.rulesByName.get(ruleKey(bus, requireString(body, 'Name')));
        if (rule && rule.targets.length > 0) {
          throw new AwsError('ValidationException', 'Rule can\'t be deleted since it has targets.', 400);
        }
        if (rule) this.removeRule(rule.name, bus);
        return {};
      }
      case 'ListRules': {
        const bus = this.busNamed(body.EventBusName);
        return {
          Rules: [...this.rulesByName.values()]
            .filter((r) => r.bus === bus && (typeof body.NamePrefix !== 'string' || r.name.startsWith(body.NamePrefix)))
            .map((r) => ({
              Name: r.name,
              Arn: r.arn,
              EventPattern: typeof r.pattern === 'string' ? r.pattern : JSON.stringify(r.pattern),
              State: r.enabled ? 'ENABLED' : 'DISABLED',
              EventBusName: r.bus,
              ...(r.description === undefined ? {} : { Description: r.description }),
            })),
        };
      }
      case 'ListTargetsByRule': {
        const rule = this.requireRule(requireString(body, 'Rule'), this.busNamed(body.EventBusName));
        return {
          Targets: rule.targets.map((t) => ({
            Id: t.id,
            Arn: t.arn,
            ...(t.input === undefined ? {} : { Input: typeof t.input === 'string' ? t.input : JSON.stringify(t.input) }),
            ...(t.inputPath === undefined ? {} : { InputPath: t.inputPath }),
            ...(t.inputTransformer === undefined
              ? {}
              : { InputTransformer: { InputPathsMap: t.inputTransformer.inputPathsMap ?? {}, InputTemplate: t.inputTransformer.inputTemplate } }),
          })),
        };
      }
      case 'ListRuleNamesByTarget': {
        const targetArn = requireString(body, 'TargetArn');
        const bus = this.busNamed(body.EventBusName);
        return {
          RuleNames: [...this.rulesByName.values()].filter((r) => r.bus === bus && r.targets.some((t) => t.arn === targetArn)).map((r) => r.name),
        };
      }
      case 'CreateEventBus': {
        const name = requireString(body, 'Name');
        if (!BUS_NAME.test(name) || name === DEFAULT_BUS) {
          throw new AwsError('ValidationException', `Event bus name ${name} is not valid: use 1-256 letters, digits, and . - _ /, and not "default".`, 400);
        }
        if (this.buses.has(name)) throw new AwsError('ResourceAlreadyExistsException', `Event bus ${name} already exists.`, 400);
        if (body.EventSourceName !== undefined) {
          throw new AwsError('ValidationException', 'Partner event buses (EventSourceName) are not emulated by the local event bus.', 400);
        }
        const bus: Bus = {
          name,
          arn: this.busArn(name),
          tags: Array.isArray(body.Tags) ? mergeTags([], body.Tags) : [],
          creationTime: this.opts.clock.now(),
          ...(typeof body.Description === 'string' ? { description: body.Description } : {}),
        };
        this.buses.set(name, bus);
        return { EventBusArn: bus.arn, ...(bus.description === undefined ? {} : { Description: bus.description }) };
      }
      case 'DeleteEventBus': {
        const name = requireString(body, 'Name');
        if (name === DEFAULT_BUS) throw new AwsError('ValidationException', 'Cannot delete event bus default.', 400);
        // Deleting a bus that is not there succeeds, as on AWS; its rules go with it.
        this.buses.delete(name);
        for (const [key, rule] of this.rulesByName) if (rule.bus === name) this.rulesByName.delete(key);
        return {};
      }
      case 'DescribeEventBus': {
        const bus = this.buses.get(this.busNamed(body.Name))!;
        return { Name: bus.name, Arn: bus.arn, CreationTime: bus.creationTime / 1000, LastModifiedTime: bus.creationTime / 1000, ...(bus.description === undefined ? {} : { Description: bus.description }) };
      }
      case 'ListEventBuses':
        return {
          EventBuses: [...this.buses.values()]
            .filter((b) => typeof body.NamePrefix !== 'string' || b.name.startsWith(body.NamePrefix))
            .map((b) => ({ Name: b.name, Arn: b.arn, CreationTime: b.creationTime / 1000, ...(b.description === undefined ? {} : { Description: b.description }) })),
        };
      case 'TagResource': {
        const holder = this.taggable(requireString(body, 'ResourceARN'));
        if (!Array.isArray(body.Tags)) throw constraint(undefined, 'tags', 'Member must not be null');
        holder.tags = mergeTags(holder.tags, body.Tags);
        return {};
      }
      case 'UntagResource': {
        const holder = this.taggable(requireString(body, 'ResourceARN'));
        const keys = Array.isArray(body.TagKeys) ? body.TagKeys.map(String) : [];
        holder.tags = holder.tags.filter((t) => !keys.includes(t.Key));
        return {};
      }
      case 'ListTagsForResource':
        return { Tags: this.taggable(requireString(body, 'ResourceARN')).tags.map((t) => ({ ...t })) };
      case 'TestEventPattern': {
        const matcher = this.withPattern(() => compilePattern(requireString(body, 'EventPattern')));
        let event: unknown;
        try {
          event = parseEventJson(requireString(body, 'Event'));
        } catch (error) {
          if (error instanceof AwsError) throw error;
          throw new AwsError('InvalidEventPatternException', 'Event is not valid JSON.', 400);
        }
        return { Result: matcher(event) };
      }
      default:
        throw new AwsError('UnknownOperationException', `The local event bus does not support '${op || 'unknown'}'.`, 400);
    }
  }

  private putEvents(body: Record<string, unknown>): unknown {
    const entries = Array.isArray(body.Entries) ? (body.Entries as Record<string, unknown>[]) : [];
    if (entries.length === 0 || entries.length > 10) {
      throw new AwsError('ValidationException', '1 validation error detected: Value at \'entries\' failed to satisfy constraint: Member must have length between 1 and 10', 400);
    }
    const results: Record<string, unknown>[] = [];
    let failed = 0;
    for (const e of entries) {
      let bus: string;
      try {
        bus = this.busNamed(e.EventBusName);
      } catch (error) {
        failed += 1;
        results.push({ ErrorCode: 'ResourceNotFoundException', ErrorMessage: (error as Error).message });
        continue;
      }
      const refusal = entryRefusal(e);
      if (refusal) {
        failed += 1;
        results.push(refusal);
        continue;
      }
      const detailText = e.Detail as string;
      const detail = JSON.parse(detailText) as Record<string, unknown>;
      const id = randomUUID();
      const time = typeof e.Time === 'number' ? new Date(e.Time * 1000) : typeof e.Time === 'string' ? new Date(e.Time) : new Date(this.opts.clock.now());
      this.publish({
        version: '0',
        id,
        'detail-type': e.DetailType as string,
        source: e.Source as string,
        account: this.account,
        time: eventTime(time),
        region: this.region,
        resources: Array.isArray(e.Resources) ? e.Resources.map(String) : [],
        detail,
      }, detailText, bus);
      results.push({ EventId: id });
    }
    return { FailedEntryCount: failed, Entries: results };
  }

  private requireRule(name: string, bus = DEFAULT_BUS): Rule {
    const rule = this.rulesByName.get(ruleKey(bus, name));
    if (!rule) throw new AwsError('ResourceNotFoundException', `Rule ${name} does not exist on EventBus ${bus}.`, 400);
    return rule;
  }

  /** The bus an `EventBusName` member names (a name or an ARN; absent = default); it must exist. */
  private busNamed(value: unknown): string {
    if (value === undefined || value === null || value === '') return DEFAULT_BUS;
    const text = String(value);
    const name = text.startsWith('arn:') ? text.slice(text.indexOf(':event-bus/') + ':event-bus/'.length) : text;
    if (!this.buses.has(name)) throw new AwsError('ResourceNotFoundException', `Event bus ${name} does not exist.`, 400);
    return name;
  }

  private taggable(arn: string): { tags: Tag[] } {
    const bus = [...this.buses.values()].find((b) => b.arn === arn);
    if (bus) return bus;
    const rule = [...this.rulesByName.values()].find((r) => r.arn === arn);
    if (rule) return rule;
    throw new AwsError('ResourceNotFoundException', `Resource ${arn} does not exist.`, 400);
  }

  private withPattern<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof EventPatternError) throw new AwsError('InvalidEventPatternException', `Event pattern is not valid. Reason: ${error.message}`, 400);
      throw error;
    }
  }
}

/**
 * Why PutEvents refuses one entry, in AWS's words (PutEventsResultEntry: `InvalidArgument`
 * for a missing member, `MalformedDetail` for a Detail that is not a JSON object); undefined
 * when the entry is accepted.
 */
export function entryRefusal(e: Record<string, unknown>): { ErrorCode: string; ErrorMessage: string } | undefined {
  for (const member of ['Source', 'DetailType', 'Detail'] as const) {
    if (typeof e[member] !== 'string' || e[member] === '') {
      return { ErrorCode: 'InvalidArgument', ErrorMessage: `Parameter ${member} is not valid. Reason: ${member} is a required argument.` };
    }
  }
  let detail: unknown;
  try {
    detail = JSON.parse(e.Detail as string);
  } catch {
    detail = undefined;
  }
  if (!isPlainObject(detail)) return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  const source = e.Source as string;
  if (source.startsWith('aws.')) {
    // As on AWS: `aws.*` sources are the services' own. The stack's Batch publishes through
    // publish() directly, never through this public operation.
    return {
      ErrorCode: 'NotAuthorizedForSourceException',
      ErrorMessage: `Not authorized for the source: ${source.slice(0, 256)}. Sources starting with "aws." are reserved for AWS services.`,
    };
  }
  return undefined;
}

/** Tags after a TagResource: new keys added, existing keys overwritten (at most 50, as EventBridge allows). */
function mergeTags(current: Tag[], raw: unknown[]): Tag[] {
  const next = new Map(current.map((t) => [t.Key, t.Value]));
  for (const t of raw as Record<string, unknown>[]) {
    if (typeof t?.Key !== 'string' || t.Key.length === 0 || typeof t.Value !== 'string') {
      throw new AwsError('ValidationException', 'Each tag takes a Key (1-128 characters) and a Value (0-256 characters).', 400);
    }
    next.set(t.Key, t.Value);
  }
  if (next.size > 50) throw new AwsError('LimitExceededException', 'A resource can have at most 50 tags.', 400);
  return [...next].map(([Key, Value]) => ({ Key, Value }));
}

function constraint(value: unknown, at: string, rule: string): AwsError {
  const shown = value === undefined || value === null ? 'null' : `'${String(value)}'`;
  return new AwsError('ValidationException', `1 validation error detected: Value ${shown} at '${at}' failed to satisfy constraint: ${rule}`, 400);
}

/** EventBridge's `time`: ISO 8601 to the second, as AWS writes it. */
export function eventTime(date: Date | number): string {
  return new Date(date).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Applies an InputTransformer as EventBridge does: a placeholder inside a JSON string gets the
 * value's text (escaped for the string), one outside a string gets the value as JSON; the
 * result is parsed when it is JSON, else delivered as text.
 */
export function transformInput(
  transformer: { inputPathsMap?: Record<string, string>; inputTemplate: string },
  event: EventBridgeEvent,
  rule: { name: string; arn: string },
  now: number,
): unknown {
  const reserved: Record<string, unknown> = {
    'aws.events.event.json': event,
    'aws.events.rule-name': rule.name,
    'aws.events.rule-arn': rule.arn,
    'aws.events.event.ingestion-time': eventTime(now),
  };
  const template = transformer.inputTemplate;
  let out = '';
  let inString = false;
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c === '\\' && inString) {
      out += c + (template[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '"') inString = !inString;
    if (c === '<') {
      const end = template.indexOf('>', i);
      const name = end > i ? template.slice(i + 1, end) : '';
      const known = name in reserved || (transformer.inputPathsMap && name in transformer.inputPathsMap);
      if (known) {
        const value = name in reserved ? reserved[name] : selectPath(event, transformer.inputPathsMap![name]!);
        out += inString ? JSON.stringify(typeof value === 'string' ? value : JSON.stringify(value ?? null)).slice(1, -1) : JSON.stringify(value ?? null);
        i = end;
        continue;
      }
    }
    out += c;
  }
  try {
    return JSON.parse(out);
  } catch {
    return out;
  }
}

/** Resolves the simple JSONPath forms EventBridge's InputPath takes: `$` and `$.a.b[0].c`. */
export function selectPath(value: unknown, path: string): unknown {
  if (path === '$') return value;
  if (!path.startsWith('$.') && !path.startsWith('$[')) throw new Error(`unsupported InputPath '${path}'`);
  const parts = [...path.slice(1).matchAll(/\.([^.[\]]+)|\[(\d+)\]|\['([^']+)'\]/g)].map((m) => m[1] ?? m[3] ?? Number(m[2]));
  let current: unknown = value;
  for (const part of parts) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[part];
  }
  return current;
}

function requireString(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (typeof v !== 'string' || v.length === 0) {
    throw new AwsError('ValidationException', `1 validation error detected: Value null at '${field.charAt(0).toLowerCase()}${field.slice(1)}' failed to satisfy constraint: Member must not be null`, 400);
  }
  return v;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
