import t from 'tap'
import { COMMAND_GROUPS } from '../../cli/commands.js'
import { commandLines } from '../../cli/help.js'
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
