import t from 'tap'
import { spawnSync } from 'node:child_process'
import { COMMAND_GROUPS } from '../../cli/commands.js'
import { parserOptions } from '../../cli/command.js'
import { commandLines, commandText, flagLabel } from '../../cli/help.js'
import { runCli } from '../support/oauth.js'

// The command table (cli/commands.ts) is where help text, dispatch and docs/cli.md come from: what a command's
// usage advertises must be what its parser accepts.

t.test('every flag a usage line names is a flag the command accepts, and every flag says what it does', async (t) => {
  for (const group of COMMAND_GROUPS) {
    const names = group.commands.map((c) => c.name ?? '')
    t.equal(new Set(names).size, names.length, `${group.name}: no command name twice`)
    for (const command of group.commands) {
      const label = `gatehouse ${group.name}${command.name === undefined ? '' : ` ${command.name}`}`
      t.ok(command.summary.length > 0, `${label}: a summary`)
      for (const line of commandLines(group, command)) {
        for (const [, flag] of line.matchAll(/--([a-z][a-z-]*)/g)) {
          t.ok(flag !== undefined && flag in command.flags, `${label}: --${flag} in its usage is a flag it accepts`)
        }
      }
      for (const [name, flag] of Object.entries(command.flags)) {
        t.ok(flag.description.length > 0, `${label} --${name}: a description`)
        if (flag.type === 'string') t.ok(flag.value, `${label} --${name}: a placeholder for its value`)
      }
    }
  }
})

t.test('a group name alone prints that group\'s help and exits 0, before the environment is read', async (t) => {
  const env = { DATABASE_URL: 'mysql://not-even-valid' }
  for (const group of ['users', 'clients', 'providers', 'keys']) {
    const run = await runCli([group], env)
    t.equal(run.code, 0, `gatehouse ${group}: exit 0`)
    t.match(run.stdout, new RegExp(`^gatehouse ${group}: `), 'the group\'s help')
    t.notMatch(run.stdout, /^usage:/m, 'not the whole usage')
    t.equal(run.stderr, '')
  }
  const unknown = await runCli(['users', 'frobnicate'], env)
  t.equal(unknown.code, 1, 'an unknown command in a group is still an error')
  t.match(unknown.stderr, /^gatehouse: unknown command: users frobnicate \(see gatehouse --help\)\n$/)
})

t.test('every flag the parser accepts is in its command\'s --help, with what it does (no undocumented flag)', async (t) => {
  for (const group of COMMAND_GROUPS) {
    for (const command of group.commands) {
      const label = `gatehouse ${group.name}${command.name === undefined ? '' : ` ${command.name}`}`
      const help = commandText(group, command)
      const lines = help.split('\n')
      t.ok(lines.some((l) => commandLines(group, command).some((u) => l.includes(u))), `${label} --help: its usage`)
      for (const name of Object.keys(parserOptions(command))) {
        const flag = command.flags[name]!
        const entry = lines.findIndex((l) => l.trimStart().startsWith(`${flagLabel(name, flag)} `))
        t.ok(entry >= 0, `${label} --help lists --${name} on a line of its own`)
        const firstWords = flag.description.split(' ').slice(0, 3).join(' ')
        t.ok(lines[entry]?.includes(firstWords), `${label} --help: --${name} with its description`)
      }
    }
  }
})

t.test('gatehouse GROUP CMD --help prints that command alone with all its flags, exit 0, before the environment is read', async (t) => {
  const env = { DATABASE_URL: 'mysql://not-even-valid' }
  const update = await runCli(['clients', 'update', '--help'], env)
  t.equal(update.code, 0)
  t.equal(update.stderr, '')
  for (const flag of ['--skip-consent', '--no-skip-consent', '--post-logout-redirect-uri URI', '--no-require-par', '--token-endpoint-auth-method METHOD']) {
    t.match(update.stdout, new RegExp(`^ {6}${flag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} `, 'm'), `${flag} is documented`)
  }
  t.notMatch(update.stdout, /gatehouse clients add /, 'not the other commands of the group')
  const add = await runCli(['users', 'add', '--help'], env)
  t.equal(add.code, 0)
  t.match(add.stdout, /^ {6}--password-stdin /m)
  t.notMatch(add.stdout, /gatehouse users list/, 'users add --help is not the whole users group')
  const setPassword = await runCli(['users', 'set-password', '-h'], env)
  t.equal(setPassword.code, 0)
  t.match(setPassword.stdout, /gatehouse users set-password USERNAME --password-stdin/)
})

t.test('gatehouse completion bash: a bash script that completes the groups, commands and flags of the table', async (t) => {
  const env = { DATABASE_URL: 'sqlite::memory:' }
  const script = await runCli(['completion', 'bash'], env)
  t.equal(script.code, 0, script.stderr)
  t.match(script.stdout, /^complete -o default -F _gatehouse gatehouse$/m)
  const complete = (line: string): string[] => {
    const probe = `${script.stdout}\nCOMP_WORDS=(${line}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _gatehouse; printf '%s\\n' "\${COMPREPLY[@]}"`
    const run = spawnSync('bash', ['--norc', '-c', probe], { encoding: 'utf8' })
    t.equal(run.status, 0, `bash ran the script (${run.stderr})`)
    return run.stdout.split('\n').filter(Boolean).sort()
  }
  t.same(complete('gatehouse us'), ['users'])
  t.same(complete('gatehouse users se'), ['sessions', 'set-password'])
  t.same(complete('gatehouse clients update --no-s'), ['--no-skip-consent'])
  t.same(complete('gatehouse openapi --'), ['--help'])
  for (const group of COMMAND_GROUPS) {
    for (const command of group.commands) {
      if (command.name === undefined) continue
      const flags = complete(`gatehouse ${group.name} ${command.name} --`)
      t.same(flags, [...Object.keys(parserOptions(command)).map((f) => `--${f}`), '--help'].sort(), `gatehouse ${group.name} ${command.name}: every flag it accepts`)
    }
  }
  const other = await runCli(['completion', 'fish'], env)
  t.equal(other.code, 1)
  t.match(other.stderr, /^gatehouse: expected the shell: bash/)
})
