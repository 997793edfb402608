/**
 * The one AWS endpoint of the local stack (LocalStack's port 4566 by convention).
 * Like AWS's own front doors it tells services apart by the SigV4 credential scope
 * (`Credential=AKID/date/region/<service>/aws4_request`) and, for the JSON-RPC
 * protocols, the `X-Amz-Target` header. Any credentials work ("test"/"test", as LocalStack),
 * except a deployed role's: those are checked by `authorize` (local/iam/), signature and policies.
 * Requests under `/_batchron/` go to the stack's control API instead.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { AwsError, DEFAULT_REGION, type AwsRequest, type AwsResponse, type LocalService } from './contracts.ts';

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
  const server = createServer((req, res) => {
    void serve(req, res).catch((error: unknown) => {
      // serve() already answers errors; this only guards against a broken socket.
      if (!res.headersSent) res.writeHead(500).end();
      opts.onError?.(error, emptyRequest());
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const { service, region } = signingNameOf(req.headers);
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
      if (url.pathname.startsWith('/_batchron/') && opts.control) {
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

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
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

function write(res: ServerResponse, r: AwsResponse): void {
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
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
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
