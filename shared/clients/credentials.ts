/**
 * The credentials every client of this code base signs with. On AWS that is the SDK's own
 * default chain (the function role's variables, which Lambda sets). The local Lambda runtime
 * runs every function in one process, so it cannot give each its own variables: it installs
 * a source here (as local deploy installs the stack's clock in `#shared/time`) that answers
 * the credentials of the function whose handler is running, per call.
 */
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';

/** Credentials as the SDK takes them. */
export interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}
type Provider = (options?: Record<string, unknown>) => Promise<AwsCredentialIdentity>;

let source: (() => AwsCredentialIdentity | undefined) | undefined;
let chain: Provider | undefined;

/**
 * Installs (or with `undefined` removes) a source asked first on every request; when it
 * answers undefined the default chain is used. Never set on AWS.
 */
export function setCredentialSource(next: (() => AwsCredentialIdentity | undefined) | undefined): void {
  source = next;
}

/**
 * The `credentials` option of every client. Marked `memoized` so the SDK asks it on every
 * request instead of keeping the first answer; the default chain memoizes itself.
 */
export const credentials: Provider & { memoized: true } = Object.assign(
  async (options?: Record<string, unknown>) => source?.() ?? (chain ??= fromNodeProviderChain())(options),
  { memoized: true as const },
);
