/**
 * The HTTP API (API Gateway HTTP API, payload 2.0): every route of shared/api/routes.ts
 * behind one middy chain. Thin on purpose: authorize, route, validate, call shared/api,
 * shape JSON. See docs/api.md for the routes.
 *
 * It also serves the dashboard: its static shell and assets (`GET /`, `GET /assets/*`,
 * no data in them) and, under `/ui/…`, the same routes for the browser, behind the JWT
 * authorizer instead of IAM, with viewers refused (403) anything that changes state.
 */
import middy from '@middy/core';
import httpRouterHandler, { type Route } from '@middy/http-router';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { batch } from '#shared/clients/batch';
import { documentClient } from '#shared/clients/dynamodb';
import { scheduler } from '#shared/clients/scheduler';
import { logs } from '#shared/clients/logs';
import { events } from '#shared/clients/events';
import { readApiEnv, readRoleConfig, readSignInConfig, type ApiDeps, type ApiEnv, type EngineOps, type RoleConfig, type SignInConfig } from '#shared/api/deps';
import { roleOf, requireRole } from '#shared/api/auth';
import { jsonErrors, jsonResponse, requireAuthorizer, validateRequest, type ApiEvent } from '#shared/api/http';
import { isWebPath, serveWebFile } from '#shared/web/assets';
import { apiRoutes } from '#shared/api/routes';
import { defaultDeps, type DepsFor } from '#shared/engine/deps';
import { cancelRunById } from '#shared/engine/drive';
import { startRun } from '#shared/engine/start';
import { rerunRunById } from '#shared/engine/rerun';
import { getEnv } from '#shared/env';
import { NotFoundError } from '#shared/errors';
import { logger } from '#shared/logger';
import { dynamoStore } from '#shared/store/dynamo';
import { dynamoDeadlineStore } from '#shared/store/deadlines';
import { now } from '#shared/time';

let apiEnv: ApiEnv | undefined;

/** The API's own collaborators besides the engine (the production ones: the table, the shared clients, the clock). */
export type ApiParts = Omit<ApiDeps, 'engine'>;

/** The production parts: the environment read once, the shared clients (per cold start). */
function productionParts(): ApiParts {
  apiEnv ??= readApiEnv();
  return {
    env: apiEnv,
    store: dynamoStore({ doc: documentClient, table: apiEnv.table }),
    deadlines: dynamoDeadlineStore({ doc: documentClient, table: apiEnv.table }),
    scheduler,
    batch,
    logs,
    events,
    now,
  };
}

/** The API's collaborators for one invocation (clients are per cold start; the engine's lease owner is the request). */
function depsFor(context: Context, engineDepsFor: DepsFor, partsFor: (context: Context) => ApiParts): ApiDeps {
  const parts = partsFor(context);
  const engineDeps = engineDepsFor(context);
  const { store } = parts;
  const engine: EngineOps = {
    async startRun(input, options) {
      const started = await startRun(input, engineDeps, options);
      const run = await store.getRun(started.runId);
      if (!run) throw new Error(`run ${started.runId} was started but cannot be read back`);
      return { run, created: started.created };
    },
    rerunRun: (runId, options) => rerunRunById(runId, options, engineDeps),
    async cancelRun(runId, reason) {
      const run = await cancelRunById(runId, reason, engineDeps);
      if (!run) throw new NotFoundError(`Run '${runId}' does not exist.`);
      return run;
    },
  };
  return { ...parts, engine };
}

const routesFor = (engineDepsFor: DepsFor, partsFor: (context: Context) => ApiParts): Route<APIGatewayProxyEventV2, APIGatewayProxyResultV2>[] => apiRoutes.map((r) => ({
  method: r.method,
  path: r.path,
  handler: middy<ApiEvent, APIGatewayProxyResultV2>()
    .use(validateRequest(r.schemas))
    .handler(async (event, context) => jsonResponse(await r.run(event.input, depsFor(context, engineDepsFor, partsFor)))) as never,
}));

let roleConfig: RoleConfig | undefined;
function roles(): RoleConfig {
  roleConfig ??= readRoleConfig();
  return roleConfig;
}

/** The dashboard's prefix for the API's routes (browser callers, JWT authorizer). */
const UI_PREFIX = '/ui';

/** The API's route chain over engine deps `engineDepsFor` builds per invocation (a test passes wrapped ones). */
const apiHandlerFor = (engineDepsFor: DepsFor, partsFor: (context: Context) => ApiParts) => middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2>()
  .use(jsonErrors((message, extra) => logger.error(message, { ...extra })))
  .use(requireAuthorizer())
  .use(requireRole(roles))
  .before((request) => {
    // `/ui/runs` is `/runs` for a browser: the same route table, another authorizer.
    const event = request.event;
    const path = event.requestContext.http.path;
    if (path === UI_PREFIX || path.startsWith(`${UI_PREFIX}/`)) {
      const inner = path.slice(UI_PREFIX.length) || '/';
      event.requestContext.http.path = inner;
      event.rawPath = event.rawPath.slice(UI_PREFIX.length) || '/';
    }
  })
  .handler(
    httpRouterHandler<APIGatewayProxyEventV2, APIGatewayProxyResultV2>({
      routes: routesFor(engineDepsFor, partsFor),
      notFoundResponse: ({ method, path }) => {
        throw new NotFoundError(`No route for ${method} ${path}.`);
      },
    }) as never,
  );

/** `GET /ui/me`: who the dashboard is signed in as, so it shows only the actions the caller may take. */
function whoAmI(event: APIGatewayProxyEventV2): APIGatewayProxyResultV2 | undefined {
  if (event.requestContext.http.method !== 'GET' || event.requestContext.http.path !== `${UI_PREFIX}/me`) return undefined;
  const role = roleOf(event, roles());
  if (!role) return undefined; // no authorizer: the chain below answers 401
  return jsonResponse({ status: 200, body: { role } });
}

let signIn: SignInConfig | undefined;
function signInConfig(): SignInConfig {
  signIn ??= readSignInConfig();
  return signIn;
}

/**
 * The api function over engine deps `engineDepsFor` and its own parts `partsFor` (the
 * production ones by default; a test passes in-memory ones): the dashboard's files, its
 * sign-in answer, then the API.
 */
export const createHandler = (engineDepsFor: DepsFor, partsFor: (context: Context) => ApiParts = productionParts) => {
  const apiHandler = apiHandlerFor(engineDepsFor, partsFor);
  return async (event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyResultV2> => {
    const { method, path } = event.requestContext.http;
    if (isWebPath(method, path)) {
      const config = signInConfig();
      const connectTo = config.signIn === 'oidc' ? [new URL(config.tokenUrl).origin] : [];
      const response = await serveWebFile(path, event.headers?.['if-none-match'], connectTo);
      return method === 'HEAD' ? { ...response, body: '' } : response;
    }
    // `GET /auth/session` (public): how a browser signs in here. Locally the gateway answers it itself.
    if (method === 'GET' && path === '/auth/session') {
      return jsonResponse({ status: 200, body: signInConfig(), headers: { 'cache-control': 'no-store' } });
    }
    return whoAmI(event) ?? (apiHandler(event, context) as Promise<APIGatewayProxyResultV2>);
  };
};

export const handler = createHandler((context) => defaultDeps(getEnv(), context.awsRequestId, undefined, context.functionName));
