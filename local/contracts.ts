/**
 * The seams between the pieces of the local stack. The endpoint parses HTTP and routes
 * by the SigV4 service name; a service answers AWS-shaped requests; Batch publishes to
 * the event bus; Scheduler and the bus invoke targets through the Lambda runtime.
 * Each piece takes the others through these interfaces so tests can wire them alone.
 */
import type { IncomingHttpHeaders } from 'node:http';

export const LOCAL_ACCOUNT = '000000000000';
export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_PORT = 4566;

/** A request the endpoint has read and attributed to a service. */
export interface AwsRequest {
  /** Signing name from the SigV4 credential scope (`batch`, `scheduler`, `dynamodb`, ...). */
  service: string;
  region: string;
  method: string;
  /** Decoded path without the query string, e.g. `/v1/submitjob`, `/schedules/nightly`. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** What a service answers; `body` is JSON-encoded unless it is a Buffer or string. */
export interface AwsResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/**
 * An error in AWS's own shape. For restJson1 services the endpoint writes it as the
 * HTTP status, the `x-amzn-ErrorType` header and `{"message": ...}` (plus `__type`), which
 * is what the SDKs read to raise the modeled exception class of the same name.
 */
export class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number = 400,
    /** Extra top-level fields some errors carry (e.g. `reason` on Scheduler's ValidationException). */
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AwsError';
  }
}

/** One emulated AWS service behind the shared endpoint. */
export interface LocalService {
  /** The SigV4 signing name this service answers to. */
  readonly signingName: string;
  handle(req: AwsRequest): Promise<AwsResponse>;
}

/** An EventBridge event as delivered to targets. */
export interface EventBridgeEvent<D = unknown> {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: D;
}

/** Where Batch publishes its state-change events; the local event bus implements it. */
export interface EventSink {
  publish(event: EventBridgeEvent): void;
}

/** Lambda invocation as the local Lambda runtime offers it to Scheduler and the bus. */
export interface LambdaInvoker {
  /** True when a function with this ARN or name is registered. */
  has(arnOrName: string): boolean;
  /**
   * Asynchronous invoke (`InvocationType: Event`): resolves once the event is accepted;
   * function errors are retried by Lambda's async rules, never reported to the caller.
   * Rejects only when the function does not exist or the invoke is throttled.
   */
  invokeAsync(arnOrName: string, payload: unknown): Promise<void>;
  /** Synchronous invoke (`RequestResponse`): resolves with the handler's result, rejects with its error. */
  invoke(arnOrName: string, payload: unknown): Promise<unknown>;
}

/** A Batch SubmitJob request, in the API's own (camelCase, restJson1) member names. */
export interface SubmitJobRequest {
  jobName: string;
  jobQueue: string;
  jobDefinition: string;
  arrayProperties?: { size?: number };
  dependsOn?: { jobId: string; type?: 'N_TO_N' | 'SEQUENTIAL' }[];
  parameters?: Record<string, string>;
  containerOverrides?: {
    command?: string[];
    environment?: { name: string; value: string }[];
    resourceRequirements?: { type: 'VCPU' | 'MEMORY' | 'GPU'; value: string }[];
    vcpus?: number;
    memory?: number;
  };
  retryStrategy?: {
    attempts?: number;
    evaluateOnExit?: { onStatusReason?: string; onReason?: string; onExitCode?: string; action: 'RETRY' | 'EXIT' | 'retry' | 'exit' }[];
  };
  timeout?: { attemptDurationSeconds?: number };
  propagateTags?: boolean;
  tags?: Record<string, string>;
  schedulingPriorityOverride?: number;
  shareIdentifier?: string;
}

/** What the Scheduler needs from Batch for the universal `aws-sdk:batch:submitJob` target. */
export interface BatchSubmitter {
  submitJob(req: SubmitJobRequest): Promise<{ jobId: string; jobName: string; jobArn: string }>;
}

/** Fault injection knobs shared by the stack's pieces; see local/faults.ts. */
export type { Faults } from './faults.ts';
