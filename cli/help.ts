import type { Command, CommandGroup, Flag } from './command.js'

/**
 * The help text of `gatehouse`, produced from the command table (cli/commands.ts): the whole usage
 * (`gatehouse`, `gatehouse --help`), one group (`gatehouse users`, `gatehouse users --help`) and one
 * command with its flags (`gatehouse users add --help`). Plain text for people, not JSON.
 */

const WIDTH = 110

/** `gatehouse users add USERNAME …` for each accepted form of a command. */
export function commandLines (group: CommandGroup, command: Command): string[] {
  const head = ['gatehouse', group.name, command.name].filter((w) => w !== undefined).join(' ')
  return command.usage.map((form) => form === '' ? head : `${head} ${form}`)
}

/** `--grant g1,g2`: a flag as help text and docs/cli.md show it. */
export function flagLabel (name: string, flag: Flag): string {
  return flag.value === undefined ? `--${name}` : `--${name} ${flag.value}`
}

/** The whole usage: every group and command, then how the CLI reads its environment and reports. */
export function usageText (groups: readonly CommandGroup[]): string {
  return [
    'usage: gatehouse COMMAND [ARGS]   (gatehouse COMMAND --help for one command, gatehouse --version)',
    ...groups.map((g) => groupText(g)),
    '',
    'The CLI reads the same environment as the server (DATABASE_URL, ...): run it with the settings the server',
    'has. Without DATABASE_URL it uses data/gatehouse.db in the project folder, wherever it is run from.',
    'Output: JSON on stdout and exit 0; on failure one line on stderr and exit 1.'
  ].join('\n')
}

/** One group: its summary, then each command's forms with what it does. */
export function groupText (group: CommandGroup): string {
  return [`gatehouse ${group.name}: ${group.summary}`, ...group.commands.flatMap((c) => commandEntry(group, c))].join('\n')
}

/** One command in full: its group's line, its forms, what it does, and every flag with its description. */
export function commandText (group: CommandGroup, command: Command): string {
  const flags = Object.entries(command.flags).map(([name, flag]) => [flagLabel(name, flag), flag.multiple ? `${flag.description} (repeatable)` : flag.description] as const)
  const column = Math.max(0, ...flags.map(([label]) => label.length)) + 3
  return [
    `gatehouse ${group.name}: ${group.summary}`,
    ...commandEntry(group, command),
    ...(command.details ?? []).flatMap((line) => wrap(line, '      ')),
    ...(flags.length > 0 ? [''] : []),
    ...flags.flatMap(([label, description]) => wrap(description, ' '.repeat(6 + column), `      ${label.padEnd(column)}`))
  ].join('\n')
}

function commandEntry (group: CommandGroup, command: Command): string[] {
  return [...commandLines(group, command).map((line) => `  ${line}`), ...wrap(command.summary, '      ')]
}

/** `text` broken into lines of at most WIDTH columns at spaces, each starting with `indent` (the first with `first`). */
function wrap (text: string, indent: string, first = indent): string[] {
  const lines: string[] = []
  let line = first
  let empty = true
  for (const word of text.split(' ')) {
    if (!empty && line.length + 1 + word.length > WIDTH) {
      lines.push(line)
      line = indent
      empty = true
    }
    line += (empty ? '' : ' ') + word
    empty = false
  }
  lines.push(line)
  return lines
}
