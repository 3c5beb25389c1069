/**
 * LOG_FORMAT=pretty: pino's JSON lines turned into one human line each, for development. Without a dependency
 * (pino-pretty is not installed): pino writes each record to a destination as one JSON line, which is parsed
 * back and formatted here. It costs a JSON.parse per line, which is why it is not the default; the JSON lines
 * are what a log pipeline should read.
 *
 *   15:04:05.123 INFO  [4242] Server listening at http://127.0.0.1:3000
 *   15:04:07.480 WARN  [4242] login_failed  reqId=… username=alice reason=bad_password
 */

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }
const COLOURS: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' }
/** What the line's fixed columns already say, or what says nothing to a developer. */
const SHOWN = new Set(['level', 'time', 'pid', 'hostname', 'msg'])

const pad = (n: number, width = 2) => String(n).padStart(width, '0')
const clock = (ms: number) => {
  const d = new Date(ms)
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
}
/** A value as the line shows it: a plain word bare, anything else (spaces, quotes, objects) as JSON. */
const shown = (value: unknown) => typeof value === 'string' && /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)

/** Control characters (U+0000–U+001F, U+007F) as JSON escapes; the rest unchanged. */
const escapeControls = (text: string) => {
  let out = ''
  for (const c of text) {
    const code = c.charCodeAt(0)
    out += code < 0x20 ? JSON.stringify(c).slice(1, -1) : code === 0x7f ? '\\u007f' : c
  }
  return out
}

/**
 * One pino record (its JSON line, parsed) as a human line: time, level, pid, message, then every other field as
 * key=value, and an error's stack on the lines below. `colour` wraps the level in ANSI colour (a terminal).
 */
export function prettyLine (record: Record<string, unknown>, colour = false): string {
  const level = typeof record.level === 'number' ? record.level : 30
  const name = (LEVELS[level] ?? String(level)).padEnd(5)
  const time = typeof record.time === 'number' ? clock(record.time) : '--:--:--.---'
  const fields: string[] = []
  let stack = ''
  for (const [key, value] of Object.entries(record)) {
    if (SHOWN.has(key) || value === undefined) continue
    if (key === 'err' && typeof value === 'object' && value !== null && typeof (value as { stack?: unknown }).stack === 'string') {
      stack = '\n    ' + ((value as { stack: string }).stack).split('\n').join('\n    ')
      const { stack: _stack, ...rest } = value as Record<string, unknown>
      fields.push(`err=${shown(rest)}`)
      continue
    }
    fields.push(`${key}=${shown(value)}`)
  }
  const label = colour ? `\x1b[${COLOURS[level] ?? '0'}m${name}\x1b[0m` : name
  // A message can carry what a request sent: control characters (a newline would start a forged line) are escaped.
  const msg = typeof record.msg === 'string' ? escapeControls(record.msg) : ''
  return `${time} ${label} [${String(record.pid ?? '-')}] ${msg}${fields.length > 0 ? '  ' + fields.join(' ') : ''}${stack}`
}

/** A pino destination that writes each record as prettyLine to `out` (a line that is not JSON passes unchanged). */
export function prettyDestination (out: { write: (text: string) => unknown, isTTY?: boolean } = process.stdout): { write: (line: string) => void } {
  const colour = out.isTTY === true && process.env.NO_COLOR === undefined
  return {
    write (line: string) {
      let record: unknown
      try { record = JSON.parse(line) } catch { out.write(line); return }
      out.write(typeof record === 'object' && record !== null ? prettyLine(record as Record<string, unknown>, colour) + '\n' : line)
    }
  }
}
