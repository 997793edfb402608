/** The integration tier's DynamoDB Local (test/helpers/global-setup.ts) for one test file. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, inject } from 'vitest';
import { createEngineTable } from '#test/helpers/engine';

/** A file's clients of DynamoDB Local (set before its tests) and the engine tables it makes. */
export interface LocalDynamo {
  readonly client: DynamoDBClient;
  /** A document client as the functions' own (undefined values removed). */
  readonly doc: DynamoDBDocumentClient;
  /** Creates a table of the engine's shape named `name`; returns the name. */
  table(name: string, projections?: 'narrow' | 'all'): Promise<string>;
}

/** Connects to DynamoDB Local before the file's tests and disconnects after them; call at the top of a test file. */
export function useDynamoLocal(): LocalDynamo {
  let client: DynamoDBClient | undefined;
  let doc: DynamoDBDocumentClient | undefined;
  beforeAll(() => {
    client = new DynamoDBClient({ endpoint: inject('dynamodbUrl'), region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  });
  afterAll(() => client?.destroy());
  return {
    get client() {
      if (!client) throw new Error('DynamoDB Local is connected in beforeAll');
      return client;
    },
    get doc() {
      if (!doc) throw new Error('DynamoDB Local is connected in beforeAll');
      return doc;
    },
    async table(name, projections = 'narrow') {
      await createEngineTable(this.client, name, projections);
      return name;
    },
  };
}
