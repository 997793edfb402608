/**
 * esbuild plugins for the Lambda bundles (serverless-esbuild's `plugins` option).
 *
 * `embed-dashboard`: the api function serves the dashboard, so its bundle carries the built
 * files. shared/web/embedded.ts is replaced by a module that exports them (built from web/
 * by web/build.mjs, the same build the local stack runs on demand), and shared/web/build.ts,
 * which would need esbuild at run time, by a stub that is never called.
 */
const { pathToFileURL } = require('node:url');
const { join } = require('node:path');

const embedDashboard = {
  name: 'embed-dashboard',
  setup(build) {
    const root = process.cwd();
    let files;
    build.onLoad({ filter: /[\\/]shared[\\/]web[\\/]embedded\.ts$/ }, async () => {
      if (!files) {
        const { buildWeb } = await import(pathToFileURL(join(root, 'web/build.mjs')).href);
        files = await buildWeb({ esbuild: build.esbuild, root });
      }
      return { contents: `export const embedded = ${JSON.stringify(files)};`, loader: 'js' };
    });
    build.onLoad({ filter: /[\\/]shared[\\/]web[\\/]build\.ts$/ }, () => ({
      contents: "export async function buildWebFiles() { throw new Error('the dashboard is embedded in this bundle'); }",
      loader: 'js',
    }));
  },
};

module.exports = [embedDashboard];
