/**
 * The HTTP API (API Gateway HTTP API, payload 2.0, IAM authorizer): every route of
 * shared/api/routes.ts behind one middy chain. Thin on purpose: authorize, route,
 * validate, call shared/api, shape JSON. See docs/api.md for the routes.
 */
import middy from '@middy/core';
import httpRouterHandler, { type Route } from '@middy/http-router';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { batch } from '#shared/clients/batch';
import { documentClient } from '#shared/clients/dynamodb';
import { scheduler } from '#shared/clients/scheduler';
import { logs } from '#shared/clients/logs';
import { readApiEnv, type ApiDeps, type ApiEnv, type EngineOps } from '#shared/api/deps';
import { jsonErrors, jsonResponse, requireAuthorizer, validateRequest, type ApiEvent } from '#shared/api/http';
import { apiRoutes } from '#shared/api/routes';
import { defaultDeps, type DepsFor } from '#shared/engine/deps';
import { cancelRunById } from '#shared/engine/drive';
import { startRun } from '#shared/engine/start';
import { rerunRunById } from '#shared/engine/rerun';
import { getEnv } from '#shared/env';
import { NotFoundError } from '#shared/errors';
import { logger } from '#shared/logger';
import { dynamoStore } from '#shared/store/dynamo';
import { now } from '#shared/time';

let apiEnv: ApiEnv | undefined;

/** The API's collaborators for one invocation (clients are per cold start; the engine's lease owner is the request). */
function depsFor(context: Context, engineDepsFor: DepsFor): ApiDeps {
  apiEnv ??= readApiEnv();
  const engineDeps = engineDepsFor(context);
  const store = dynamoStore({ doc: documentClient, table: apiEnv.table });
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
  return { env: apiEnv, store, scheduler, batch, logs, engine, now };
}

const routesFor = (engineDepsFor: DepsFor): Route<APIGatewayProxyEventV2, APIGatewayProxyResultV2>[] => apiRoutes.map((r) => ({
  method: r.method,
  path: r.path,
  handler: middy<ApiEvent, APIGatewayProxyResultV2>()
    .use(validateRequest(r.schemas))
    .handler(async (event, context) => jsonResponse(await r.run(event.input, depsFor(context, engineDepsFor)))) as never,
}));

/** The API over engine deps `engineDepsFor` builds per invocation (a test passes wrapped ones). */
export const createHandler = (engineDepsFor: DepsFor) => middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2>()
  .use(jsonErrors((message, extra) => logger.error(message, { ...extra })))
  .use(requireAuthorizer())
  .handler(
    httpRouterHandler<APIGatewayProxyEventV2, APIGatewayProxyResultV2>({
      routes: routesFor(engineDepsFor),
      notFoundResponse: ({ method, path }) => {
        throw new NotFoundError(`No route for ${method} ${path}.`);
      },
    }) as never,
  );

export const handler = createHandler((context) => defaultDeps(getEnv(), context.awsRequestId));
