import { Command, InvalidArgumentError, type Option } from 'commander';
import type { CliIO } from './io.js';

const COMPLETION_HELP = `
Example (in ~/.bashrc):
  eval "$(dbdoctor completion bash)"

Exit codes:
  0  printed     3  bad input (a shell dbdoctor has no script for)`;

/**
 * `dbdoctor completion bash|zsh|fish`: completion scripts generated from the commands and flags
 * commander knows, so a new flag is completed without anyone remembering to add it.
 */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

interface FlagInfo {
  readonly long: string;
  readonly description: string;
  readonly takesValue: boolean;
  readonly choices: readonly string[];
}

interface CommandInfo {
  readonly name: string;
  readonly description: string;
  readonly flags: readonly FlagInfo[];
}

function describe(program: Command): CommandInfo[] {
  return program.commands.map((command) => ({
    name: command.name(),
    description: command.description().split('\n')[0] ?? '',
    flags: command.options
      .filter((option: Option) => option.long !== undefined)
      .map((option: Option) => ({
        long: option.long ?? '',
        description: option.description,
        takesValue: option.required || option.optional,
        choices: option.argChoices ?? [],
      })),
  }));
}

export function completionScript(shell: Shell, program: Command): string {
  const commands = describe(program);
  switch (shell) {
    case 'bash':
      return bash(commands);
    case 'zsh':
      return zsh(commands);
    default:
      return fish(commands);
  }
}

function bash(commands: readonly CommandInfo[]): string {
  const cases = commands
    .map((command) => {
      const choiceCases = command.flags
        .filter((flag) => flag.choices.length > 0)
        .map((flag) => `        ${flag.long}) COMPREPLY=( $(compgen -W "${flag.choices.join(' ')}" -- "$cur") ); return ;;`)
        .join('\n');
      return `    ${command.name})\n      case "$prev" in\n${choiceCases}\n      esac\n      COMPREPLY=( $(compgen -W "${command.flags.map((flag) => flag.long).join(' ')} --help" -- "$cur") ) ;;`;
    })
    .join('\n');
  return `# bash completion for dbdoctor: eval "$(dbdoctor completion bash)"
_dbdoctor() {
  local cur prev
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${commands.map((command) => command.name).join(' ')} --help --version" -- "$cur") )
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases}
  esac
}
complete -F _dbdoctor dbdoctor
`;
}

function zsh(commands: readonly CommandInfo[]): string {
  const quote = (text: string): string => text.replace(/'/g, "'\\''").replace(/[[\]:]/g, (char) => `\\${char}`);
  const cases = commands
    .map((command) => {
      const specs = command.flags.map((flag) => {
        const value = flag.takesValue ? `:${flag.long.slice(2)}:${flag.choices.length > 0 ? `(${flag.choices.join(' ')})` : ''}` : '';
        return `'${flag.long}[${quote(flag.description)}]${value}'`;
      });
      return `    ${command.name})\n      _arguments ${[...specs, "'*:target:'"].join(' \\\n        ')} ;;`;
    })
    .join('\n');
  return `#compdef dbdoctor
# zsh completion for dbdoctor: dbdoctor completion zsh > "\${fpath[1]}/_dbdoctor"
_dbdoctor() {
  local -a commands
  commands=(
${commands.map((command) => `    '${command.name}:${quote(command.description)}'`).join('\n')}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  case $words[2] in
${cases}
  esac
}
_dbdoctor "$@"
`;
}

function fish(commands: readonly CommandInfo[]): string {
  const quote = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const lines = ['# fish completion for dbdoctor: dbdoctor completion fish > ~/.config/fish/completions/dbdoctor.fish', 'complete -c dbdoctor -f'];
  for (const command of commands) lines.push(`complete -c dbdoctor -n '__fish_use_subcommand' -a ${command.name} -d ${quote(command.description)}`);
  for (const command of commands) {
    for (const flag of command.flags) {
      const value = flag.takesValue ? (flag.choices.length > 0 ? ` -x -a ${quote(flag.choices.join(' '))}` : ' -r') : '';
      lines.push(`complete -c dbdoctor -n '__fish_seen_subcommand_from ${command.name}' -l ${flag.long.slice(2)}${value} -d ${quote(flag.description)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export function completionCommand(io: CliIO, program: () => Command): Command {
  return new Command('completion')
    .description('print a shell completion script: eval "$(dbdoctor completion bash)"')
    .argument('<shell>', SHELLS.join(' | '), (value: string) => {
      const shell = SHELLS.find((known) => known === value);
      if (!shell) throw new InvalidArgumentError(`expected one of ${SHELLS.join(', ')}`);
      return shell;
    })

    .addHelpText('after', COMPLETION_HELP)
    .action(async (shell: Shell) => io.out(completionScript(shell, program())));
}
