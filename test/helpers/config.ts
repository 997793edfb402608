/** Config test helpers: what `parseConfig` rejects a config with. */
import { expect } from 'vitest';
import { ConfigError } from '#shared/errors';
import { deploymentContext, parseConfig } from '#shared/config/validate';

/** The deployment context the config tests validate against. */
export const ctx = deploymentContext('batchron-dev');

/** The ConfigError's problem lines for `raw` (fails the test when `raw` is accepted or the error is another). */
export function problemsOf(raw: unknown): string[] {
  try {
    parseConfig(raw, ctx);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected parseConfig to throw');
}
