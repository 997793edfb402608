/**
 * DynamoDB clients, built once per cold start. The endpoint comes from the standard
 * `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_DYNAMODB` variables, so the same code talks to
 * AWS or to the local stack.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export const dynamodb = new DynamoDBClient({});
export const documentClient = DynamoDBDocumentClient.from(dynamodb, {
  marshallOptions: { removeUndefinedValues: true },
});
