import t from 'tap'
import { prettyDestination, prettyLine } from '../../../lib/ops/pretty-log.js'

const at = new Date(2026, 11, 7, 15, 4, 5, 123).getTime()

t.test('a record as one human line: time, level, pid, message, then the other fields as key=value', async (t) => {
  t.equal(prettyLine({ level: 30, time: at, pid: 4242, hostname: 'box', msg: 'Server listening at http://127.0.0.1:3000' }),
    '15:04:05.123 INFO  [4242] Server listening at http://127.0.0.1:3000')
  t.equal(prettyLine({ level: 40, time: at, pid: 7, hostname: 'box', reqId: 'r-1', event: 'login_failed', username: 'alice bob', n: 3, msg: 'login_failed' }),
    '15:04:05.123 WARN  [7] login_failed  reqId=r-1 event=login_failed username="alice bob" n=3',
    'a value with a space is quoted, a number bare')
  t.equal(prettyLine({ level: 50, time: at, pid: 1, msg: 'a worker died: restarting it', worker: 1, workerPid: 99, signal: 'SIGKILL' }),
    '15:04:05.123 ERROR [1] a worker died: restarting it  worker=1 workerPid=99 signal=SIGKILL')
  t.equal(prettyLine({ level: 30, time: at, pid: 1, msg: 'x', req: { method: 'GET', url: '/health' } }),
    '15:04:05.123 INFO  [1] x  req={"method":"GET","url":"/health"}', 'an object as JSON')
})

t.test('what a request sent cannot start a line of its own', async (t) => {
  const line = prettyLine({ level: 30, time: at, pid: 1, msg: 'bad path /x\n15:00:00.000 INFO  [1] forged', url: '/y\nforged' })
  t.equal(line.split('\n').length, 1, 'one line')
  t.equal(line, '15:04:05.123 INFO  [1] bad path /x\\n15:00:00.000 INFO  [1] forged  url="/y\\nforged"')
})

t.test('an error\'s stack goes on the lines below, indented', async (t) => {
  const line = prettyLine({ level: 50, time: at, pid: 1, msg: 'boom', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x (y.js:1:1)' } })
  t.equal(line, '15:04:05.123 ERROR [1] boom  err={"type":"Error","message":"boom"}\n    Error: boom\n        at x (y.js:1:1)')
})

t.test('colour only on a terminal', async (t) => {
  t.match(prettyLine({ level: 50, time: at, pid: 1, msg: 'm' }, true), '\x1b[31mERROR\x1b[0m')
  const written: string[] = []
  const plain = prettyDestination({ write: (text) => written.push(text) })
  plain.write(JSON.stringify({ level: 30, time: at, pid: 2, hostname: 'h', msg: 'hi' }) + '\n')
  plain.write('not json\n')
  t.same(written, ['15:04:05.123 INFO  [2] hi\n', 'not json\n'], 'one line per record; a line that is not JSON passes unchanged')
})
