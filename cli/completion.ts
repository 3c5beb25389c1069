import { command, STREAMED, UsageError, type CommandGroup } from './command.js'

/**
 * `gatehouse completion bash`: a bash completion script written from the command table (cli/commands.ts), so it
 * offers exactly the groups, commands and flags that dispatch and `--help` know. Where nothing matches (USERNAME,
 * FILE …), bash falls back to file names.
 */
export function bashCompletion (groups: readonly CommandGroup[]): string {
  /** bash's `${COMP_WORDS[i]}` (written so, as the string is bash, not a template). */
  const word = (i: string) => '$' + `{COMP_WORDS[${i}]}`
  const words = (list: readonly string[]) => `'${list.join(' ')}'`
  const flagsOf = (flags: object) => [...Object.keys(flags).map((f) => `--${f}`), '--help']
  const branches = groups.map((group) => {
    const self = group.commands.find((c) => c.name === undefined)
    if (self !== undefined) return `    ${group.name}) words=${words(flagsOf(self.flags))} ;;`
    const names = group.commands.map((c) => c.name ?? '')
    return [
      `    ${group.name})`,
      `      if [ "$COMP_CWORD" -eq 2 ]; then words=${words([...names, '--help'])}`,
      '      else',
      `        case "${word('2')}" in`,
      ...group.commands.map((c) => `          ${c.name ?? ''}) words=${words(flagsOf(c.flags))} ;;`),
      '        esac',
      '      fi ;;'
    ].join('\n')
  })
  return [
    '# bash completion for gatehouse: written by `gatehouse completion bash` from its command table.',
    '# Load it with: source <(gatehouse completion bash)   (or save it under ~/.local/share/bash-completion/completions/gatehouse)',
    '_gatehouse () {',
    `  local cur="${word('COMP_CWORD')}" words=''`,
    '  if [ "$COMP_CWORD" -eq 1 ]; then',
    `    words=${words([...groups.map((g) => g.name), '--help', '--version'])}`,
    '  else',
    `  case "${word('1')}" in`,
    ...branches,
    '  esac',
    '  fi',
    '  COMPREPLY=($(compgen -W "$words" -- "$cur"))',
    '}',
    'complete -o default -F _gatehouse gatehouse',
    ''
  ].join('\n')
}

/** `gatehouse completion …`: shell completion (optional; bash only). */
export const completion: CommandGroup = {
  name: 'completion',
  summary: 'shell completion',
  commands: [
    command({
      name: undefined,
      summary: 'print a bash completion script for every group, command and flag (plain text, not JSON): source <(gatehouse completion bash)',
      usage: ['bash'],
      positionals: true,
      flags: {},
      async run ({ positionals }, { groups }) {
        if (positionals.length !== 1 || positionals[0] !== 'bash') throw new UsageError('expected the shell: bash (the one supported)')
        process.stdout.write(bashCompletion(groups))
        return STREAMED
      }
    })
  ]
}
