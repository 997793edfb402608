/**
 * The one AWS endpoint of the local stack (LocalStack's port 4566 by convention).
 * Like AWS's own front doors it tells services apart by the SigV4 credential scope
 * (`Credential=AKID/date/region/<service>/aws4_request`) and, for the JSON-RPC
 * protocols, the `X-Amz-Target` header. Any credentials work ("test"/"test", as LocalStack),
 * from this machine only, except a deployed role's: those are checked by `authorize`
 * (local/iam/), signature and policies. local/guard.ts refuses a foreign Host or Origin
 * before the body is read, caps the body per service and refuses JSON nested past 1,000 levels.
 * Requests under `/_batchron/` go to the stack's control API instead.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { AwsError, DEFAULT_REGION, type AwsRequest, type AwsResponse, type LocalService } from './contracts.ts';
import { applyLimits, assertLoopbackBind, discardUnreadBody, guardAwsRequest, SERVER_OPTIONS, type ServerLimits } from './guard.ts';

export type ControlHandler = (req: AwsRequest) => Promise<AwsResponse>;

export interface EndpointOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  services: LocalService[];
  control?: ControlHandler;
  /** IAM's gate (local/iam/): throws an AwsError to refuse a request before its service sees it. */
  authorize?: (req: AwsRequest, rawUrl: string) => Promise<void>;
  /** Called for every request that ends in a 5xx or an unexpected exception. */
  onError?: (error: unknown, req: AwsRequest) => void;
  /** Host names besides loopback ones that requests may be addressed to. */
  allowedHosts?: readonly string[];
  /** Timeouts and connection cap (local/guard.ts has the defaults). */
  limits?: Partial<ServerLimits>;
}

export interface Endpoint {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

const TARGET_PREFIXES: Record<string, string> = {
  DynamoDB_20120810: 'dynamodb',
  DynamoDBStreams_20120810: 'streams.dynamodb',
  AmazonSSM: 'ssm',
  secretsmanager: 'secretsmanager',
  AWSEvents: 'events',
  Logs_20140328: 'logs',
};

/** Works out which service a request is for, from its signature or target header. */
export function signingNameOf(headers: IncomingMessage['headers']): { service?: string; region: string } {
  const auth = headers.authorization ?? '';
  const m = /Credential=[^/]+\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(auth);
  if (m) return { region: m[1]!, service: m[2]! };
  const target = headers['x-amz-target'];
  if (typeof target === 'string') {
    const prefix = target.split('.')[0] ?? '';
    return { region: DEFAULT_REGION, service: TARGET_PREFIXES[prefix] };
  }
  return { region: DEFAULT_REGION };
}

/** Starts the endpoint; resolves once it is listening. */
export async function startEndpoint(opts: EndpointOptions): Promise<Endpoint> {
  const byName = new Map(opts.services.map((s) => [s.signingName, s]));
  const server = createServer(SERVER_OPTIONS, (req, res) => {
    void serve(req, res).catch((error: unknown) => {
      // serve() already answers errors; this only guards against a broken socket.
      if (!res.headersSent) res.writeHead(500).end();
      opts.onError?.(error, emptyRequest());
    });
  });
  applyLimits(server, opts.limits);

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const { service, region } = signingNameOf(req.headers);
    const isControl = url.pathname.startsWith('/_batchron/');
    const body = await guardAwsRequest(req, { service: isControl ? 'control' : service, allowedHosts: opts.allowedHosts });
    if (body instanceof AwsError) return write(res, errorResponse(body), req);
    const request: AwsRequest = {
      service: service ?? '',
      region,
      method: req.method ?? 'GET',
      path: decodeURIComponent(url.pathname),
      query: url.searchParams,
      headers: req.headers,
      body,
    };
    let response: AwsResponse;
    try {
      if (isControl && opts.control) {
        response = await opts.control(request);
      } else {
        const target = byName.get(request.service);
        if (target) await opts.authorize?.(request, req.url ?? '/');
        if (!target) {
          throw new AwsError(
            'UnknownServiceException',
            `The local stack does not emulate the service '${request.service || 'unknown'}' (it serves ${[...byName.keys()].join(', ')}).`,
            400,
          );
        }
        response = await target.handle(request);
      }
    } catch (error) {
      response = errorResponse(error);
      if (response.status >= 500) opts.onError?.(error, request);
    }
    write(res, response);
  }

  const host = opts.host ?? '127.0.0.1';
  assertLoopbackBind(host);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Turns a thrown value into AWS's error shape; anything unexpected is a 500 with no internals. */
export function errorResponse(error: unknown): AwsResponse {
  const e =
    error instanceof AwsError
      ? error
      : new AwsError('InternalFailure', 'The local stack failed to process the request.', 500);
  return {
    status: e.status,
    headers: { 'x-amzn-ErrorType': e.code },
    body: { __type: e.code, message: e.message, Message: e.message, ...e.fields },
  };
}

/** Writes a response; `unread` is a request answered before its body was read, whose rest is discarded. */
function write(res: ServerResponse, r: AwsResponse, unread?: IncomingMessage): void {
  const headers: Record<string, string> = { 'x-amzn-RequestId': randomUUID(), ...r.headers };
  let payload: Buffer | string | undefined;
  if (r.body === undefined || r.body === null) payload = undefined;
  else if (Buffer.isBuffer(r.body) || typeof r.body === 'string') payload = r.body;
  else {
    payload = JSON.stringify(r.body);
    headers['content-type'] ??= 'application/json';
  }
  if (payload !== undefined) headers['content-length'] = String(Buffer.byteLength(payload));
  else headers['content-length'] = '0';
  res.writeHead(r.status, headers);
  res.end(payload);
  if (unread) discardUnreadBody(unread);
}

function emptyRequest(): AwsRequest {
  return {
    service: '',
    region: DEFAULT_REGION,
    method: '',
    path: '',
    query: new URLSearchParams(),
    headers: {},
    body: Buffer.alloc(0),
  };
}

/** Parses a JSON request body, answering AWS's SerializationException for bad JSON. */
export function jsonBody<T = Record<string, unknown>>(req: AwsRequest): T {
  if (req.body.length === 0) return {} as T;
  try {
    return JSON.parse(req.body.toString('utf8')) as T;
  } catch {
    throw new AwsError('SerializationException', 'The request body is not valid JSON.', 400);
  }
}
