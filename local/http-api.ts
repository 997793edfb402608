/**
 * The local API Gateway HTTP API: serves the `httpApi` routes of serverless.yml on
 * loopback (port 3000 by default), turns each request into the payload format 2.0 event
 * API Gateway would send, invokes the route's function synchronously through the local
 * Lambda runtime and turns its result back into an HTTP response by the same rules
 * API Gateway applies.
 *
 * Authentication stands in for the authorizers of a deployed stage. Two bearer tokens are
 * generated on first start (mode 0600): `<dataDir>/api-token` for operators (the CLI) and
 * `<dataDir>/viewer-token` for read-only viewers. The dashboard trades either for an
 * HttpOnly, SameSite=Strict session cookie (`POST /auth/session`), so the token leaves the
 * address bar at once. A request with neither a token nor the cookie is answered 401 before
 * any function runs. The operator's bearer token reaches the function as
 * `requestContext.authorizer.iam` (as after API Gateway verified a SigV4 signature); a
 * viewer, or a browser session, as `authorizer.jwt` with a groups claim (as after the JWT
 * authorizer verified a Cognito token), so the function tells the roles apart exactly as
 * on AWS. Routes declared without an authorizer (the dashboard's static shell) are public.
 * Before the token, the
 * guard of local/guard.ts refuses a foreign Host or Origin (403); the body is read only
 * after both, up to API Gateway's 10 MB, and JSON nested past 1,000 levels is a 400.
 *
 *   client ──HTTP──▶ http-api ──(token ok?)──▶ route match ──▶ v2 event ──▶ LocalLambda.invoke
 *          ◀──────── v2 result → status, headers, cookies, body ◀───────────────────┘
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { LOCAL_ACCOUNT, type LambdaInvoker } from './contracts.ts';
import {
  applyLimits,
  assertLoopbackBind,
  bearerMatches,
  BodyTooLargeError,
  checkRequest,
  discardUnreadBody,
  HTTP_API_BODY_LIMIT,
  jsonDepthExceeds,
  loadOrCreateApiToken,
  MAX_JSON_DEPTH,
  readBodyCapped,
  SERVER_OPTIONS,
  TOKEN_FILE_HINT,
  type ServerLimits,
} from './guard.ts';

export { API_TOKEN_FILE, loadOrCreateApiToken } from './guard.ts';

/** API Gateway's default port for the local API, as serverless-offline uses. */
export const DEFAULT_HTTP_API_PORT = 3000;
/** Name of the read-only viewer token file under the stack's data folder. */
export const VIEWER_TOKEN_FILE = 'viewer-token';
/** The dashboard's session cookie. */
export const SESSION_COOKIE = 'batchron_session';
/** Group claims the local gateway puts on browser sessions and viewers (Cognito's claim name). */
export const LOCAL_GROUPS = { operator: 'operators', viewer: 'viewers' } as const;

/** One `httpApi` event of a function: `GET /runs/{id}` → `api`. */
export interface HttpRoute {
  /** HTTP method, or `ANY` / `*` for every method. */
  method: string;
  /** Path with `{param}` and a trailing `{name+}` greedy parameter; `*` is the `$default` route. */
  path: string;
  /** Name (or ARN) of the function registered in the local Lambda runtime. */
  functionName: string;
  /**
   * The route's authorizer as serverless.yml declares it; `'none'` (what local/deploy.ts
   * passes for a route declared without one) makes the route public. Anything else,
   * or nothing, requires a token or the session cookie.
   */
  authorizer?: unknown;
}

export interface HttpApiOptions {
  routes: HttpRoute[];
  lambda: Pick<LambdaInvoker, 'invoke'>;
  /** Default 127.0.0.1: the API is for this machine only. */
  host?: string;
  /** Default 3000; 0 picks a free port. */
  port?: number;
  /** Folder for `api-token`; required unless `token` is given. */
  dataDir?: string;
  /** A fixed token (tests); otherwise read from or created in `<dataDir>/api-token`. */
  token?: string;
  /** A fixed viewer token (tests); otherwise `<dataDir>/viewer-token`, created when absent. */
  viewerToken?: string;
  /** Epoch milliseconds for `requestContext.time`; the stack passes its clock. */
  now?: () => number;
  region?: string;
  /** Called when a function fails or the server meets an unexpected error. */
  onError?: (error: unknown, routeKey: string) => void;
  /** Host names besides loopback ones that requests may be addressed to. */
  allowedHosts?: readonly string[];
  /** Timeouts and connection cap (local/guard.ts has the defaults). */
  limits?: Partial<ServerLimits>;
}

