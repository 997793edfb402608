/**
 * Sign-in on AWS: OpenID Connect's authorization code flow with PKCE (RFC 7636) against
 * the deployment's Cognito user pool or the team's own issuer. The ID token is sent as a
 * bearer token to `/ui/…`, where the HTTP API's JWT authorizer checks it; it is kept in
 * this tab's sessionStorage only. Locally the gateway's token + cookie exchange is used instead.
 */
export interface OidcConfig {
  signIn: 'oidc';
  authorizeUrl: string;
  tokenUrl: string;
  clientId: string;
}

const KEY = 'batchron.oidc';
const TOKEN = 'batchron.idToken';

function base64url(bytes: ArrayBuffer | Uint8Array): string {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The S256 code challenge of a verifier. */
export async function codeChallenge(verifier: string): Promise<string> {
  return base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
}

function redirectUri(): string {
  return `${location.origin}/`;
}

/** Sends the browser to the identity provider. */
export async function beginSignIn(config: OidcConfig): Promise<void> {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const state = base64url(crypto.getRandomValues(new Uint8Array(16)));
  sessionStorage.setItem(KEY, JSON.stringify({ verifier, state, hash: location.hash }));
  const url = new URL(config.authorizeUrl);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri(),
    scope: 'openid email profile',
    code_challenge: await codeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
  }).toString();
  location.assign(url.toString());
}

/**
 * Back from the provider with `?code=&state=`: the code leaves the address bar, is traded
 * for the ID token, and the view the user was on comes back. Undefined when there is no code.
 */
export async function completeSignIn(config: OidcConfig): Promise<string | undefined> {
  const url = new URL(location.href);
  const code = url.searchParams.get('code');
  const state = url.searchParams.get('state');
  if (!code) return storedToken();
  history.replaceState(null, '', url.pathname);
  const saved = JSON.parse(sessionStorage.getItem(KEY) ?? '{}') as { verifier?: string; state?: string; hash?: string };
  sessionStorage.removeItem(KEY);
  if (!saved.verifier || saved.state !== state) throw new Error('The sign-in answer does not match the request this tab made; sign in again.');
  const res = await fetch(config.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: config.clientId, code, redirect_uri: redirectUri(), code_verifier: saved.verifier }),
  });
  if (!res.ok) throw new Error(`The identity provider refused the sign-in (${res.status}).`);
  const { id_token: idToken } = (await res.json()) as { id_token?: string };
  if (!idToken) throw new Error('The identity provider returned no ID token.');
  sessionStorage.setItem(TOKEN, idToken);
  if (saved.hash) history.replaceState(null, '', `${url.pathname}${saved.hash}`);
  return idToken;
}

export function storedToken(): string | undefined {
  return sessionStorage.getItem(TOKEN) ?? undefined;
}

export function forgetToken(): void {
  sessionStorage.removeItem(TOKEN);
}
