/** How a rejected argument is named in an error message: its type and size, never its content. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `a string of length ${value.length}`;
  if (value === null) return 'null';
  if (typeof value === 'object' || typeof value === 'function') return `a value of type ${typeof value}`;
  return `${String(value)}`;
}
