/**
 * Who is calling, and may they change things? Two kinds of caller reach the API:
 *
 *   CLI / SDK ──SigV4──▶ IAM authorizer ──▶ authorizer.iam          ─▶ operator (IAM policy decides)
 *   browser ──JWT────▶ JWT authorizer ──▶ authorizer.jwt.claims ─▶ operator if in the operator group, else viewer
 *
 * Locally the gateway (local/http-api.ts) fills in the same two shapes from its tokens and
 * the dashboard's session cookie, so this code never knows where it runs.
 */
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ForbiddenError } from '../errors.ts';

export type Role = 'operator' | 'viewer';

/** The authorizer context of a v2 event, as far as roles need it. */
interface AuthorizerContext {
  iam?: unknown;
  jwt?: { claims?: Record<string, unknown> };
  lambda?: unknown;
}

/**
 * A groups claim as it reaches the function: an array (Lambda authorizers, tests), a JSON
 * array string, API Gateway's rendering of a list claim (`[operators viewers]`), or a
 * comma- or space-separated string.
 */
export function parseGroups(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value !== 'string') return [];
  const text = value.trim();
  if (text.startsWith('[') && text.endsWith(']')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) return parsed.map(String);
    } catch {
      // API Gateway's `[a b]` form: not JSON.
    }
    return text.slice(1, -1).split(/[\s,]+/).filter(Boolean);
  }
  return text.split(/[\s,]+/).filter(Boolean);
}

/** The caller's role; undefined when the event carries no authorizer at all. */
export function roleOf(
  event: Pick<APIGatewayProxyEventV2, 'requestContext'>,
  config: { groupsClaim: string; operatorGroup: string },
): Role | undefined {
  const authorizer = (event.requestContext as { authorizer?: AuthorizerContext } | undefined)?.authorizer;
  if (!authorizer) return undefined;
  // IAM callers were allowed by their own policy (execute-api:Invoke on the route).
  if (authorizer.iam) return 'operator';
  if (authorizer.jwt) {
    const groups = parseGroups(authorizer.jwt.claims?.[config.groupsClaim]);
    return groups.includes(config.operatorGroup) ? 'operator' : 'viewer';
  }
  return authorizer.lambda ? 'viewer' : undefined;
}

/** Reading is for everyone signed in; every other method changes something and needs an operator. */
export function requiresOperator(method: string): boolean {
  return !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase());
}

/** Refuses (403) a viewer's request that would change something. */
export function requireRole(config: () => { groupsClaim: string; operatorGroup: string }): MiddlewareObj<APIGatewayProxyEventV2> {
  return {
    name: 'requireRole',
    before: (request) => {
      const event = request.event;
      if (!requiresOperator(event.requestContext?.http?.method ?? 'GET')) return;
      if (roleOf(event, config()) !== 'operator') {
        throw new ForbiddenError(
          `Only operators may ${event.requestContext.http.method} ${event.rawPath}; you are signed in as a viewer (ask for the "${config().operatorGroup}" group).`,
        );
      }
    },
  };
}
