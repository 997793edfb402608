/**
 * Real `@aws-sdk` clients pointed at a local stack endpoint, with throwaway credentials.
 * Tests use these so every call crosses the wire protocol exactly as it would on AWS.
 */
import { BatchClient } from '@aws-sdk/client-batch';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const common = (endpoint: string) => ({
  endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  // Tests assert on the service's first answer; the SDK's own retries would hide it.
  maxAttempts: 1,
});

export function awsClients(endpoint: string) {
  const dynamodb = new DynamoDBClient(common(endpoint));
  return {
    batch: new BatchClient(common(endpoint)),
    scheduler: new SchedulerClient(common(endpoint)),
    dynamodb,
    doc: DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } }),
  };
}

/**
 * Records the name of every command `client` sends (`PutItemCommand`, …) for which `keep`
 * holds, until `stop()`; a test asserts what a call cost in requests.
 */
export function recordCommands(
  client: DynamoDBDocumentClient,
  keep: (input: Record<string, unknown>) => boolean = () => true,
): { commands: string[]; stop(): void } {
  const commands: string[] = [];
  const name = `recordCommands${++recorders}`;
  client.middlewareStack.add(
    (next, context) => (args) => {
      if (keep(args.input as Record<string, unknown>)) commands.push(context.commandName ?? '');
      return next(args);
    },
    { step: 'initialize', name },
  );
  return { commands, stop: () => void client.middlewareStack.remove(name) };
}

let recorders = 0;
