/**
 * What `osls deploy` refuses before anything reaches AWS (the plugin's before:deploy:deploy
 * hook): placeholder network values and the example job image, which `osls package` and
 * `npm start` accept so the project works offline.
 */
import { describe, expect, it } from 'vitest';
// @ts-expect-error the plugin is plain ESM JavaScript (osls loads it as is), without type declarations
import BatchronPlugin, { EXAMPLE_IMAGE } from '../../serverless/batchron-plugin.mjs';

class UserError extends Error {}

/** The slice of osls the hook reads: the resolved `custom` block and osls's user-error class. */
function deployCheck(custom: Record<string, unknown>): () => void {
  const serverless = { service: { custom }, classes: { Error: UserError } };
  const plugin = new BatchronPlugin(serverless, {});
  return () => plugin.checkDeployParams();
}

const network = { subnets: 'subnet-0123456789abcdef0', securityGroupIds: 'sg-0123456789abcdef0' };

describe('deploy checks', () => {
  it('refuses to deploy job definitions on the example image, naming them and how to push one', () => {
    const check = deployCheck({ network, batchron: { jobDefinitions: { hello: { image: EXAMPLE_IMAGE }, mine: { image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/jobs:1' } } } });
    expect(check).toThrow(UserError);
    expect(check).toThrow(/jobDefinitions hello use the example image .*JobRepositoryUri.*--param="jobImage=<uri>:<tag>"/);
  });

  it('refuses placeholder subnets and security groups', () => {
    expect(deployCheck({ network: { subnets: 'subnet-placeholder', securityGroupIds: 'sg-placeholder' }, batchron: { jobDefinitions: {} } })).toThrow(
      /set subnets and securityGroupIds/,
    );
  });

  it('lets a deployment with real network values and its own image through', () => {
    expect(deployCheck({ network, batchron: { jobDefinitions: { hello: { image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/jobs:1' } } } })).not.toThrow();
  });
});
