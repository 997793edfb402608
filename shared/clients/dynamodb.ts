/**
 * DynamoDB clients, built once per cold start. The endpoint comes from the standard
 * `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_DYNAMODB` variables, so the same code talks to
 * AWS or to the local stack.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { credentials } from './credentials.ts';

export const dynamodb = new DynamoDBClient({ credentials });
export const documentClient = DynamoDBDocumentClient.from(dynamodb, {
  marshallOptions: { removeUndefinedValues: true },
});
