/**
 * What must hold of any answer of the HTTP API to any request (the API fuzz in process,
 * test/unit/fuzz-api.test.ts, and its sample over real HTTP, test/integration/api.test.ts):
 * no 5xx; every 4xx body `{ error: { code, message } }` with words in them; every 400 with
 * issues, each naming its field.
 */

export interface ErrorBody {
  error?: { code?: unknown; message?: unknown; issues?: { path?: unknown; message?: unknown }[] };
}

function vague(text: unknown): boolean {
  return typeof text !== 'string' || text.trim() === '' || /\[object Object\]|undefined|NaN/.test(text);
}

/** The problem with `res` as the answer to `req`, or undefined. */
export function problemWith(req: { method: string }, res: { status: number; text: string }): string | undefined {
  if (res.status >= 500) return `a ${res.status}`;
  if (res.status < 400) return undefined;
  if (req.method === 'HEAD') return undefined; // no body by definition
  let parsed: ErrorBody;
  try {
    parsed = JSON.parse(res.text) as ErrorBody;
  } catch {
    return `a ${res.status} whose body is not JSON`;
  }
  const e = parsed.error;
  if (!e || typeof e.code !== 'string' || vague(e.code) || vague(e.message)) return `a ${res.status} body that is not { error: { code, message } }`;
  if (res.status === 400) {
    if (!Array.isArray(e.issues) || e.issues.length === 0) return 'a 400 without issues naming the field';
    for (const i of e.issues) if (typeof i.path !== 'string' || i.path === '' || vague(i.message)) return `a 400 issue without a field or with a vague message: ${JSON.stringify(i)}`;
  }
  return undefined;
}
