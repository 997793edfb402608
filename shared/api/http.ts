/**
 * The HTTP edge of the API as middy middleware, so every route validates and fails the
 * same way and a direct invoke is treated exactly like a call through API Gateway:
 *
 *   event ─▶ requireAuthorizer ─▶ router ─▶ validateRequest(route) ─▶ route handler ─▶ json result
 *                                      └──────── any error ────────▶ errorResponse ─▶ { error: { code, message, issues? } }
 *
 * Zod issues are rewritten in plain words that name the field (`body.parameters.day is
 * required`), in the same wording as config problems (shared/issues.ts), and anything that is not a deliberate client error becomes a 500 whose body
 * says nothing about the internals.
 */
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import * as z from '../zod.ts';
import { BatchronError, UnauthorizedError, ValidationError } from '../errors.ts';
import { issueLine, plainWords, zodIssues, type Issue } from '../issues.ts';

/** The event a route handler receives: the v2 event plus its validated parts. */
export type ApiEvent<P = unknown, Q = unknown, B = unknown, H = unknown> = APIGatewayProxyEventV2 & {
  input: { path: P; query: Q; body: B; headers: H };
};

/** A handler's answer: a status and a JSON body. */
export interface ApiResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** The one place a JSON response is shaped. */
export function jsonResponse(result: ApiResult): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode: result.status,
    headers: { 'content-type': 'application/json', ...result.headers },
    body: result.body === undefined ? '' : JSON.stringify(result.body),
  };
}

/** The schemas of one route's inputs; each part defaults to "anything". */
export interface RequestSchemas<P, Q, B, H> {
  path?: z.core.$ZodType<P>;
  query?: z.core.$ZodType<Q>;
  body?: z.core.$ZodType<B>;
  headers?: z.core.$ZodType<H>;
}

export type { Issue };

/** A ValidationError whose message lists the issues, so a client that shows only the message still says which field. */
export function validationError(issues: Issue[]): ValidationError {
  const message = issues.map(issueLine).join('; ');
  return new ValidationError(`Invalid request: ${message}`, issues);
}

function decodeBody(event: APIGatewayProxyEventV2): unknown {
  if (event.body === undefined || event.body === null || event.body === '') return undefined;
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof SyntaxError ? error.message : 'unreadable';
    throw new ValidationError(`Invalid request: body is not valid JSON (${reason})`, [
      { path: 'body', message: `is not valid JSON (${reason})` },
    ]);
  }
}

/**
 * Validates path parameters, query string, body (JSON) and headers of a route, then puts
 * the typed values on `event.input`. All four parts are checked before throwing, so one
 * 400 lists every problem.
 */
export function validateRequest<P, Q, B, H>(schemas: RequestSchemas<P, Q, B, H>): MiddlewareObj<ApiEvent<P, Q, B, H>> {
  return {
    name: 'validateRequest',
    before: (request) => {
      const event = request.event;
      const issues: Issue[] = [];
      const part = <T>(schema: z.core.$ZodType<T> | undefined, value: unknown, prefix: string): T => {
        if (!schema) return value as T; // this route declares no schema for the part: passed through untyped
        const r = z.safeParse(schema, value, { error: plainWords, reportInput: true });
        if (r.success) return r.data;
        issues.push(...zodIssues(r.error, { root: prefix, prefixed: true, schema, input: value }));
        return undefined as T;
      };
      const body = decodeBody(event);
      const input = {
        path: part(schemas.path, event.pathParameters ?? {}, 'path'),
        query: part(schemas.query, event.queryStringParameters ?? {}, 'query'),
        body: part(schemas.body, body, 'body'),
        headers: part(schemas.headers, event.headers ?? {}, 'header'),
      };
      if (issues.length > 0) throw validationError(issues);
      event.input = input;
    },
  };
}

/**
 * Defense in depth behind API Gateway's IAM authorizer: an event that reached the
 * function without an authorizer context (a misconfigured route, a direct invoke with a
 * hand-made event) is refused.
 */
export function requireAuthorizer(): MiddlewareObj<APIGatewayProxyEventV2> {
  return {
    name: 'requireAuthorizer',
    before: (request) => {
      const ctx = request.event.requestContext as { authorizer?: { iam?: unknown; jwt?: unknown; lambda?: unknown } } | undefined;
      const authorizer = ctx?.authorizer;
      if (!authorizer || (!authorizer.iam && !authorizer.jwt && !authorizer.lambda)) {
        throw new UnauthorizedError('This API requires a signed request (IAM) or, locally, the bearer token.');
      }
    },
  };
}

/** Stable error codes clients can switch on. */
function codeOf(error: BatchronError): string {
  return error.name.replace(/Error$/, '') || 'Error';
}

/**
 * Turns any error into the API's error body. BatchronErrors with a 4xx status say what
 * was wrong; everything else is a 500 with a fixed message (the details go to the log).
 */
export function errorResponse(error: unknown): APIGatewayProxyStructuredResultV2 {
  if (error instanceof BatchronError && error.statusCode >= 400 && error.statusCode < 500) {
    const issues = error instanceof ValidationError && error.issues.length > 0 ? { issues: error.issues } : {};
    return jsonResponse({
      status: error.statusCode,
      body: { error: { code: codeOf(error), message: error.message, ...issues } },
    });
  }
  return jsonResponse({
    status: 500,
    body: { error: { code: 'Internal', message: 'The request failed on our side; it has been logged. Try again later.' } },
  });
}

/** The error middleware: logs what is not the caller's fault, answers every error as JSON. */
export function jsonErrors(log: (message: string, extra: object) => void): MiddlewareObj<APIGatewayProxyEventV2> {
  return {
    name: 'jsonErrors',
    onError: (request) => {
      const response = errorResponse(request.error);
      if ((response.statusCode ?? 500) >= 500) {
        log('API request failed', { error: request.error, routeKey: request.event?.routeKey });
      }
      request.response = response;
    },
  };
}
