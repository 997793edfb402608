/**
 * The dashboard's built files, when they were built into this bundle: the Lambda bundler
 * (serverless/esbuild-plugins.cjs) replaces this module with one that holds them. From the
 * sources (the local stack, tests) it is empty and shared/web/assets.ts builds on demand.
 */
export const embedded: Record<string, string> | undefined = undefined;