/** A running local HTTP API. */
export interface HttpApi {
  readonly url: string;
  readonly port: number;
  /** The operator's bearer token. */
  readonly token: string;
  /** The read-only viewer's bearer token. */
  readonly viewerToken: string;
  /** The address that opens the dashboard signed in as an operator (`/?token=…`). */
  readonly dashboardUrl: string;
  /** Where the token is kept, when it came from the data folder. */
  readonly tokenFile?: string;
  /** True when this start generated the token (the caller prints it then). */
  readonly tokenCreated: boolean;
  readonly server: Server;
  close(): Promise<void>;
}

interface CompiledRoute {
  route: HttpRoute;
  routeKey: string;
  method: string | undefined; // undefined = any method
  segments: Segment[];
  isDefault: boolean;
}

type Segment = { kind: 'static'; value: string } | { kind: 'param'; name: string } | { kind: 'greedy'; name: string };

/** Compiles routes once; throws on a malformed path so a bad serverless.yml fails at start. */
export function compileRoutes(routes: HttpRoute[]): CompiledRoute[] {
  return routes.map((route) => {
    const method = route.method.toUpperCase();
    const anyMethod = method === 'ANY' || method === '*';
    if (route.path === '*' || route.path === '$default') {
      return { route, routeKey: '$default', method: undefined, segments: [], isDefault: true };
    }
    if (!route.path.startsWith('/')) throw new Error(`httpApi route path '${route.path}' must start with '/'.`);
    const parts = route.path.split('/').slice(1).filter((p, i, all) => p !== '' || i < all.length - 1);
    const segments: Segment[] = parts.map((part, i) => {
      const greedy = /^\{([A-Za-z0-9_]+)\+\}$/.exec(part);
      if (greedy) {
        if (i !== parts.length - 1) throw new Error(`httpApi route '${route.path}': a greedy {${greedy[1]}+} must be the last segment.`);
        return { kind: 'greedy', name: greedy[1]! };
      }
      const param = /^\{([A-Za-z0-9_]+)\}$/.exec(part);
      if (param) return { kind: 'param', name: param[1]! };
      if (part.includes('{') || part.includes('}')) throw new Error(`httpApi route '${route.path}': '${part}' is not a valid path segment.`);
      return { kind: 'static', value: part };
    });
    return {
      route,
      routeKey: `${anyMethod ? 'ANY' : method} ${route.path}`,
      method: anyMethod ? undefined : method,
      segments,
      isDefault: false,
    };
  });
}

/**
 * Picks the route API Gateway would: an exact method beats ANY, a static segment beats
 * a parameter, a parameter beats a greedy tail, and `$default` catches what is left.
 */
export function matchRoute(
  routes: CompiledRoute[],
  method: string,
  path: string,
): { route: CompiledRoute; pathParameters: Record<string, string> } | undefined {
  // `/` is the route with no segments (compileRoutes drops the empty one).
  const parts = path === '/' ? [] : path.split('/').slice(1);
  let best: { route: CompiledRoute; pathParameters: Record<string, string>; score: number[] } | undefined;
  for (const route of routes) {
    if (route.isDefault) continue;
    if (route.method !== undefined && route.method !== method) continue;
    const params: Record<string, string> = {};
    const score: number[] = [];
    let ok = true;
    for (let i = 0; i < route.segments.length; i++) {
      const seg = route.segments[i]!;
      if (seg.kind === 'greedy') {
        const rest = parts.slice(i);
        if (rest.length === 0 || rest.join('/') === '') {
          ok = false;
          break;
        }
        params[seg.name] = safeDecode(rest.join('/'));
        score.push(1);
        break;
      }
      const part = parts[i];
      if (part === undefined) {
        ok = false;
        break;
      }
      if (seg.kind === 'static') {
        if (seg.value !== part) {
          ok = false;
          break;
        }
        score.push(3);
      } else {
        if (part === '') {
          ok = false;
          break;
        }
        params[seg.name] = safeDecode(part);
        score.push(2);
      }
    }
    if (!ok) continue;
    const last = route.segments.at(-1);
    if (last?.kind !== 'greedy' && parts.length !== route.segments.length) continue;
    score.push(route.method !== undefined ? 1 : 0);
    if (!best || compareScores(score, best.score) > 0) best = { route, pathParameters: params, score };
  }
  if (best) return { route: best.route, pathParameters: best.pathParameters };
  const fallback = routes.find((r) => r.isDefault);
  return fallback ? { route: fallback, pathParameters: {} } : undefined;
}

