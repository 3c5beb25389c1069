import type { Test } from 'tap'
import { SMTPServer } from 'smtp-server'
import { simpleParser, type ParsedMail } from 'mailparser'
import type { AddressInfo } from 'node:net'

export interface TestSmtp {
  url: string
  port: number
  /** Every message accepted, parsed (mailparser). */
  messages: ParsedMail[]
  /** Recipients refused (each RCPT TO answered with 451 or 550), in order. */
  refused: string[]
  /** While set, every RCPT TO gets this code (451: try later; 550: no such mailbox). */
  refuseWith: number | undefined
  /** Resolves once `n` messages have arrived (rejects after `ms`). */
  waitFor: (n: number, ms?: number) => Promise<ParsedMail[]>
  close: () => Promise<void>
}

/**
 * A real SMTP server (smtp-server) on a loopback port, no TLS, no authentication, that parses what it accepts:
 * what Gatehouse sent is read as a mail client would read it. Closed when the test ends.
 */
export async function startSmtp (t: Test, port = 0): Promise<TestSmtp> {
  const state: TestSmtp = {
    url: '',
    port: 0,
    messages: [],
    refused: [],
    refuseWith: undefined,
    waitFor: async (n, ms = 10_000) => {
      const deadline = Date.now() + ms
      while (state.messages.length < n) {
        if (Date.now() > deadline) throw new Error(`${state.messages.length} of ${n} messages arrived`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      return state.messages
    },
    close: async () => { await new Promise<void>((resolve) => server.close(() => resolve())) }
  }
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo (address, _session, callback) {
      if (state.refuseWith === undefined) return callback()
      state.refused.push(address.address)
      callback(Object.assign(new Error(state.refuseWith >= 500 ? 'no such mailbox' : 'try again later'), { responseCode: state.refuseWith }))
    },
    onData (stream, _session, callback) {
      simpleParser(stream).then((mail) => { state.messages.push(mail); callback() }, callback)
    }
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => resolve())
  })
  server.on('error', () => {})
  state.port = (server.server.address() as AddressInfo).port
  state.url = `smtp://127.0.0.1:${state.port}`
  t.teardown(state.close)
  return state
}
