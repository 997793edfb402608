/** A copy of `value` without its undefined properties (an AWS input or a template with optional fields). */
export function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