function compareScores(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The API Gateway HTTP API payload format 2.0 event, as a function receives it. */
export interface HttpApiEventV2 {
  version: '2.0';
  routeKey: string;
  rawPath: string;
  rawQueryString: string;
  cookies?: string[];
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  pathParameters?: Record<string, string>;
  stageVariables?: Record<string, string>;
  requestContext: {
    accountId: string;
    apiId: string;
    authorizer?: {
      jwt?: { claims: Record<string, string>; scopes: string[] | null };
      iam?: {
        accessKey: string;
        accountId: string;
        callerId: string;
        cognitoIdentity: null;
        principalOrgId: null;
        userArn: string;
        userId: string;
      };
    };
    domainName: string;
    domainPrefix: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    routeKey: string;
    stage: string;
    time: string;
    timeEpoch: number;
  };
  body?: string;
  isBase64Encoded: boolean;
}

/** Builds the payload 2.0 event for one request. Exported for the tests and the e2e fixtures. */
export function buildEventV2(input: {
  method: string;
  url: string;
  httpVersion: string;
  rawHeaders: string[];
  body: Buffer;
  routeKey: string;
  pathParameters: Record<string, string>;
  sourceIp: string;
  now: number;
  apiId: string;
  domainName: string;
  authorized: boolean;
  /** For an authorized request: JWT claims (a viewer, a browser session); absent = IAM (the operator's bearer token). */
  jwtClaims?: Record<string, string>;
}): HttpApiEventV2 {
  const q = input.url.indexOf('?');
  const rawPath = q < 0 ? input.url : input.url.slice(0, q);
  const rawQueryString = q < 0 ? '' : input.url.slice(q + 1);

  // Payload 2.0: header names lower-cased, repeated headers joined with commas, cookies
  // moved out of the headers into their own array.
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < input.rawHeaders.length; i += 2) {
    const name = input.rawHeaders[i]!.toLowerCase();
    const value = input.rawHeaders[i + 1]!;
    if (name === 'cookie') {
      cookies.push(...value.split(';').map((c) => c.trim()).filter(Boolean));
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  headers['x-forwarded-for'] ??= input.sourceIp;
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-forwarded-port'] ??= input.domainName.split(':')[1] ?? '80';
  headers['x-amzn-trace-id'] ??= `Root=1-${Math.floor(input.now / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;

  // Repeated query parameters are joined with commas, as for headers.
  const query: Record<string, string> = {};
  if (rawQueryString) {
    for (const [k, v] of new URLSearchParams(rawQueryString)) {
      query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
    }
  }

  const contentType = headers['content-type'] ?? '';
  const text = input.body.length === 0 || isTextual(contentType);
  const requestId = randomUUID();
  const event: HttpApiEventV2 = {
    version: '2.0',
    routeKey: input.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    ...(Object.keys(input.pathParameters).length > 0 ? { pathParameters: input.pathParameters } : {}),
    requestContext: {
      accountId: LOCAL_ACCOUNT,
      apiId: input.apiId,
      ...(input.authorized && input.jwtClaims
        ? { authorizer: { jwt: { claims: input.jwtClaims, scopes: null } } }
        : input.authorized
        ? {
            authorizer: {
              iam: {
                accessKey: 'LOCALBEARERTOKEN',
                accountId: LOCAL_ACCOUNT,
                callerId: 'batchron-local',
                cognitoIdentity: null,
                principalOrgId: null,
                userArn: `arn:aws:iam::${LOCAL_ACCOUNT}:user/batchron-local`,
                userId: 'batchron-local',
              },
            },
          }
        : {}),
      domainName: input.domainName,
      domainPrefix: input.apiId,
      http: {
        method: input.method,
        path: safeDecode(rawPath),
        protocol: `HTTP/${input.httpVersion}`,
        sourceIp: input.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: input.routeKey,
      stage: '$default',
      time: clfTime(input.now),
      timeEpoch: input.now,
    },
    ...(input.body.length > 0 ? { body: text ? input.body.toString('utf8') : input.body.toString('base64') } : {}),
    isBase64Encoded: !text,
  };
  return event;
}

/** What API Gateway treats as text (and so passes without base64). */
function isTextual(contentType: string): boolean {
  const t = contentType.split(';')[0]!.trim().toLowerCase();
  return (
    t === '' ||
    t.startsWith('text/') ||
    t === 'application/json' ||
    t.endsWith('+json') ||
    t === 'application/xml' ||
    t.endsWith('+xml') ||
    t === 'application/javascript' ||
    t === 'application/x-www-form-urlencoded'
  );
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `12/Mar/2020:19:03:58 +0000`, the format of `requestContext.time`. */
function clfTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** An HTTP response, after API Gateway's interpretation of the function's result. */
export interface GatewayResponse {
  status: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

/**
 * Applies API Gateway's rules for payload 2.0 results: an object with `statusCode` is a
 * full response; anything else that is valid JSON is a 200 with the JSON as the body.
 */
export function interpretResult(result: unknown): GatewayResponse {
  if (isStructured(result)) {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
    const raw = result.body ?? '';
    const body = result.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
    return { status: result.statusCode, headers, cookies: result.cookies ?? [], body };
  }
  return {
    status: 200,
    headers: { 'content-type': 'application/json' },
    cookies: [],
    body: Buffer.from(result === undefined ? '' : JSON.stringify(result), 'utf8'),
  };
}

function isStructured(
  r: unknown,
): r is { statusCode: number; headers?: Record<string, unknown>; cookies?: string[]; body?: string; isBase64Encoded?: boolean } {
  return typeof r === 'object' && r !== null && typeof (r as { statusCode?: unknown }).statusCode === 'number';
}

/** Who a request is: the operator (CLI token, or a session made with it) or a viewer. */
export type LocalRole = 'operator' | 'viewer';

function sameSecret(given: string, expected: string): boolean {
  // Compare digests so the comparison takes the same time whatever the length.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function bearerOf(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
}

/**
 * The session cookie's value for a token: an HMAC keyed by the token, so it needs no
 * server-side state, survives a restart, and dies when the token file is replaced, while
 * the token itself never sits in the browser's cookie jar.
 */
export function sessionValue(token: string, role: LocalRole): string {
  return createHmac('sha256', token).update(`batchron-dashboard-session:${role}`).digest('base64url');
}

function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** A request's principal: from the bearer token, else from the session cookie. */
function principalOf(
  req: IncomingMessage,
  tokens: Record<LocalRole, string>,
): { role: LocalRole; via: 'bearer' | 'cookie' } | undefined {
  const bearer = bearerOf(req.headers.authorization);
  if (bearer !== undefined) {
    if (sameSecret(bearer, tokens.operator)) return { role: 'operator', via: 'bearer' };
    if (sameSecret(bearer, tokens.viewer)) return { role: 'viewer', via: 'bearer' };
    return undefined;
  }
  const cookie = cookieOf(req.headers.cookie, SESSION_COOKIE);
  if (cookie === undefined) return undefined;
  for (const role of ['operator', 'viewer'] as const) {
    if (sameSecret(cookie, sessionValue(tokens[role], role))) return { role, via: 'cookie' };
  }
  return undefined;
}

/** A browser's request from another site (its Origin is not this listener): refused when it rides on the cookie. */
function crossSite(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || origin === 'null') return origin === 'null';
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

/** Starts the local HTTP API; resolves once it is listening. */
export async function startHttpApi(opts: HttpApiOptions): Promise<HttpApi> {
  const compiled = compileRoutes(opts.routes);
  let token: string;
  let tokenFile: string | undefined;
  let tokenCreated = false;
  if (opts.token !== undefined) token = opts.token;
  else if (opts.dataDir !== undefined) ({ token, file: tokenFile, created: tokenCreated } = loadOrCreateApiToken(opts.dataDir));
  else throw new Error('startHttpApi needs a dataDir (for the API token) or a token.');
  let viewerToken: string;
  if (opts.viewerToken !== undefined) viewerToken = opts.viewerToken;
  else if (opts.dataDir !== undefined) viewerToken = loadOrCreateApiToken(opts.dataDir, VIEWER_TOKEN_FILE).token;
  else viewerToken = randomBytes(32).toString('base64url');
  const tokens: Record<LocalRole, string> = { operator: token, viewer: viewerToken };
  const now = opts.now ?? Date.now;
  const host = opts.host ?? '127.0.0.1';
  assertLoopbackBind(host);
  const apiId = 'local';

  const server = createServer(SERVER_OPTIONS, (req, res) => {
    void serve(req, res).catch((error: unknown) => {
      opts.onError?.(error, '');
      if (!res.headersSent) send(res, gatewayError(500, 'InternalServerError', 'Internal Server Error'));
      else res.destroy();
    });
  });

  applyLimits(server, opts.limits);

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Host/Origin, then the token (or the dashboard's session), then the body: nothing
    // unauthenticated is ever buffered (but the small sign-in body and public GETs).
    const refusal = checkRequest(req.headers, opts.allowedHosts);
    if (refusal) return send(res, gatewayError(403, refusal.code, refusal.message), req);
    const url = req.url ?? '/';
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.split('?')[0]!;
    if (path === '/auth/session') {
      let signInBody: Buffer;
      try {
        signInBody = await readBodyCapped(req, 64 * 1024);
      } catch (error) {
        if (!(error instanceof BodyTooLargeError)) throw error;
        return send(res, gatewayError(413, 'PayloadTooLarge', 'A sign-in body is a token, not 64 KB.'), req);
      }
      return send(res, sessionExchange(req, method, signInBody, tokens));
    }
    const match = matchRoute(compiled, method, path);
    const isPublic = match?.route.route.authorizer === 'none';
    const principal = isPublic ? undefined : principalOf(req, tokens);
    if (!isPublic && !principal) {
      const message = req.headers.authorization
        ? `The bearer token is not the one this local API issued; use the token in ${TOKEN_FILE_HINT}.`
        : `Missing Authorization header; send "Authorization: Bearer <token>" with the token in ${TOKEN_FILE_HINT}.`;
      return send(res, gatewayError(401, 'Unauthorized', message), req);
    }
    if (principal?.via === 'cookie' && method !== 'GET' && method !== 'HEAD' && crossSite(req)) {
      return send(res, gatewayError(403, 'Forbidden', 'A request carrying the dashboard session must come from the dashboard itself.'), req);
    }
    let body: Buffer;
    try {
      body = await readBodyCapped(req, HTTP_API_BODY_LIMIT);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      return send(res, gatewayError(413, 'PayloadTooLarge', 'Request body is larger than 10 MB.'), req);
    }
    if (jsonDepthExceeds(body)) {
      return send(res, gatewayError(400, 'BadRequest', `The request body nests JSON deeper than ${MAX_JSON_DEPTH} levels.`));
    }
    if (!match) {
      send(res, gatewayError(404, 'NotFound', `No route for ${method} ${safeDecode(path)}.`));
      return;
    }
    const event = buildEventV2({
      method,
      url,
      httpVersion: req.httpVersion,
      rawHeaders: req.rawHeaders,
      body,
      routeKey: match.route.routeKey,
      pathParameters: match.pathParameters,
      sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
      now: now(),
      apiId,
      domainName: req.headers.host ?? `${host}:${port}`,
      authorized: principal !== undefined,
      // The operator's bearer token is the CLI's stand-in for SigV4 (IAM); a viewer and a
      // browser session arrive as the JWT authorizer would pass them on AWS.
      ...(principal && (principal.role === 'viewer' || principal.via === 'cookie')
        ? { jwtClaims: { sub: `local-${principal.role}`, 'cognito:groups': `[${LOCAL_GROUPS[principal.role]}]` } }
        : {}),
    });
    let result: unknown;
    try {
      result = await opts.lambda.invoke(match.route.route.functionName, event);
    } catch (error) {
      // API Gateway shows nothing of a function error to the caller.
      opts.onError?.(error, match.route.routeKey);
      send(res, gatewayError(500, 'InternalServerError', 'Internal Server Error'));
      return;
    }
    let response: GatewayResponse;
    try {
      response = interpretResult(result);
    } catch (error) {
      opts.onError?.(error, match.route.routeKey);
      response = gatewayError(502, 'BadGateway', 'The function returned a response API Gateway cannot use.');
    }
    response.headers['apigw-requestid'] = event.requestContext.requestId;
    send(res, method === 'HEAD' ? { ...response, body: Buffer.alloc(0) } : response);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? DEFAULT_HTTP_API_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    token,
    viewerToken,
    dashboardUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}/?token=${encodeURIComponent(token)}`,
    ...(tokenFile !== undefined ? { tokenFile } : {}),
    tokenCreated,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * `POST /auth/session` with `{ "token": "…" }` (the dashboard's sign-in) sets the session
 * cookie for the token's role; `DELETE /auth/session` signs out; `GET` says sign-in is by token. The gateway answers it
 * itself: it is the local stand-in for an OIDC sign-in, not an API route.
 */
function sessionExchange(req: IncomingMessage, method: string, body: Buffer, tokens: Record<LocalRole, string>): GatewayResponse {
  const json = (status: number, value: unknown, cookies: string[] = []): GatewayResponse => ({
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    cookies,
    body: Buffer.from(JSON.stringify(value)),
  });
  const attributes = 'Path=/; HttpOnly; SameSite=Strict';
  if (crossSite(req)) return gatewayError(403, 'Forbidden', 'Sign-in must come from the dashboard itself.');
  if (method === 'DELETE') return json(200, { signedOut: true }, [`${SESSION_COOKIE}=; ${attributes}; Max-Age=0`]);
  // The dashboard asks how to sign in: here with a token (on AWS this path does not exist and it uses OIDC).
  if (method === 'GET') return json(200, { signIn: 'token' });
  if (method !== 'POST') return gatewayError(405, 'MethodNotAllowed', 'Use POST /auth/session with {"token": "…"}, or DELETE to sign out.');
  let given: unknown;
  try {
    given = (JSON.parse(body.toString('utf8')) as { token?: unknown }).token;
  } catch {
    given = undefined;
  }
  if (typeof given !== 'string' || given.length === 0) {
    return gatewayError(400, 'Validation', 'body.token is required: the token from .batchron/api-token or .batchron/viewer-token.');
  }
  const role = sameSecret(given, tokens.operator) ? 'operator' : sameSecret(given, tokens.viewer) ? 'viewer' : undefined;
  if (!role) return gatewayError(401, 'Unauthorized', 'That token is not one this local API issued.');
  return json(200, { role }, [`${SESSION_COOKIE}=${sessionValue(tokens[role], role)}; ${attributes}`]);
}

/** Errors the gateway itself answers, in the API's own error shape so clients read one format. */
function gatewayError(status: number, code: string, message: string): GatewayResponse {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    cookies: [],
    body: Buffer.from(JSON.stringify({ error: { code, message } })),
  };
}

/** Writes a response; `unread` is a request answered before its body was read, whose rest is discarded. */
function send(res: ServerResponse, r: GatewayResponse, unread?: IncomingMessage): void {
  const headers: Record<string, string | string[]> = { ...r.headers, 'content-length': String(r.body.length) };
  if (r.cookies.length > 0) headers['set-cookie'] = r.cookies;
  res.writeHead(r.status, headers);
  res.end(r.body);
  if (unread) discardUnreadBody(unread);
}
