import { existsSync, readFileSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'
import { parseArgs } from 'node:util'
import { loadConfig } from '../lib/config.js'
import { systemClock } from '../lib/clock.js'
import { openStorage } from '../lib/stores/index.js'
import { sqlitePath } from '../lib/stores/sqlite/index.js'
import { PROJECT_ROOT } from '../lib/paths.js'
import type { Storage } from '../lib/stores/types.js'
import { COMMAND_GROUPS, findCommand, findGroup } from './commands.js'
import { parserOptions, STREAMED, UsageError, type Command, type Context, type Flags, type Input } from './command.js'
import { commandText, groupText, usageText } from './help.js'

/**
 * `gatehouse`, the command line: reads the arguments, finds the command in the table (cli/commands.ts; each
 * group's commands live in cli/<group>.ts), runs it, and reports. It reads the same environment as the server
 * and uses the same stores and services. JSON on stdout and exit 0 on success; one line on stderr and exit 1
 * on failure. Secrets are read from stdin, never from argv.
 */
const HELP_FLAGS = new Set(['--help', '-h'])

async function run (argv: string[]): Promise<unknown> {
  const [first] = argv
  if (first === undefined || first === 'help' || HELP_FLAGS.has(first)) return print(usageText(COMMAND_GROUPS))
  if (first === '--version' || first === '-v' || first === 'version') return print(version())

  const group = findGroup(first)
  if (group === undefined) throw new UsageError(`unknown command: ${first}`)
  const wantsHelp = argv.some((a) => HELP_FLAGS.has(a))
  const rest = argv.slice(1).filter((a) => !HELP_FLAGS.has(a))
  const command = findCommand(group, undefined) ?? findCommand(group, rest[0])
  const args = command?.name === undefined ? rest : rest.slice(1)
  // `gatehouse users`, `gatehouse users --help`, `gatehouse users add --help`: help, before anything is opened.
  if (wantsHelp || (command === undefined && rest[0] === undefined)) return print(command === undefined ? groupText(group) : commandText(group, command))
  if (command === undefined) throw new UsageError(`unknown command: ${group.name} ${rest[0] ?? ''}`)
  return runCommand(command, args)
}

async function runCommand (command: Command, args: string[]): Promise<unknown> {
  const { values, positionals } = parseArgs({ args, options: parserOptions(command), allowPositionals: command.positionals, strict: true })
  const config = loadConfig(process.env)
  let storage: Storage | undefined
  const context: Context = {
    config,
    clock: systemClock,
    groups: COMMAND_GROUPS,
    async storage () {
      if (storage === undefined) {
        warnIfNewDatabase(config.databaseUrl)
        storage = await openStorage(config.databaseUrl)
      }
      return storage
    }
  }
  try {
    // parseArgs typed the values from the same flags the command declared (FlagValues).
    return await command.run({ values: values as Input<Flags>['values'], positionals }, context)
  } finally {
    await storage?.close()
  }
}

/** Help and version text: plain text on stdout, exit 0 (not JSON: they are for people). */
function print (text: string): typeof STREAMED {
  process.stdout.write(text + '\n')
  return STREAMED
}

function version (): string {
  const pkg = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }
  return `gatehouse ${pkg.version}`
}

/**
 * A relative DATABASE_URL (sqlite:./x.db) is relative to the working directory: run from another folder,
 * the CLI would silently work on a new, empty database. Say so on stderr (the command still runs).
 */
function warnIfNewDatabase (databaseUrl: string): void {
  if (!databaseUrl.startsWith('sqlite:')) return
  const path = sqlitePath(databaseUrl)
  if (path === ':memory:' || isAbsolute(databaseUrl.slice('sqlite:'.length)) || existsSync(path)) return
  process.stderr.write(`gatehouse: warning: no database at ${path} yet; creating a new, empty one (set DATABASE_URL to use another)\n`)
}

run(process.argv.slice(2)).then(
  (result) => { if (result !== STREAMED) process.stdout.write(JSON.stringify(result) + '\n') },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err)
    // CONTRACT: a failure is one line on stderr (the usage is one `gatehouse --help` away).
    process.stderr.write(`gatehouse: ${message.split('\n')[0]}${err instanceof UsageError ? ' (see gatehouse --help)' : ''}\n`)
    process.exitCode = 1
  }
)
