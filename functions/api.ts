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
import { defaultDeps } from '#shared/engine/deps';
import { cancelRunById } from '#shared/engine/drive';
import { startRun } from '#shared/engine/start';
import { rerunRunById } from '#shared/engine/rerun';
import { getEnv } from '#shared/env';
import { NotFoundError } from '#shared/errors';
import { logger } from '#shared/logger';
import { getRun } from '#shared/store/runs';
import { now } from '#shared/time';

let apiEnv: ApiEnv | undefined;

/** The API's collaborators for one invocation (clients are per cold start; the engine's lease owner is the request). */
function depsFor(context: Context): ApiDeps {
  apiEnv ??= readApiEnv();
  const engineDeps = defaultDeps(getEnv(), context.awsRequestId);
  const store = { doc: documentClient, table: apiEnv.table };
  const engine: EngineOps = {
    async startRun(input, options) {
      const started = await startRun(input, engineDeps, options);
      const run = await getRun(store, started.runId);
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

const routes: Route<APIGatewayProxyEventV2, APIGatewayProxyResultV2>[] = apiRoutes.map((r) => ({
  method: r.method,
  path: r.path,
  handler: middy<ApiEvent, APIGatewayProxyResultV2>()
    .use(validateRequest(r.schemas))
    .handler(async (event, context) => jsonResponse(await r.run(event.input, depsFor(context)))) as never,
}));

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyResultV2>()
  .use(jsonErrors((message, extra) => logger.error(message, { ...extra })))
  .use(requireAuthorizer())
  .handler(
    httpRouterHandler<APIGatewayProxyEventV2, APIGatewayProxyResultV2>({
      routes,
      notFoundResponse: ({ method, path }) => {
        throw new NotFoundError(`No route for ${method} ${path}.`);
      },
    }) as never,
  );
