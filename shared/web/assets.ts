/**
 * The dashboard's static files as HTTP responses, served by the `api` function itself:
 * one origin for the page and its API calls (no CORS, the same authorizers), nothing more
 * to deploy (no bucket, no CloudFront), and the assets always match the API they call.
 *
 * The files come prebuilt in the Lambda bundle (shared/web/embedded.ts) or are built on the
 * first request from the sources (the local stack), once per process.
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { embedded } from './embedded.ts';

interface WebFile {
  body: string;
  type: string;
  etag: string;
}

let files: Promise<Map<string, WebFile>> | undefined;

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

function index(source: Record<string, string>): Map<string, WebFile> {
  const map = new Map<string, WebFile>();
  for (const [path, body] of Object.entries(source)) {
    const ext = path.split('.').pop() ?? '';
    const type = path === '/' ? 'text/html; charset=utf-8' : (TYPES[ext] ?? 'application/octet-stream');
    map.set(path, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  return map;
}

/** The built files by URL path; built once per process when not embedded. */
export function webFiles(): Promise<Map<string, WebFile>> {
  files ??= embedded
    ? Promise.resolve(index(embedded))
    : import('./build.ts').then(({ buildWebFiles }) => buildWebFiles()).then(index);
  // A failed build is not cached: the next request tries again (after the sources are fixed).
  files.catch(() => (files = undefined));
  return files;
}

/** True for the paths the dashboard's shell and assets are served at. */
export function isWebPath(method: string, path: string): boolean {
  return (method === 'GET' || method === 'HEAD') && (path === '/' || path.startsWith('/assets/'));
}

/**
 * No script or style from anywhere but this origin, no framing, no referrer (the sign-in
 * URL carries the local token until the page removes it).
 */
function securityHeaders(connectTo: string[]): Record<string, string> {
  return {
    'content-security-policy': `default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src ${['\'self\'', ...connectTo].join(' ')}; frame-ancestors 'none'; base-uri 'none'; form-action 'self'`,
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
  };
}

/**
 * The response for one dashboard path: the file, 304 when the browser has it, or 404.
 * `connectTo`: other origins the page may call (the identity provider's token endpoint).
 */
export async function serveWebFile(path: string, ifNoneMatch?: string, connectTo: string[] = []): Promise<APIGatewayProxyStructuredResultV2> {
  const SECURITY_HEADERS = securityHeaders(connectTo);
  const file = (await webFiles()).get(path);
  if (!file) {
    return {
      statusCode: 404,
      headers: { 'content-type': 'application/json', ...SECURITY_HEADERS },
      body: JSON.stringify({ error: { code: 'NotFound', message: `No dashboard file ${path}.` } }),
    };
  }
  // Hashed asset names never change content; the shell names the current ones, so it is revalidated.
  const cache = path === '/' ? 'no-cache' : 'public, max-age=31536000, immutable';
  const headers = { 'content-type': file.type, 'cache-control': cache, etag: file.etag, ...SECURITY_HEADERS };
  if (ifNoneMatch === file.etag) return { statusCode: 304, headers, body: '' };
  return { statusCode: 200, headers, body: file.body };
}
