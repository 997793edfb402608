/**
 * Notification routing: which Slack webhook a message goes to. A schedule may name, under
 * `notify.slack`, a webhook for all its messages (`webhook`) and one per kind of message
 * (`failure`, `recovery`, `stuck`, `deadline`, `missed`); each is an SSM SecureString
 * parameter holding the URL (`{ ssm: /name }`, read once per cold start with decryption)
 * or an environment variable of the functions holding it (`{ env: NAME }`, for the local
 * stack). A kind's route wins over the schedule's `webhook`, which wins over the
 * deployment's (`custom.batchron.slackWebhookParameter` / SLACK_WEBHOOK_URL).
 *
 * The notifier (`routedNotifier`) keeps one webhook per route. A URL is a secret: no log
 * line carries one, only the parameter's or variable's name.
 */
import * as z from '../zod.ts';
import type { EngineLogger } from '../logger.ts';
import type { NotificationMessage } from './messages.ts';
import { slackNotifier, type Notifier, type SlackSource } from './slack.ts';

/** SSM parameter name (`/a/b` or `a`). */
const SSM_NAME = /^\/?[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;
/** An environment variable name. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Where one route's webhook URL is read from. */
export const SlackRouteSchema = z.union(
  [
    z.strictObject({ ssm: z.string().check(z.regex(SSM_NAME, 'must be an SSM parameter name, e.g. "/batchron/prod/team-slack"')) }),
    z.strictObject({ env: z.string().check(z.regex(ENV_NAME, 'must be an environment variable name, e.g. "TEAM_SLACK_WEBHOOK"')) }),
  ],
  { error: 'must be { ssm: <SSM parameter name> } or { env: <environment variable name> }' },
);
export type SlackRoute = z.infer<typeof SlackRouteSchema>;

/** The kinds of message a route can be given for. */
export const NOTIFICATION_KINDS = ['failure', 'recovery', 'stuck', 'deadline', 'missed'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** `notify.slack` of a schedule (the same shape as written and as kept in the definition). */
export const SlackRoutesSchema = z.strictObject({
  /** Every message of this schedule without a route of its own kind. */
  webhook: z.optional(SlackRouteSchema),
  failure: z.optional(SlackRouteSchema),
  recovery: z.optional(SlackRouteSchema),
  stuck: z.optional(SlackRouteSchema),
  deadline: z.optional(SlackRouteSchema),
  missed: z.optional(SlackRouteSchema),
});
export type SlackRoutes = z.infer<typeof SlackRoutesSchema>;

/** The route of a message of `kind` for a schedule with `routes`; undefined = the deployment's webhook. */
export function routeFor(routes: SlackRoutes | undefined, kind: NotificationKind): SlackRoute | undefined {
  return routes?.[kind] ?? routes?.webhook;
}

/** Every SSM parameter the routes name (for the functions' IAM grant), without a leading `/`, sorted. */
export function routeParameters(routes: (SlackRoutes | undefined)[]): string[] {
  const names = new Set<string>();
  for (const r of routes) {
    for (const route of Object.values(r ?? {})) if (route && 'ssm' in route) names.add(route.ssm.replace(/^\//, ''));
  }
  return [...names].sort();
}

/** What the routed notifier needs besides the deployment's own source. */
export interface RoutedSource extends SlackSource {
  /** Reads an environment variable of the function (for `{ env }` routes); read when a message first takes that route. */
  envOf?: (name: string) => string | undefined;
}

/**
 * A notifier that sends each message to its route's webhook (`message.route`), or to the
 * deployment's (`source`) when it has none. An `{ env }` route whose variable is unset or
 * empty falls back to the deployment's webhook with a warning naming the variable.
 */
export function routedNotifier(source: RoutedSource): Notifier {
  const fallback = slackNotifier(source);
  const byRoute = new Map<string, Notifier>();
  const notifierFor = (route: SlackRoute): Notifier | undefined => {
    const key = 'ssm' in route ? `ssm:${route.ssm}` : `env:${route.env}`;
    let found = byRoute.get(key);
    if (found) return found;
    if ('ssm' in route) {
      found = slackNotifier({ ...source, url: undefined, parameterName: route.ssm });
    } else {
      const url = source.envOf?.(route.env)?.trim();
      if (!url) return undefined;
      found = slackNotifier({ ...source, url, parameterName: undefined });
    }
    byRoute.set(key, found);
    return found;
  };
  return {
    async send(message: NotificationMessage) {
      if (!message.route) return fallback.send(message);
      const routed = notifierFor(message.route);
      if (!routed) {
        const log: EngineLogger = source.log;
        log.warn('slack route has no webhook; using the deployment webhook', {
          notification: message.kind,
          schedule: message.schedule,
          variable: 'env' in message.route ? message.route.env : undefined,
        });
        return fallback.send(message);
      }
      return routed.send(message);
    },
  };
}
