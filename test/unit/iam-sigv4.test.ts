/**
 * The local IAM's gate for requests signed with a deployed role's key: the signature is
 * recomputed with the role session's secret, whichever client signed (the SDKs sign an
 * x-amz-content-sha256 header, the AWS CLI does not), and the request must then be allowed.
 */
import { describe, expect, it } from 'vitest';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsRequest } from '#local/contracts';
import { LocalIam } from '#local/iam/index';

const ROLE = 'arn:aws:iam::000000000000:role/batchron-dev-fire';
const TABLE = 'arn:aws:dynamodb:us-east-1:000000000000:table/batchron-dev';

function iamWithRole(): LocalIam {
  const iam = new LocalIam();
  iam.putRole(ROLE, [{ Statement: [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: TABLE }] }]);
  return iam;
}

/** A DynamoDB request signed as a client would sign it, then read back as the endpoint sees it. */
async function signed(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, body: object, o: { contentSha256: boolean; tamper?: object }): Promise<AwsRequest> {
  const payload = JSON.stringify(body);
  const signer = new SignatureV4({ credentials, region: 'us-east-1', service: 'dynamodb', sha256: Sha256, applyChecksum: o.contentSha256 });
  const out = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    path: '/',
    query: {},
    headers: { host: '127.0.0.1:4566', 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.GetItem' },
    body: payload,
  } as Parameters<SignatureV4['presign']>[0]);
  const headers = Object.fromEntries(Object.entries(out.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
  return { service: 'dynamodb', region: 'us-east-1', method: 'POST', path: '/', query: new URLSearchParams(), headers, body: Buffer.from(o.tamper ? JSON.stringify(o.tamper) : payload) };
}

describe('requests signed with a deployed role key', () => {
  it.each([
    ['an SDK (signs x-amz-content-sha256)', true],
    ['the AWS CLI (signs no payload header)', false],
  ])('accepts a valid signature from %s and authorizes the request', async (_client, contentSha256) => {
    const iam = iamWithRole();
    const creds = iam.assumeRole(ROLE, 'batchron-dev-fire');
    const req = await signed(creds, { TableName: 'batchron-dev', Key: {} }, { contentSha256 });
    await expect(iam.authorizeRequest(req, '/')).resolves.toBeUndefined();
  });

  it('refuses a body changed after signing', async () => {
    const iam = iamWithRole();
    const req = await signed(iam.assumeRole(ROLE, 's'), { TableName: 'batchron-dev', Key: {} }, { contentSha256: false, tamper: { TableName: 'other', Key: {} } });
    await expect(iam.authorizeRequest(req, '/')).rejects.toMatchObject({ code: 'InvalidSignatureException', status: 403 });
  });

  it('refuses the access key signed with another secret, or without its session token', async () => {
    const iam = iamWithRole();
    const { accessKeyId, sessionToken } = iam.assumeRole(ROLE, 's');
    const wrongSecret = await signed({ accessKeyId, sessionToken, secretAccessKey: 'guess' }, { TableName: 'batchron-dev' }, { contentSha256: true });
    const noToken = await signed({ accessKeyId, secretAccessKey: 'guess' }, { TableName: 'batchron-dev' }, { contentSha256: true });
    await expect(iam.authorizeRequest(wrongSecret, '/')).rejects.toMatchObject({ code: 'InvalidSignatureException' });
    await expect(iam.authorizeRequest(noToken, '/')).rejects.toMatchObject({ code: 'UnrecognizedClientException' });
  });

  it("refuses what the role's policies do not allow, in DynamoDB's error shape", async () => {
    const iam = iamWithRole();
    const req = await signed(iam.assumeRole(ROLE, 'batchron-dev-fire'), { TableName: 'other', Key: {} }, { contentSha256: true });
    await expect(iam.authorizeRequest(req, '/')).rejects.toMatchObject({
      code: 'AccessDeniedException',
      status: 400,
      fields: { __type: 'com.amazon.coral.service#AccessDeniedException' },
      message:
        'User: arn:aws:sts::000000000000:assumed-role/batchron-dev-fire/batchron-dev-fire is not authorized to perform: dynamodb:GetItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/other because no identity-based policy allows the dynamodb:GetItem action',
    });
  });

  it('lets any other credentials through unchecked, as LocalStack does', async () => {
    const iam = iamWithRole();
    const req = await signed({ accessKeyId: 'test', secretAccessKey: 'test' }, { TableName: 'other' }, { contentSha256: true });
    await expect(iam.authorizeRequest(req, '/')).resolves.toBeUndefined();
  });
});
