/**
 * The HTTP API on a local stack (api.test.ts, the security tests): serverless.yml
 * deployed with deployLocal, functions/api registered in the local Lambda runtime, served
 * by local/http-api.ts and called over real HTTP with the bearer token, as the CLI calls it.
 */
import { deployLocal } from '#local/deploy';
import { startHttpApi, type HttpApi } from '#local/http-api';
import { startTestStack, type TestStack } from './stack.ts';
import { resolvedOnce } from './packaged.ts';
import { PROJECT_DIR } from '../integration/package.helpers.ts';

export { PROJECT_DIR };

export interface ApiResponse<T = any> {
  status: number;
  body: T;
}

export interface ApiStack {
  t: TestStack;
  api: HttpApi;
  call<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>;
  stop(): Promise<void>;
}

/** Starts a stack, deploys the project's serverless.yml on it and serves the API on port 0. */
export async function startApiStack(functionName = 'batchron-api-test'): Promise<ApiStack> {
  const t = await startTestStack({ projectDir: PROJECT_DIR });
  const deployed = await deployLocal(t.stack, { projectDir: PROJECT_DIR, service: await resolvedOnce() });
  // After the deploy: the shared clients must be built with the stack's endpoint in the environment.
  const { handlerFor } = await import('#functions/api');
  t.stack.lambda.register(functionName, handlerFor({ env: deployed.environment, now: () => t.stack.clock.now() }), { timeoutMs: 30_000 });
  const api = await startHttpApi({
    port: 0,
    dataDir: t.dataDir,
    lambda: t.stack.lambda,
    now: () => t.stack.clock.now(),
    routes: [{ method: 'ANY', path: '/{proxy+}', functionName }],
  });
  return {
    t,
    api,
    async call(method, path, body, headers = {}) {
      const res = await fetch(`${api.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${api.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async stop() {
      await api.close();
      await t.stop();
    },
  };
}
