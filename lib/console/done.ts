/**
 * What a console page says after an action: the message of its `done` query, or undefined for a value the page does
 * not know. Own keys only: `?done=toString` must not print a function's source (an `in` or a plain index would).
 */
export function doneMessage (messages: Readonly<Record<string, string | undefined>>, done: unknown): string | undefined {
  return typeof done === 'string' && Object.hasOwn(messages, done) ? messages[done] : undefined
}
