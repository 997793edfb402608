/**
 * Batch's restJson1 routes, taken from the SDK's own operation table
 * (`@aws-sdk/client-batch`): every operation is a POST to `/v1/<lowercased name>` with
 * a JSON body, except the tag operations on `/v1/tags/{resourceArn}` (POST, GET, DELETE
 * with `tagKeys` in the query string).
 */
import { AwsError, type AwsRequest } from '#local/contracts';
import { jsonBody } from '#local/endpoint';
import { fairShareNotEmulated } from './resources.ts';

export type Body = Record<string, unknown>;

/** Operation name as Batch names it (and as fault injection keys it). */
export type BatchOperation =
  | 'CreateComputeEnvironment'
  | 'UpdateComputeEnvironment'
  | 'DeleteComputeEnvironment'
  | 'DescribeComputeEnvironments'
  | 'CreateJobQueue'
  | 'UpdateJobQueue'
  | 'DeleteJobQueue'
  | 'DescribeJobQueues'
  | 'RegisterJobDefinition'
  | 'DeregisterJobDefinition'
  | 'DescribeJobDefinitions'
  | 'SubmitJob'
  | 'DescribeJobs'
  | 'ListJobs'
  | 'CancelJob'
  | 'TerminateJob'
  | 'TagResource'
  | 'ListTagsForResource'
  | 'UntagResource';

const POST_OPERATIONS: BatchOperation[] = [
  'CreateComputeEnvironment',
  'UpdateComputeEnvironment',
  'DeleteComputeEnvironment',
  'DescribeComputeEnvironments',
  'CreateJobQueue',
  'UpdateJobQueue',
  'DeleteJobQueue',
  'DescribeJobQueues',
  'RegisterJobDefinition',
  'DeregisterJobDefinition',
  'DescribeJobDefinitions',
  'SubmitJob',
  'DescribeJobs',
  'ListJobs',
  'CancelJob',
  'TerminateJob',
];

/** The scheduling-policy operations (fair-share scheduling), refused with a clear message. */
const SCHEDULING_POLICY_PATHS = new Set(
  ['CreateSchedulingPolicy', 'UpdateSchedulingPolicy', 'DeleteSchedulingPolicy', 'DescribeSchedulingPolicies', 'ListSchedulingPolicies'].map(
    (op) => `/v1/${op.toLowerCase()}`,
  ),
);

const BY_PATH = new Map(POST_OPERATIONS.map((op) => [`/v1/${op.toLowerCase()}`, op]));
const TAG_OPERATIONS: Record<string, BatchOperation> = {
  POST: 'TagResource',
  GET: 'ListTagsForResource',
  DELETE: 'UntagResource',
};

export interface RoutedRequest {
  operation: BatchOperation;
  /** The JSON body, with `resourceArn` (and `tagKeys` for UntagResource) merged in for tag routes. */
  body: Body;
}

/** Finds the operation a request is for and reads its input; unknown routes get AWS's 404 shape. */
export function route(req: AwsRequest): RoutedRequest {
  const path = req.path.replace(/\/+$/, '');
  if (path.startsWith('/v1/tags/')) {
    const operation = TAG_OPERATIONS[req.method];
    if (!operation) throw unknownOperation(req);
    const body: Body = req.method === 'POST' ? jsonBody(req) : {};
    body.resourceArn = path.slice('/v1/tags/'.length);
    if (operation === 'UntagResource') body.tagKeys = req.query.getAll('tagKeys');
    return { operation, body };
  }
  const operation = BY_PATH.get(path.toLowerCase());
  if (SCHEDULING_POLICY_PATHS.has(path.toLowerCase())) throw fairShareNotEmulated();
  if (!operation || req.method !== 'POST') throw unknownOperation(req);
  const body = jsonBody(req);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AwsError('SerializationException', 'The request body must be a JSON object.', 400);
  }
  return { operation, body };
}

function unknownOperation(req: AwsRequest): AwsError {
  return new AwsError(
    'UnknownOperationException',
    `The local Batch does not implement ${req.method} ${req.path}.`,
    404,
  );
}
