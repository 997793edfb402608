/**
 * What a function's production wiring takes from its surroundings: the environment it reads
 * its settings from, and the clock every decision reads. On Lambda that is `process.env` and
 * `Date.now`; the local stack and the tests pass their own (a deployment's variables, the
 * stack's fast-forwardable Clock) to each function module's `handlerFor`, so two deployments
 * in one process never share either and nothing depends on which module was imported first.
 *
 * The AWS SDK's own variables (`AWS_ENDPOINT_URL`, `AWS_REGION`, credentials) and
 * Powertools' are not in here: the shared clients and logger are built once per process
 * from them (STYLE.md 2), and no decision reads them.
 */

/** Environment variables by name. */
export type EnvSource = Record<string, string | undefined>;

/** A function's environment and clock. */
export interface Runtime {
  env: EnvSource;
  /** Epoch milliseconds. */
  now: () => number;
}

/** The runtime on AWS Lambda: the process environment and the system clock. */
export const lambdaRuntime: Runtime = { env: process.env, now: () => Date.now() };

/**
 * A handler built on its first invocation by `build` (which reads the environment once and
 * fails then, with the variable's name, when one is missing), so that importing a function
 * module reads nothing: the local stack imports it for `handlerFor` without that environment.
 */
export function builtOnFirstCall<A extends unknown[], R>(build: () => (...args: A) => R): (...args: A) => R {
  let built: ((...args: A) => R) | undefined;
  return (...args) => (built ??= build())(...args);
}
