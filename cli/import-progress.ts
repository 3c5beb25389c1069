import cliProgress from 'cli-progress'
import type { ImportProgress } from '../lib/admin/user-import.js'

/**
 * How `gatehouse users import` shows its progress on standard error while the summary waits for standard
 * output: on a terminal, a progress bar (cli-progress) with the lines read, imported, skipped and rejected,
 * the rate and the time left; anywhere else (a log file, CI), one plain line every `intervalMs`. The time
 * left comes from the bytes read against the file's size; it is unknown for a pipe.
 */
export interface ProgressView {
  update (progress: ImportProgress): void
  stop (): void
}

export interface ProgressOptions {
  /** The input's size in bytes, when known (a file, or stdin redirected from one). */
  totalBytes: number | undefined
  /** Plain lines: at most one per interval. */
  intervalMs: number
}

const rate = (lines: number, ms: number) => ms > 0 ? Math.round(lines * 1000 / ms) : 0

export function progressView (stream: NodeJS.WriteStream, options: ProgressOptions): ProgressView {
  const started = performance.now()
  const { totalBytes } = options
  const known = totalBytes !== undefined && totalBytes > 0
  if (stream.isTTY) {
    const counts = '{lines} lines | {imported} imported | {skipped} skipped | {rejected} rejected | {rate} lines/s'
    const bar = new cliProgress.SingleBar({
      stream,
      format: known ? `import [{bar}] {percentage}% | ${counts} | {eta_formatted} left` : `import ${counts} | time left unknown`,
      hideCursor: true,
      etaBuffer: 50,
      fps: 5
    }, cliProgress.Presets.shades_classic)
    const payload = (p?: ImportProgress) => ({
      lines: p?.lines ?? 0,
      imported: p?.imported ?? 0,
      skipped: p?.skipped ?? 0,
      rejected: p?.rejected ?? 0,
      rate: rate(p?.lines ?? 0, performance.now() - started)
    })
    bar.start(known ? totalBytes : 1, 0, payload())
    return {
      update: (p) => { bar.update(known ? Math.min(p.bytes, totalBytes) : 0, payload(p)) },
      stop: () => { bar.stop() }
    }
  }
  let last = started
  return {
    update (p) {
      const now = performance.now()
      if (now - last < options.intervalMs) return
      last = now
      const elapsed = now - started
      let left = ''
      if (known && p.bytes > 0) left = `, about ${Math.max(0, Math.round((totalBytes - p.bytes) / (p.bytes / elapsed) / 1000))} s left`
      stream.write(`gatehouse: import: ${p.lines} lines read, ${p.imported} imported, ${p.updated} updated, ${p.skipped} skipped, ` +
        `${p.rejected} rejected, ${rate(p.lines, elapsed)} lines/s${left}\n`)
    },
    stop () {}
  }
}
