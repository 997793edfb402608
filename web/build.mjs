/**
 * Builds the dashboard (web/main.tsx) into static files with esbuild: one JS bundle, one
 * CSS file (content-hashed names, so they can be cached for ever) and the HTML shell.
 * Plain JavaScript so both the local stack (shared/web/build.ts) and the Lambda bundler
 * (serverless/esbuild-plugins.cjs) can call it without a TypeScript loader.
 */
import { basename } from 'node:path';

/** Path under which every built file is served. */
export const ASSETS_PREFIX = '/assets/';

/**
 * @param {{ esbuild: typeof import('esbuild'), root: string }} options
 * @returns {Promise<Record<string, string>>} URL path -> file text (`/` is the HTML shell)
 */
export async function buildWeb({ esbuild, root }) {
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { app: 'web/main.tsx' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    write: false,
    outdir: 'out',
    entryNames: '[name]-[hash]',
    legalComments: 'none',
    logLevel: 'silent',
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  /** @type {Record<string, string>} */
  const files = {};
  let js = '';
  let css = '';
  for (const file of result.outputFiles) {
    const name = basename(file.path);
    files[ASSETS_PREFIX + name] = file.text;
    if (name.endsWith('.js')) js = name;
    if (name.endsWith('.css')) css = name;
  }
  files['/'] = shell(ASSETS_PREFIX + js, css ? ASSETS_PREFIX + css : undefined);
  return files;
}

/** The HTML shell: no data, no inline script (the CSP forbids it), nothing from another origin. */
function shell(js, css) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="color-scheme" content="light dark">
<title>Batchron</title>
<link rel="icon" href="data:,">
${css ? `<link rel="stylesheet" href="${css}">` : ''}
<script type="module" src="${js}"></script>
</head>
<body>
<div id="app"><p style="padding:1rem">Loading Batchron…</p></div>
<noscript>The Batchron dashboard needs JavaScript.</noscript>
</body>
</html>
`;
}
