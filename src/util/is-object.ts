/** A JSON object: not null, not an array (a parsed answer or file may be any JSON value). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
